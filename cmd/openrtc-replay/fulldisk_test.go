package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openrtc-go/introspect/events"
	"github.com/openrtc-go/introspect/recorder"
)

// TestSummaryStoppedForSpace (issue 12, F6): a recording whose recorder was
// closed while its disk was full ends with the final recorder.drop record
// (recorder.TestDiskNeverFrees writes it through a full disk); summary
// says the worker stopped with N records dropped for lack of space, not
// that it crashed.
func TestSummaryStoppedForSpace(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 3, 12, 0, 0, time.UTC)
	for _, tt := range []struct {
		reason, want string
	}{
		{events.DropFinalPrefix + "write error: rec.zst at offset 91069: no space left on device", "stopped, 37 records dropped for lack of space"},
		{events.DropFinalPrefix + "write error: rec.zst: input/output error", "stopped, 37 records dropped because writing failed (write error: rec.zst: input/output error)"},
		{"write error: rec.zst: no space left on device", "no stop recorded (still being written, or the worker crashed or was killed)"},
	} {
		path := filepath.Join(t.TempDir(), "rec.zst")
		now := t0
		rec, err := recorder.Create(path, &recorder.Options{Clock: func() time.Time { return now }, Worker: "w1", PID: 7, Host: "h"})
		if err != nil {
			t.Fatal(err)
		}
		log := func(at time.Duration, e events.Event) {
			if err := rec.Handle(context.Background(), events.Record(t0.Add(at), e)); err != nil {
				t.Fatal(err)
			}
		}
		log(0, events.WorkerStart{Worker: "w1", PID: 7, Host: "h", GoVersion: "go1.26.8"})
		log(time.Second, events.SessionStart{SessionID: "a", Agent: "voice"})
		log(2*time.Second, events.RecorderDrop{Dropped: 37, Reason: tt.reason})
		if err := rec.Close(); err != nil {
			t.Fatal(err)
		}
		r := runArgs(t, "summary", path)
		if r.code != exitOK || !strings.Contains(r.out, tt.want) {
			t.Errorf("reason %q: want %q in\n%s%s", tt.reason, tt.want, r.out, r.err)
		}
	}
}
