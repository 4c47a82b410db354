// Package bucket keeps recordings beyond the worker's disk: it uploads each
// closed recording file to a bucket, and reads recordings back from a
// bucket with ranged reads, fetching only the footer and the frames a view
// needs.
//
// Buckets are named by gocloud.dev/blob URLs, with the path after the
// bucket name as the prefix: s3://recordings/prod?region=eu-west-1,
// gs://recordings/prod, azblob://recordings/prod, file:///var/lib/recordings.
// Files of a worker go under <prefix>/<worker>@<host>/<file name> ([Folder]),
// the worker being the recording's file-name prefix (recorder.RecordingName)
// and the folder the key recorder.GroupWorkers gives it, so that the pods
// of one deployment, which share a worker name, do not share a folder. The
// drivers are
// registered by importing them, as gocloud.dev expects: import
// gocloud.dev/blob/s3blob, gcsblob, azureblob or fileblob for the schemes
// your worker uses. openrtc-replay registers s3:// and file://, and gs://
// and azblob:// when built with -tags gcs or -tags azure.
//
// Uploading is opt-in and never blocks the worker: the recorder hands each
// closed file to the [Uploader]'s goroutine, which retries with backoff
// while the bucket is unreachable, keeps a bounded backlog on local disk,
// and reports what it had to give up, in the bucket too: a note
// <file name>.lost.json where the file would have been. Wire it in with
// introspect.Options.Upload.
package bucket
