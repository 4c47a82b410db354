package recorder

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/tidwall/gjson"

	"github.com/openrtc-go/introspect/events"
)

// The writer's benchmarks. Figures and how to run them are in
// docs/recording-format.md ("Cost and size"). The hour-long ones are meant
// for -benchtime=1x:
//
//	go test ./recorder -run '^$' -bench . -benchtime=1x

// benchSim simulates a dense worker: about 1,000 live sessions with churn
// (sessions last ten minutes on average), 100 of them on CPU in each 1 s
// window, a few goroutine counts changing per sample, a stall a minute.
type benchSim struct {
	rng   *rand.Rand
	t0    time.Time
	live  []benchSession
	next  int
	stall uint64
}

type benchSession struct {
	id, agent, tenant string
	start             time.Time
	gor               int
	peakMB            float64
	cpu               int64
}

func newBenchSim(n int) *benchSim {
	s := &benchSim{rng: rand.New(rand.NewPCG(1, 2)), t0: wtT0}
	for range n {
		s.live = append(s.live, s.newSession(s.t0))
	}
	return s
}

var benchAgents = []string{"voice", "voice", "voice", "video", "translate"}

func (s *benchSim) newSession(at time.Time) benchSession {
	s.next++
	return benchSession{
		id:     fmt.Sprintf("job-%08x", s.rng.Uint32()),
		agent:  benchAgents[s.rng.IntN(len(benchAgents))],
		tenant: "tenant-" + strconv.Itoa(s.rng.IntN(40)),
		start:  at,
		gor:    3 + s.rng.IntN(6),
	}
}

// starts returns the session.start events of the initial sessions.
func (s *benchSim) starts() []events.Event {
	var out []events.Event
	for _, x := range s.live {
		out = append(out, events.SessionStart{SessionID: x.id, Agent: x.agent, Tenant: x.tenant})
	}
	return out
}

// step advances one second and returns its events, ending with the sample.
func (s *benchSim) step(sec int) []events.Event {
	at := s.t0.Add(time.Duration(sec) * time.Second)
	var out []events.Event
	for range s.rng.IntN(4) { // ~1.5 ends and as many starts a second
		i := s.rng.IntN(len(s.live))
		out = append(out, events.SessionEnd{SessionID: s.live[i].id, Outcome: events.OutcomeOK})
		s.live[i] = s.newSession(at)
		x := s.live[i]
		out = append(out, events.SessionStart{SessionID: x.id, Agent: x.agent, Tenant: x.tenant})
	}
	if sec%60 == 30 {
		s.stall++
		x := s.live[s.rng.IntN(len(s.live))]
		out = append(out, events.SlowSession{StallID: s.stall, SessionID: x.id, Agent: x.agent, Source: "room-loop",
			Blocked: time.Duration(60+s.rng.IntN(400)) * time.Millisecond, Confidence: 1,
			Frame: "agent/mixer.go:212 main.(*Mixer).mix",
			Stack: []string{"agent/mixer.go:212 main.(*Mixer).mix", "agent/room.go:88 main.(*Room).loop", "runtime/asm_amd64.s:1700 runtime.goexit"}})
	}
	cpu := map[string]int64{}
	var total int64
	for range 100 {
		i := s.rng.IntN(len(s.live))
		n := int64(1 + s.rng.IntN(8))
		cpu[s.live[i].id] += n
		s.live[i].cpu += n
		total += n
	}
	unl := int64(10 + s.rng.IntN(20))
	gor := map[string]int{}
	goroutines := 200
	for i := range s.live {
		if s.rng.IntN(50) == 0 {
			s.live[i].gor = max(1, s.live[i].gor+s.rng.IntN(3)-1)
			gor[s.live[i].id] = s.live[i].gor
		}
		goroutines += s.live[i].gor
	}
	rss := uint64(2<<30) + uint64(s.rng.IntN(64<<20))
	for i := range s.live {
		s.live[i].peakMB = max(s.live[i].peakMB, float64(rss)/float64(len(s.live))/(1<<20))
	}
	out = append(out, events.Sample{
		RSSBytes: rss, Sessions: len(s.live), Goroutines: goroutines,
		Runnable: s.rng.IntN(8), Running: 2, Waiting: goroutines - 10,
		HeapBytes: rss / 2, GCCycles: int64(s.rng.IntN(3)), GCPause: time.Duration(s.rng.IntN(300)) * time.Microsecond,
		GCPauseMax: time.Duration(s.rng.IntN(200)) * time.Microsecond, SchedP50: time.Duration(5+s.rng.IntN(20)) * time.Microsecond,
		SchedP99: time.Duration(100+s.rng.IntN(2000)) * time.Microsecond, SchedMax: time.Duration(1+s.rng.IntN(10)) * time.Millisecond,
		MutexWaitPerSec: float64(s.rng.IntN(1000)) / 1e6,
		CPU: events.CPUWindow{Duration: time.Second + time.Duration(s.rng.IntN(5000))*time.Microsecond,
			Period: 10 * time.Millisecond, Total: total + unl, Unlabelled: unl, Sessions: cpu},
		GoroutinesBySession: gor,
	})
	return out
}

