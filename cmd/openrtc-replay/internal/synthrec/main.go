// Command synthrec writes a synthetic recording with the fixture generator
// (github.com/openrtc-go/introspect/fixtures/synth), for the replay's
// benchmarks: scripts/bench-replay.sh runs it to make the 24-hour,
// 1,000-session recording it measures, in a temporary directory.
//
//	go run ./cmd/openrtc-replay/internal/synthrec -o /tmp/day.zst -sessions 1000 -duration 24h
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/openrtc-go/introspect/fixtures/synth"
)

func main() {
	out := flag.String("o", "", "the recording to write")
	sessions := flag.Int("sessions", 1000, "live sessions")
	duration := flag.Duration("duration", 24*time.Hour, "length of the recording")
	seed := flag.Uint64("seed", 1, "random seed")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "synthrec: -o is required")
		os.Exit(2)
	}
	start := time.Now()
	st, err := synth.Write(*out, synth.Options{Sessions: *sessions, Duration: *duration, Seed: *seed})
	if err != nil {
		fmt.Fprintln(os.Stderr, "synthrec:", err)
		os.Exit(1)
	}
	fmt.Printf("wrote %s: %d bytes, %d session-samples, in %s\n", *out, st.Bytes, st.SessionSamples, time.Since(start).Round(time.Millisecond))
}
