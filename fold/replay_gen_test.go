package fold_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/openrtc-go/introspect/events"
	"github.com/openrtc-go/introspect/fold"
	"github.com/openrtc-go/introspect/recorder"
)

// genStart is the start of every generated recording.
var genStart = time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)

// workload describes a generated recording: a worker with Sessions live
// sessions of random lives, sampled every second, and three culprits: hot-1
// eats the CPU, block-1 holds the room loop every StallEvery, leak-1's
// goroutines keep rising.
type workload struct {
	Duration   time.Duration
	Sessions   int
	OnCPU      int           // sessions sampled on CPU per window
	StallEvery time.Duration // 0: no stalls
	Culprits   bool
	MemLeak    bool // RSS grows by 1 MiB a second, whatever the sessions
	Seed       uint64
}

// emitter writes events through the real recorder, with a fake clock.
type emitter struct {
	rec *recorder.Recorder
	now time.Time
	err error
}

func (e *emitter) emit(at time.Time, ev events.Event) {
	if e.err != nil {
		return
	}
	e.now = at
	e.err = e.rec.Handle(context.Background(), events.Record(at, ev))
}

// generate writes w to a recording in dir and returns its path.
func generate(tb testing.TB, dir string, w workload) string {
	tb.Helper()
	path := filepath.Join(dir, fmt.Sprintf("gen-%d-%s.zst", w.Sessions, w.Duration))
	em := &emitter{now: genStart}
	rec, err := recorder.Create(path, &recorder.Options{Keyframer: fold.New(), Clock: func() time.Time { return em.now }})
	if err != nil {
		tb.Fatal(err)
	}
	em.rec = rec
	writeWorkload(em, w)
	if err := rec.Close(); err != nil {
		tb.Fatal(err)
	}
	if em.err != nil {
		tb.Fatal(em.err)
	}
	return path
}

func writeWorkload(em *emitter, w workload) {
	rng := rand.New(rand.NewPCG(w.Seed, 42))
	t := genStart
	em.emit(t, events.WorkerStart{Worker: "gen", PID: 4242, Host: "box", GoVersion: "go1.26.8",
		Config: events.Config{SampleInterval: time.Second, CPUWindow: time.Second,
			SlowThreshold: 50 * time.Millisecond, SlowWindow: 5 * time.Second, KeyframeInterval: time.Minute}})
	type live struct {
		id  string
		end time.Time
		gor int
	}
	var sessions []*live
	next := 0
	agents := []string{"voice", "chat", "video"}
	begin := func(id string, life time.Duration) {
		sessions = append(sessions, &live{id: id, end: t.Add(life), gor: 3})
		ss := events.SessionStart{SessionID: id, Agent: agents[len(sessions)%3]}
		if len(sessions)%2 == 0 {
			ss.Tenant = "acme"
		}
		em.emit(t, ss)
	}
	if w.Culprits {
		for _, id := range []string{"hot-1", "block-1", "leak-1"} {
			begin(id, w.Duration+time.Hour)
		}
	}
	var stallID uint64
	lastStall := t
	for t.Before(genStart.Add(w.Duration)) {
		t = t.Add(time.Second)
		// Lives end and new sessions take their place.
		kept := sessions[:0]
		for _, s := range sessions {
			if t.Before(s.end) {
				kept = append(kept, s)
				continue
			}
			outcome := events.OutcomeOK
			if rng.IntN(10) == 0 {
				outcome = events.OutcomeError
			}
			em.emit(t, events.SessionEnd{SessionID: s.id, Outcome: outcome})
		}
		sessions = kept
		for len(sessions) < w.Sessions {
			next++
			begin(fmt.Sprintf("s-%05d", next), time.Duration(30+rng.IntN(600))*time.Second)
		}
		cpu := events.CPUWindow{Duration: time.Second, Period: 10 * time.Millisecond, Sessions: map[string]int64{}}
		for range min(w.OnCPU, len(sessions)) {
			s := sessions[rng.IntN(len(sessions))]
			cpu.Sessions[s.id] += int64(1 + rng.IntN(3))
		}
		gor := map[string]int{}
		for range 5 {
			s := sessions[rng.IntN(len(sessions))]
			s.gor += rng.IntN(3) - 1
			s.gor = max(s.gor, 1)
			gor[s.id] = s.gor
		}
		if w.Culprits {
			cpu.Sessions["hot-1"] = 60
			if t.Unix()%5 == 0 {
				leak := sessions[2]
				leak.gor += 7
				gor[leak.id] = leak.gor
			}
		}
		for _, n := range cpu.Sessions {
			cpu.Total += n
		}
		cpu.Unlabelled = 10
		cpu.Total += cpu.Unlabelled
		rss := uint64(200<<20) + uint64(len(sessions))*(2<<20) + uint64(rng.IntN(8<<20))
		if w.MemLeak {
			rss += uint64(t.Sub(genStart)/time.Second) << 20
		}
		em.emit(t, events.Sample{RSSBytes: rss, Sessions: len(sessions), Goroutines: 40 + 3*len(sessions),
			Runnable: -1, Running: -1, Waiting: -1, HeapBytes: rss / 2, SchedP99: 2 * time.Millisecond,
			CPU: cpu, GoroutinesBySession: gor})
		if w.StallEvery > 0 && t.Sub(lastStall) >= w.StallEvery {
			lastStall = t
			stallID++
			who := sessions[rng.IntN(len(sessions))]
			src := "scheduler"
			if w.Culprits {
				who, src = sessions[1], "room-loop"
			}
			st := events.SlowSession{StallID: stallID, SessionID: who.id, Source: src, Confidence: 1,
				Blocked: 120 * time.Millisecond, Ongoing: true, Frame: "agent/loop.go:42 main.(*Room).mix",
				Stack: []string{"agent/loop.go:42 main.(*Room).mix", "agent/loop.go:10 main.run"}}
			em.emit(t.Add(100*time.Millisecond), st)
			st.Ongoing, st.Blocked = false, time.Duration(200+rng.IntN(300))*time.Millisecond
			em.emit(t.Add(400*time.Millisecond), st)
		}
	}
	em.emit(t, events.WorkerStop{Reason: "done"})
}

// jsonLine renders ev at t as slog's JSON handler writes it, newline excluded.
func jsonLine(tb testing.TB, t time.Time, ev events.Event) []byte {
	tb.Helper()
	var buf bytes.Buffer
	h := slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})
	if err := h.Handle(context.Background(), events.Record(t, ev)); err != nil {
		tb.Fatal(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

func writeFile(tb testing.TB, path string, data []byte) {
	tb.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		tb.Fatal(err)
	}
}
