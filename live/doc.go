// Package live is the live snapshot socket of a worker: where it lives, how a
// worker serves its current view on it, and how a client fetches that view.
//
// A worker listens with [Listen] on a Unix socket inside a directory only its
// user can enter (by default [DefaultSocketPath]) and serves with [Serve]: on
// each connection it checks the peer's uid, writes one JSON object and a
// newline, and closes. The client sends nothing; [Fetch] reads the line and
// checks, in turn, who served it. This is the framing of OpenRTC's `top.sock`
// as well, so the same client reads both kinds of worker.
//
// The snapshot is fold.View's JSON, which is OpenRTC's snapshot with our
// fields added. [Decode] reads either kind; a [Reader] fetches successive
// snapshots and makes OpenRTC's read like ours (its cumulative cpu_pct turned
// into the share of a recent window, steady session starts, restarts seen);
// a [Converter] turns successive snapshots into the events a worker records,
// which is how `openrtc-replay record` gives a polled worker a recording.
//
// The package knows nothing of sampling: the worker passes the snapshot as a
// function returning bytes.
package live
