//go:build linux

// Command truth runs the truth harness's scenario (package
// internal/truth) with the real introspector, judges its recording against
// the truth measured beside it, and prints issue 8's table: figure,
// measured, goal. It fails nothing: the table is the answer.
//
//	go run ./internal/truth/cmd/truth            # the full scenario, about 2 minutes
//	go run ./internal/truth/cmd/truth -quick     # the test's scenario
//	go run ./internal/truth/cmd/truth -judge DIR # judge a kept run again (-dir DIR)
//	go run ./internal/truth/cmd/truth -pprof 15s # what runtime/pprof alone sees, alone and loaded
//
// scripts/truth.sh runs it.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/openrtc-go/introspect/internal/truth"
)

func main() {
	quick := flag.Bool("quick", false, "run the test's small scenario instead of the full one")
	dir := flag.String("dir", "", "write the recording and truth.json to this directory and keep them (default: a temporary one, removed)")
	duration := flag.Duration("duration", 0, "length of the run (default: the scenario's)")
	sessions := flag.Int("sessions", 0, "ordinary sessions (default: the scenario's)")
	details := flag.Bool("details", true, "print what went wrong under the table")
	rejudge := flag.String("judge", "", "judge again the run kept in this directory (its truth.zst and truth.json), without running")
	bias := flag.Duration("pprof", 0, "instead of the scenario, measure what runtime/pprof alone sees of a pool, a locked hog and an unlocked one, for this long alone and again beside a load")
	flag.Parse()
	log.SetFlags(0)

	if *bias > 0 {
		for _, loaded := range []bool{false, true} {
			b, err := truth.MeasureProfilerBias(*bias, loaded)
			if err != nil {
				log.Fatal(err)
			}
			fmt.Println(b)
		}
		return
	}

	if *rejudge != "" {
		b, err := os.ReadFile(filepath.Join(*rejudge, "truth.json"))
		if err != nil {
			log.Fatal(err)
		}
		var t truth.Truth
		if err := json.Unmarshal(b, &t); err != nil {
			log.Fatalf("%s: %v", filepath.Join(*rejudge, "truth.json"), err)
		}
		t.Recording = filepath.Join(*rejudge, "truth.zst")
		report(&t, *details)
		return
	}

	d := *dir
	if d == "" {
		tmp, err := os.MkdirTemp("", "truth-")
		if err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(tmp)
		d = tmp
	}
	cfg := truth.Full(d)
	if *quick {
		cfg = truth.Quick(d)
	}
	if *duration > 0 {
		cfg.Duration = *duration
	}
	if *sessions > 0 {
		cfg.Sessions = *sessions
	}
	cfg.Logf = log.Printf
	t, err := truth.Run(cfg)
	if err != nil {
		log.Fatal(err)
	}
	report(t, *details)
	if *dir != "" {
		// The truth beside the recording, for looking into a verdict.
		b, err := json.MarshalIndent(t, "", "  ")
		if err == nil {
			err = os.WriteFile(filepath.Join(d, "truth.json"), b, 0o644)
		}
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("\nrecording: %s, truth: %s\n", t.Recording, filepath.Join(d, "truth.json"))
	}
}

// report judges t and prints the table.
func report(t *truth.Truth, details bool) {
	v, err := truth.Judge(t)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d HTTP sessions beside the others, %d stalls injected, %d scheduler stalls, %s, process CPU %.1f s\n\n",
		t.HTTPSessions, len(t.Injected), len(t.Spins), t.End.Sub(t.Start).Round(time.Second), t.ProcessCPU.Seconds())
	fmt.Print(v.Table())
	if details {
		if s := v.Details(); s != "" {
			fmt.Printf("\n%s", s)
		}
	}
}
