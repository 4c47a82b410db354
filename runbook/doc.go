// Package runbook holds the density-debugging runbook,
// density-debugging.md: how to find the session that stalled, burned the
// CPU or leaked, live with `openrtc-replay live` and after the fact from a
// recording, and what to change in the Go code.
//
// The package has no code of its own. Its tests run every command the
// runbook (and the repository's README) shows against the bundled incident,
// fixtures/incident.zst, and against a live demo worker, and check that the
// output shows what the text says it shows, so a runbook that drifts from
// the tool fails CI. The conventions that mark the commands are described at
// the end of the runbook.
package runbook
