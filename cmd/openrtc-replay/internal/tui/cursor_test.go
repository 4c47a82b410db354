package tui

import (
	"testing"

	"github.com/openrtc-go/introspect/fold"
	"github.com/openrtc-go/introspect/recorder"
)

// A fold.Cursor is a Source as it is: the command layer passes it
// straight to Run.
var _ Source = (*fold.Cursor)(nil)

// openCursor opens a recording (or a plain log) with the recorder's reader
// and puts the replay cursor on it.
func openCursor(t testing.TB, paths ...string) *fold.Cursor {
	t.Helper()
	set, err := recorder.Open(paths...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { set.Close() })
	c, err := fold.NewCursor(set)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
