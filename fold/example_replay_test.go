package fold_test

import (
	"fmt"
	"time"

	"github.com/openrtc-go/introspect/fold"
	"github.com/openrtc-go/introspect/recorder"
)

// The worker at a moment of a recording: the nearest keyframe, folded
// forward.
func ExampleStateAt() {
	set, err := recorder.Open("../fixtures/stalls.zst")
	if err != nil {
		panic(err)
	}
	defer set.Close()
	at := time.Date(2026, 11, 27, 3, 20, 32, 0, time.UTC)
	s, err := fold.StateAt(set, at)
	if err != nil {
		panic(err)
	}
	v := s.View(at)
	rows := fold.FilterRows(v.Sessions, fold.Filter{Status: fold.StatusSlow})
	fmt.Println(v.Worker.ActiveSessions, "live;", rows[0].SessionID, rows[0].Status, rows[0].WorstStall, "ms")
	// Output: 4 live; room-2 slow 1250 ms
}

// Stepping through a recording as the interactive top does: ] jumps to the
// next stall, t to the next sample.
func ExampleCursor() {
	set, err := recorder.Open("../fixtures/stalls.zst")
	if err != nil {
		panic(err)
	}
	defer set.Close()
	first, _ := set.Span()
	c, err := fold.NewCursorAt(set, first)
	if err != nil {
		panic(err)
	}
	st, _, _ := c.NextStall()
	fmt.Println(st.SessionID, "held", st.Source, "for", st.Blocked(), "at", st.Frame)
	c.Next()
	fmt.Println(c.Time().Format("15:04:05"))
	// Output:
	// room-2 held room-loop for 1.25s at agent/room.go:212 main.(*Room).mixFrames
	// 03:20:32
}

// The post-mortem of a whole recording in one pass.
func ExampleReadReport() {
	set, err := recorder.Open("../fixtures/stalls.zst")
	if err != nil {
		panic(err)
	}
	defer set.Close()
	r, err := fold.ReadReport(set.Scan(), nil)
	if err != nil {
		panic(err)
	}
	s := r.Summary()
	fmt.Println(s.Sessions, "sessions,", s.Stalls, "stalls")
	for _, f := range s.Findings {
		fmt.Println(f.Runbook, f.SessionID)
	}
	// Output:
	// 5 sessions, 4 stalls
	// runbook/density-debugging.md#blocking room-2
	// runbook/density-debugging.md#blocking room-4
	// runbook/density-debugging.md#cpu-hot room-3
}
