// Command openrtc-replay replays what openrtc-introspect recorded of a dense
// Go worker, and shows a running worker live: which session ate the memory,
// which ate the CPU, and which stalled everyone else, on which line.
//
//	openrtc-replay                        # the bundled incident, interactive
//	openrtc-replay summary rec.zst        # the post-mortem page
//	openrtc-replay top --once --at 03:12 rec.zst
//	openrtc-replay slow --min 100ms rec/  # every stall, with its frame
//	openrtc-replay sessions --csv rec.zst
//	openrtc-replay export --every 10s --format csv -o top.csv rec.zst
//	openrtc-replay verify rec.zst         # exit 0 intact, 1 damaged, 2 unreadable
//	openrtc-replay live                   # a running worker's socket
//	openrtc-replay record -o rec.zst      # poll it into a recording (OpenRTC's too)
//
// Inputs are recordings, directories of rotated recordings, plain slog JSON
// logs, or - for standard input; several are stitched into one time line.
// The command layer parses flags and prints: reading is the recorder
// package's, folding the fold package's.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], newStdio())
	stop()
	os.Exit(code)
}