// appendSnapshot appends the baseline for one second: the live snapshot
// polled every second and kept (the history a user would script without
// this toolkit), every live session in full.
func (s *benchSim) appendSnapshot(b []byte, sec int, rss uint64, cpu map[string]int64, total int64) []byte {
	at := s.t0.Add(time.Duration(sec) * time.Second)
	b = fmt.Appendf(b, `{"schema_version":1,"kind":"snapshot","seq":%d,"wall_time_unix":%.3f,"payload":{"worker":{"name":"w1","uptime_s":%d,"active_sessions":%d,"max_sessions":1200,"started":%d,"failed":0,"saved_bytes":null,"draining":false,"system":{"available":true,"cpu_pct":%.1f,"vcpus":8,"mem_used_bytes":%d,"mem_total_bytes":34359738368,"swap_used_bytes":0,"swap_total_bytes":0,"load1":1.52,"load5":1.48,"load15":1.41,"net_rate_bps":null},"cpu_history":[`,
		sec, float64(at.UnixMilli())/1000, sec, len(s.live), s.next, float64(total)/8, rss)
	for i := range 60 {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendFloat(b, float64((sec+i)%37)*0.9, 'f', 1, 64)
	}
	b = append(b, `]},"sessions":[`...)
	memMB := float64(rss) / float64(len(s.live)) / (1 << 20)
	for i, x := range s.live {
		if i > 0 {
			b = append(b, ',')
		}
		pct := 0.0
		if total > 0 {
			pct = float64(cpu[x.id]) * 100 / float64(total)
		}
		b = fmt.Appendf(b, `{"session_id":%q,"agent_name":%q,"tenant":%q,"duration_s":%.1f,"mem_mb":%.1f,"peak_mb":%.1f,"cpu_pct":%.1f,"status":"active","pinned":false}`,
			x.id, x.agent, x.tenant, at.Sub(x.start).Seconds(), memMB, x.peakMB, pct)
	}
	return append(b, "]}}\n"...)
}

// benchKeyframer folds what the writer observes into the live sessions, as
// the real fold does, cheaply: it looks only at starts and ends.
type benchKeyframer struct {
	live  map[string]events.KeySession
	order []string
}

func newBenchKeyframer() *benchKeyframer {
	return &benchKeyframer{live: map[string]events.KeySession{}}
}

func (k *benchKeyframer) Observe(line []byte) {
	switch gjson.GetBytes(line, "msg").Str {
	case events.KindSessionStart:
		d, _ := events.Decode(line)
		if e, ok := d.Event.(events.SessionStart); ok {
			k.live[e.SessionID] = events.KeySession{SessionID: e.SessionID, Agent: e.Agent, Tenant: e.Tenant, Start: d.Time,
				PeakBytes: 2 << 20, CPUSamples: 40, CPUNanos: 4e8, Goroutines: 5, GorPeak: 7}
			k.order = append(k.order, e.SessionID)
		}
	case events.KindSessionEnd:
		delete(k.live, gjson.GetBytes(line, "session_id").Str)
	}
}

func (k *benchKeyframer) Keyframe(time.Time) events.Keyframe {
	kf := events.Keyframe{Worker: events.WorkerState{Name: "w1", Begun: int64(len(k.order))}}
	kept := k.order[:0]
	for _, id := range k.order {
		if s, ok := k.live[id]; ok {
			kf.Sessions = append(kf.Sessions, s)
			kept = append(kept, id)
		}
	}
	k.order = kept
	return kf
}

// cpuTime is the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func benchRecorder(b *testing.B, opts *Options) *Recorder {
	b.Helper()
	r, err := Create(filepath.Join(b.TempDir(), "rec.zst"), opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { r.Close() })
	return r
}

