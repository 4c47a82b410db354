package introspect

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/openrtc-go/introspect/recorder"
)

// A RecordingUploader takes the closed files of a rotated recording
// somewhere safer than the worker's disk; bucket.Uploader (package bucket)
// uploads them to S3, GCS, Azure or a directory. Set it as Options.Upload
// with Options.Record naming a directory: Start calls Start(dir, worker)
// (the recording's worker name and host, as its file headers say) before
// the first file is opened, the recorder calls FileClosed for each
// file it closes (on its writer goroutine: it must return at once) and
// spares the files Keep reports from its retention caps, and Close calls
// Close after the recording is closed.
type RecordingUploader interface {
	Start(dir string, worker recorder.WorkerID) error
	FileClosed(path string)
	Keep(path string) bool
	Close() error
}

var errUploadNeedsDir = errors.New("introspect: Options.Upload needs Options.Record to name a directory (files rotate there, and each closed one is uploaded)")

// startUpload starts the uploader on the recording directory, before the
// recorder opens its first file, so that the files an earlier run left
// (the last one unclosed, if it was killed) are the uploader's to send.
func startUpload(up RecordingUploader, dir string, worker recorder.WorkerID) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("introspect: recording: %w", err)
	}
	if err := up.Start(dir, worker); err != nil {
		return fmt.Errorf("introspect: upload: %w", err)
	}
	return nil
}

func recordsToDir(path string) bool { return path != "" && !strings.HasSuffix(path, ".zst") }
