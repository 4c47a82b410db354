package tui_test

import (
	"context"
	"encoding/json"
	"log"

	"github.com/openrtc-go/introspect/cmd/openrtc-replay/internal/tui"
	"github.com/openrtc-go/introspect/fold"
	"github.com/openrtc-go/introspect/live"
	"github.com/openrtc-go/introspect/recorder"
)

// The historical top: the replay cursor on a recording is the screen's
// source.
func ExampleRun() {
	set, err := recorder.Open("recording.zst")
	if err != nil {
		log.Fatal(err)
	}
	defer set.Close()
	cur, err := fold.NewCursor(set) // at the end of the recording
	if err != nil {
		log.Fatal(err)
	}
	if err := tui.Run(context.Background(), cur, tui.Options{Sort: fold.SortCPU, Title: "recording.zst"}); err != nil {
		log.Fatal(err)
	}
}

// The live top: a poller over the worker's snapshot socket.
func ExampleNewPoller() {
	ctx := context.Background()
	path := live.DefaultSocketPath("w1")
	p, err := tui.NewPoller(func() (fold.View, error) {
		var v fold.View
		b, err := live.Fetch(ctx, path)
		if err != nil {
			return v, err
		}
		return v, json.Unmarshal(b, &v)
	})
	if err != nil {
		log.Fatal("no worker is serving ", path, ": ", err)
	}
	if err := tui.Run(ctx, p, tui.Options{RefreshRate: 2}); err != nil {
		log.Fatal(err)
	}
}