// BenchmarkHandle is the caller's cost of recording one record, against
// slog's JSON handler writing to io.Discard (the encoding alone).
func BenchmarkHandle(b *testing.B) {
	sim := newBenchSim(1000)
	sample := sim.step(1)
	records := map[string]slog.Record{
		"session.start": events.Record(wtT0, events.SessionStart{SessionID: "job-7f3a9c2e", Agent: "voice", Tenant: "acme"}),
		"sample-1000":   events.Record(wtT0, sample[len(sample)-1]),
	}
	for _, name := range []string{"session.start", "sample-1000"} {
		rec := records[name]
		b.Run(name+"/recorder", func(b *testing.B) {
			r := benchRecorder(b, nil)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				r.Handle(ctx, rec)
			}
			b.StopTimer()
			b.ReportMetric(float64(r.Stats().Dropped)/float64(b.N), "dropped/op")
		})
		b.Run(name+"/slog-json-discard", func(b *testing.B) {
			h := slog.NewJSONHandler(io.Discard, nil)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				h.Handle(ctx, rec)
			}
		})
	}
}

// BenchmarkHandleParallel records session starts from every P at once.
func BenchmarkHandleParallel(b *testing.B) {
	r := benchRecorder(b, nil)
	rec := events.Record(wtT0, events.SessionStart{SessionID: "job-7f3a9c2e", Agent: "voice", Tenant: "acme"})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			r.Handle(ctx, rec)
		}
	})
	b.ReportMetric(float64(r.Stats().Dropped)/float64(b.N), "dropped/op")
}

// BenchmarkWriterPerSample is the whole recording cost (Handle, writer
// goroutine, compression, keyframes, GC) of one second of a 1,000-session
// worker, in process CPU time: at one sample a second, cpu-ns/sample ÷ 1e7
// is the percentage of one core. With the defaults (streamed frames),
// Compact(), and the defaults before streamed frames (independent frames).
func BenchmarkWriterPerSample(b *testing.B) {
	for _, c := range []struct {
		name string
		opts Options
	}{
		{"default", Options{}},
		{"compact", Compact()},
		{"independent", Options{IndependentFrames: true}},
	} {
		b.Run(c.name, func(b *testing.B) { benchWriterPerSample(b, c.opts) })
	}
}

func benchWriterPerSample(b *testing.B, opts Options) {
	sim := newBenchSim(1000)
	const secs = 600
	var recs [][]slog.Record
	recs = append(recs, nil)
	for _, e := range sim.starts() {
		recs[0] = append(recs[0], events.Record(wtT0, e))
	}
	for sec := 1; sec <= secs; sec++ {
		var rs []slog.Record
		for _, e := range sim.step(sec) {
			rs = append(rs, events.Record(wtT0.Add(time.Duration(sec)*time.Second), e))
		}
		recs = append(recs, rs)
	}
	clk := wtT0
	opts.Clock, opts.Keyframer = func() time.Time { return clk }, newBenchKeyframer()
	r := benchRecorder(b, &opts)
	ctx := context.Background()
	for _, rec := range recs[0] {
		r.Handle(ctx, rec)
	}
	r.Flush()
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := range b.N {
		// Past the pre-built 10 minutes, replay them shifted in time.
		shift := time.Duration(i/secs*secs) * time.Second
		for _, rec := range recs[1+i%secs] {
			if shift != 0 {
				rec.Time = rec.Time.Add(shift)
			}
			r.Handle(ctx, rec)
		}
	}
	r.Flush()
	b.StopTimer()
	perSample := float64(cpuTime()-cpu0) / float64(b.N)
	b.ReportMetric(perSample, "cpu-ns/sample")
	b.ReportMetric(perSample/1e7, "%core@1Hz")
}

// hourResult is what one simulated hour costs on disk.
type hourResult struct {
	bytes, raw int64
	frames     int64
	cpu        time.Duration
}

// recordHour writes one hour of a 1,000-session worker with a fake clock.
func recordHour(b *testing.B, opts Options) hourResult {
	b.Helper()
	sim := newBenchSim(1000)
	opts.Clock = func() time.Time { return wtT0 }
	opts.Keyframer = newBenchKeyframer()
	path := filepath.Join(b.TempDir(), "hour.zst")
	cpu0 := cpuTime()
	r, err := Create(path, &opts)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for _, e := range sim.starts() {
		r.Handle(ctx, events.Record(wtT0, e))
	}
	for sec := 1; sec <= 3600; sec++ {
		at := wtT0.Add(time.Duration(sec) * time.Second)
		for _, e := range sim.step(sec) {
			r.Handle(ctx, events.Record(at, e))
		}
	}
	if err := r.Close(); err != nil {
		b.Fatal(err)
	}
	res := hourResult{bytes: r.Stats().Bytes, frames: r.Stats().Frames, cpu: cpuTime() - cpu0}
	f := wtRead(b, path)
	for _, fr := range f.frames {
		res.raw += int64(fr.entry.RawLen)
	}
	os.Remove(path)
	return res
}

