// Command dayrec writes a day-long synthetic recording with the real
// recorder (fixtures/synth), for bucket's test of ranged reads. The test
// runs it with go run, so that the recording is made without the race
// detector's tenfold slowdown when the tests run with -race.
//
//	go run ./bucket/internal/dayrec -o /tmp/day.zst -sessions 200 -flush 1s -keyframes 1m -level 3
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
	sessions := flag.Int("sessions", 200, "live sessions")
	duration := flag.Duration("duration", 24*time.Hour, "length of the recording")
	flush := flag.Duration("flush", time.Second, "frame length (the recorder's FlushInterval)")
	keyframes := flag.Duration("keyframes", time.Minute, "keyframe interval")
	level := flag.Int("level", 3, "zstd level")
	worker := flag.String("worker", "w1", "worker name")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "dayrec: -o is required")
		os.Exit(2)
	}
	_, err := synth.Write(*out, synth.Options{Sessions: *sessions, Duration: *duration, Worker: *worker,
		FlushInterval: *flush, KeyframeInterval: *keyframes, ZstdLevel: *level})
	if err != nil {
		fmt.Fprintln(os.Stderr, "dayrec:", err)
		os.Exit(1)
	}
}
