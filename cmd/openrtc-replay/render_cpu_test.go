package main

import (
	"strings"
	"testing"

	"github.com/openrtc-go/introspect/fold"
)

// TestRowsWithoutCPUWindow: when another profiler owns the CPU profiler the
// window has no samples; the rows' cpu% must read "-" (the header says who
// owns it), not 0.0, which would read as idle sessions.
func TestRowsWithoutCPUWindow(t *testing.T) {
	rows := []fold.Row{{SessionID: "call-1", CPUPct: 0, CPUSeconds: 1.5}}
	for _, tt := range []struct {
		known bool
		want  string
	}{
		{true, "0.0"},
		{false, "-"},
	} {
		var b strings.Builder
		if err := rowsTable(rows, "", tt.known).write(&b); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(b.String()), "\n")
		head, row := strings.Fields(lines[0]), strings.Fields(lines[len(lines)-1])
		col := -1
		for i, h := range head {
			if h == "cpu%" {
				col = i
			}
		}
		if col < 0 || col >= len(row) {
			t.Fatalf("no cpu%% column in %q", b.String())
		}
		if got := row[col]; got != tt.want {
			t.Errorf("cpuKnown %v: cpu%% = %q, want %q\n%s", tt.known, got, tt.want, b.String())
		}
	}
}