const sessionSamples = 3600 * 1000 // one hour, 1 Hz, 1,000 sessions

// BenchmarkHourOf1000Sessions reports the size of one hour of a 1,000-session
// worker against the naive baseline, and how it moves with the options.
func BenchmarkHourOf1000Sessions(b *testing.B) {
	cases := []struct {
		name string
		opts Options
	}{
		{"default", Options{}},
		{"compact", Compact()},
		{"flush=5s", Options{FlushInterval: 5 * time.Second}},
		{"flush=100ms", Options{FlushInterval: 100 * time.Millisecond}},
		{"frame=1MiB", Options{FrameBytes: 1 << 20}},
		{"level=default", Options{EncoderLevel: zstd.SpeedDefault}},
		{"level=best", Options{EncoderLevel: zstd.SpeedBestCompression}},
		{"keyframes=1min", Options{KeyframeInterval: time.Minute}},
		{"keyframes=30min", Options{KeyframeInterval: 30 * time.Minute}},
		{"independent", Options{IndependentFrames: true}},
		{"independent,flush=5s", Options{IndependentFrames: true, FlushInterval: 5 * time.Second}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			var res hourResult
			for b.Loop() {
				res = recordHour(b, c.opts)
			}
			b.ReportMetric(float64(res.bytes)/sessionSamples, "B/session-sample")
			b.ReportMetric(float64(res.raw)/sessionSamples, "raw-B/session-sample")
			b.ReportMetric(float64(res.bytes)/(1<<20), "MiB/hour")
			b.ReportMetric(float64(res.frames), "frames")
			b.ReportMetric(float64(res.cpu)/3600/1e7, "%core@1Hz")
		})
	}
	b.Run("naive-snapshots-zstd3", func(b *testing.B) {
		var comp, raw int64
		for b.Loop() {
			comp, raw = naiveHour(b)
		}
		b.ReportMetric(float64(comp)/sessionSamples, "B/session-sample")
		b.ReportMetric(float64(raw)/sessionSamples, "raw-B/session-sample")
		b.ReportMetric(float64(comp)/(1<<20), "MiB/hour")
	})
}

// naiveHour is the baseline: a full JSON snapshot of every session every
// second, compressed as one zstd stream at level 3.
func naiveHour(b *testing.B) (comp, raw int64) {
	sim := newBenchSim(1000)
	var out countWriter
	zw, err := zstd.NewWriter(&out, zstd.WithEncoderLevel(zstd.EncoderLevelFromZstd(3)), zstd.WithEncoderConcurrency(1))
	if err != nil {
		b.Fatal(err)
	}
	var buf []byte
	for sec := 1; sec <= 3600; sec++ {
		evs := sim.step(sec)
		s := evs[len(evs)-1].(events.Sample)
		buf = sim.appendSnapshot(buf[:0], sec, s.RSSBytes, s.CPU.Sessions, s.CPU.Total)
		raw += int64(len(buf))
		zw.Write(buf)
	}
	if err := zw.Close(); err != nil {
		b.Fatal(err)
	}
	return out.n, raw
}

type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

// TestBenchSimLines keeps the simulator honest: its records are valid
// events and its snapshots valid JSON.
func TestBenchSimLines(t *testing.T) {
	sim := newBenchSim(1000)
	var buf bytes.Buffer
	h := slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})
	for sec := 1; sec <= 3; sec++ {
		for _, e := range sim.step(sec) {
			buf.Reset()
			h.Handle(context.Background(), events.Record(wtT0, e))
			if d, err := events.Decode(bytes.TrimSpace(buf.Bytes())); err != nil || d.Event == nil {
				t.Fatalf("%s: %v", buf.Bytes(), err)
			}
		}
	}
	snap := sim.appendSnapshot(nil, 3, 2<<30, nil, 0)
	if !gjson.ValidBytes(snap) || gjson.GetBytes(snap, "payload.sessions.#").Int() != 1000 {
		t.Fatalf("snapshot: %.300s", snap)
	}
}

// BenchmarkFrameSync is the cost of closing one small frame (one write(2))
// under each fsync policy: what the writer goroutine pays per FlushInterval.
func BenchmarkFrameSync(b *testing.B) {
	rec := events.Record(wtT0, events.SessionStart{SessionID: "job-7f3a9c2e", Agent: "voice"})
	for _, p := range []SyncPolicy{SyncNever, SyncInterval, SyncFrame} {
		b.Run(p.String(), func(b *testing.B) {
			r := benchRecorder(b, &Options{Sync: p})
			ctx := context.Background()
			for b.Loop() {
				r.Handle(ctx, rec)
				if err := r.Flush(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
