package sampler_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/openrtc-go/introspect/sampler"
)

func ExampleCPUSampler_Run() {
	s := sampler.NewCPUSampler(sampler.CPUOptions{Window: time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	s.Run(ctx, func(w sampler.CPUWindow) {
		if w.Unavailable != "" {
			log.Printf("cpu: not sampled for %v: %s", w.Duration, w.Unavailable)
			return
		}
		for id, n := range w.BySession {
			share := (time.Duration(n) * w.Period).Seconds() / w.Duration.Seconds()
			log.Printf("session %s: %.0f%% of a core, busiest at %v", id, 100*share, w.Top[id][0])
		}
	})
}

func ExampleVitalsReader() {
	r := sampler.NewVitalsReader()
	time.Sleep(100 * time.Millisecond)
	v := r.Read()
	fmt.Println(v.Goroutines > 0, v.SchedLatencyP99 <= v.SchedLatencyMax)
	// Output: true true
}

func ExampleRSSReader() {
	r, err := sampler.NewRSSReader()
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	rss, err := r.Read()
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("rss %d MiB (peak only: %v)", rss>>20, r.Peak())
}

func ExampleGoroutinesBySession() {
	bySession, total, err := sampler.GoroutinesBySession()
	if err != nil {
		log.Fatal(err)
	}
	for id, n := range bySession {
		log.Printf("session %s: %d of %d goroutines", id, n, total)
	}
	// Take the next profile when it costs at most ~0.25% of a core.
	log.Printf("next goroutine profile in %v", sampler.GoroutineInterval(total, 5*time.Second))
}

func ExampleGoroutineInterval() {
	for _, n := range []int{100, 1000, 10000} {
		fmt.Println(n, sampler.GoroutineInterval(n, time.Second))
	}
	// Output:
	// 100 1.8s
	// 1000 3.6s
	// 10000 21.6s
}

func ExampleFrame_String() {
	f := sampler.Frame{
		Function: "example.com/worker/mixer.(*Room).mix",
		File:     "/src/worker/mixer/room.go",
		Line:     88,
		Samples:  42,
	}
	fmt.Println(f)
	// Output: mixer/room.go:88 mixer.(*Room).mix
}
