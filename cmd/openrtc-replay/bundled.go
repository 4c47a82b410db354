package main

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

//go:generate cp ../../fixtures/incident.zst bundled/incident.zst

// bundledFS holds the bundled incident recording, when it was there at
// build time. The directory pattern keeps the build working without it: the
// README always matches.
//
//go:embed bundled
var bundledFS embed.FS

// bundledName is the name the bundled recording goes by in messages.
const bundledName = "bundled incident (fixtures/incident.zst)"

// errNoBundled is returned when the binary was built without the bundled
// recording.
var errNoBundled = errors.New("no input given, and this binary was built without the bundled incident recording " +
	"(cmd/openrtc-replay/bundled/incident.zst; run go generate ./cmd/openrtc-replay): pass a recording, a directory or -")

// bundledRecording returns the embedded incident recording.
func bundledRecording() ([]byte, error) {
	b, err := bundledFS.ReadFile("bundled/incident.zst")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errNoBundled
	}
	return b, err
}

// spoolBundled writes the bundled recording to a temporary file, which the
// reader can index and seek like any other; remove removes it.
func spoolBundled() (path string, remove func(), err error) {
	b, err := bundledRecording()
	if err != nil {
		return "", nil, err
	}
	f, err := os.CreateTemp("", "openrtc-incident-*.zst")
	if err != nil {
		return "", nil, fmt.Errorf("bundled incident: %w", err)
	}
	remove = func() { os.Remove(f.Name()) }
	if _, err := f.Write(b); err != nil {
		f.Close()
		remove()
		return "", nil, fmt.Errorf("bundled incident: %w", err)
	}
	if err := f.Close(); err != nil {
		remove()
		return "", nil, fmt.Errorf("bundled incident: %w", err)
	}
	return f.Name(), remove, nil
}
