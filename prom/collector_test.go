package prom

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/openrtc-go/introspect/events"
)

var t0 = time.Date(2026, 11, 27, 3, 12, 0, 0, time.UTC)

// feed applies events at one-second steps from t0.
func feed(c *Collector, es ...events.Event) {
	for i, e := range es {
		c.Observe(events.Decoded{Time: t0.Add(time.Duration(i) * time.Second), Level: e.Level(), Kind: e.Kind(), V: events.SchemaVersion, Event: e})
	}
}

func worker() events.Event { return events.WorkerStart{Worker: "w17", Host: "h", GoVersion: "go1.26"} }

func TestCollectorSeries(t *testing.T) {
	tests := []struct {
		name   string
		opts   Options
		events []events.Event
		want   string // the expected exposition of the metrics named in it
	}{{
		name: "sessions by agent, ended by outcome",
		events: []events.Event{
			worker(),
			events.SessionStart{SessionID: "a", Agent: "voice", Tenant: "acme"},
			events.SessionStart{SessionID: "b", Agent: "voice", Tenant: "globex"},
			events.SessionStart{SessionID: "b", Agent: "voice"}, // a duplicate start is not a session
			events.SessionStart{SessionID: "c", Agent: "chat"},
			events.SessionEnd{SessionID: "b", Outcome: events.OutcomeError, Error: "boom"},
			events.SessionEnd{SessionID: "x", Outcome: events.OutcomeOK}, // never started here
		},
		want: `
# HELP openrtc_sessions_active Sessions live now.
# TYPE openrtc_sessions_active gauge
openrtc_sessions_active{agent="chat"} 1
openrtc_sessions_active{agent="voice"} 1
# HELP openrtc_sessions_ended_total Sessions ended, by outcome (ok, error, cancelled).
# TYPE openrtc_sessions_ended_total counter
openrtc_sessions_ended_total{agent="voice",outcome="error"} 1
`,
	}, {
		name: "tenant opt-in",
		opts: Options{Tenant: true},
		events: []events.Event{
			worker(),
			events.SessionStart{SessionID: "a", Agent: "voice", Tenant: "acme"},
			events.SessionStart{SessionID: "b", Agent: "voice", Tenant: "globex"},
		},
		want: `
# HELP openrtc_sessions_active Sessions live now.
# TYPE openrtc_sessions_active gauge
openrtc_sessions_active{agent="voice",tenant="acme"} 1
openrtc_sessions_active{agent="voice",tenant="globex"} 1
`,
	}, {
		name: "CPU seconds and goroutines by agent, as replay defines them",
		events: []events.Event{
			worker(),
			events.SessionStart{SessionID: "a", Agent: "voice"},
			events.SessionStart{SessionID: "b", Agent: "voice"},
			events.SessionStart{SessionID: "c", Agent: "chat"},
			events.Sample{Goroutines: 40, CPU: events.CPUWindow{Duration: time.Second, Period: 10 * time.Millisecond, Total: 90,
				Sessions: map[string]int64{"a": 50, "b": 10, "c": 20, "gone": 5}}, GoroutinesBySession: map[string]int{"a": 3, "b": 2, "c": 7}},
			// duty-cycled: 1 s sampled of 5 s stands for five times the samples
			events.Sample{Goroutines: 41, CPU: events.CPUWindow{Duration: time.Second, Span: 5 * time.Second, Period: 10 * time.Millisecond, Total: 10,
				Sessions: map[string]int64{"c": 10}}, GoroutinesBySession: map[string]int{"b": 0, "c": 9}},
			events.Sample{Goroutines: 41, CPU: events.CPUWindow{Unavailable: "another CPU profile is running"}},
		},
		want: `
# HELP openrtc_cpu_windows_unavailable_total CPU profile windows that could not be taken (another CPU profile was running), so per-session CPU is missing for them.
# TYPE openrtc_cpu_windows_unavailable_total counter
openrtc_cpu_windows_unavailable_total 1
# HELP openrtc_goroutines Goroutines in the worker, as last sampled.
# TYPE openrtc_goroutines gauge
openrtc_goroutines 41
# HELP openrtc_session_cpu_seconds_total CPU time of sessions, from labelled CPU profile samples.
# TYPE openrtc_session_cpu_seconds_total counter
openrtc_session_cpu_seconds_total{agent="chat"} 0.7
openrtc_session_cpu_seconds_total{agent="voice"} 0.6
# HELP openrtc_session_goroutines Goroutines started under live sessions, as last sampled; growth while sessions do not is a leak.
# TYPE openrtc_session_goroutines gauge
openrtc_session_goroutines{agent="chat"} 9
openrtc_session_goroutines{agent="voice"} 3
`,
	}, {
		name: "stalls counted once each, at their first report",
		events: []events.Event{
			worker(),
			events.SessionStart{SessionID: "call-blocker", Agent: "voice"},
			events.SlowSession{StallID: 1, SessionID: "call-blocker", Agent: "voice", Source: "mixer", Blocked: 60 * time.Millisecond, Ongoing: true},
			events.SlowSession{StallID: 1, SessionID: "call-blocker", Agent: "voice", Source: "mixer", Blocked: 160 * time.Millisecond, Ongoing: true},
			events.SlowSession{StallID: 1, SessionID: "call-blocker", Agent: "voice", Source: "mixer", Blocked: 400 * time.Millisecond},
			events.SlowSession{StallID: 2, Source: "scheduler", Blocked: 70 * time.Millisecond},
			events.SlowSession{StallID: 3, SessionID: "call-blocker", Agent: "voice", Source: "mixer", Blocked: 80 * time.Millisecond, Ongoing: true, Cause: events.CauseBlocked},
			events.RecorderDrop{Dropped: 12, Reason: "queue full"},
		},
		want: `
# HELP openrtc_recorder_dropped_records_total Records the recorder could not write (queue full or write error).
# TYPE openrtc_recorder_dropped_records_total counter
openrtc_recorder_dropped_records_total 12
# HELP openrtc_stalls_total Stalls: a session held a shared loop or section (source is its name), or the scheduler lagged (source="scheduler"), longer than the slow threshold. Counted when first seen; cause is its verdict then: blocked (the holder waited on I/O, a lock, a sleep), waiting-for-cpu (a victim: it was runnable while others had the CPU), running, or empty when not yet known.
# TYPE openrtc_stalls_total counter
openrtc_stalls_total{agent="",cause="",source="scheduler"} 1
openrtc_stalls_total{agent="voice",cause="",source="mixer"} 1
openrtc_stalls_total{agent="voice",cause="blocked",source="mixer"} 1
`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(tt.opts)
			feed(c, tt.events...)
			var names []string
			for _, l := range strings.Split(tt.want, "\n") {
				if name, ok := strings.CutPrefix(l, "# TYPE "); ok {
					names = append(names, strings.Fields(name)[0])
				}
			}
			if err := testutil.CollectAndCompare(c, strings.NewReader(tt.want), names...); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestCollectorLint(t *testing.T) {
	for _, opts := range []Options{{}, {Tenant: true}} {
		c := New(opts)
		feed(c, worker(),
			events.SessionStart{SessionID: "a", Agent: "voice", Tenant: "acme"},
			events.Sample{Goroutines: 4, CPU: events.CPUWindow{Duration: time.Second, Period: 10 * time.Millisecond, Total: 1, Sessions: map[string]int64{"a": 1}}},
			events.SlowSession{StallID: 1, SessionID: "a", Agent: "voice", Source: "mixer", Blocked: time.Second},
			events.SessionEnd{SessionID: "a", Outcome: events.OutcomeOK},
		)
		problems, err := testutil.CollectAndLint(c)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range problems {
			t.Errorf("promlint (tenant %v): %s: %s", opts.Tenant, p.Metric, p.Text)
		}
		if n := testutil.CollectAndCount(c); n < 12 {
			t.Errorf("collected %d series, want every kind present", n)
		}
	}
}

// exemplars returns, per bucket upper bound, the exemplar of the stall
// histogram of source.
func exemplars(t *testing.T, c *Collector, source string) map[float64]*dto.Exemplar {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[float64]*dto.Exemplar{}
	for _, mf := range mfs {
		if mf.GetName() != "openrtc_stall_duration_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			if m.GetLabel()[0].GetValue() != source {
				continue
			}
			for _, b := range m.GetHistogram().GetBucket() {
				if b.GetExemplar() != nil {
					out[b.GetUpperBound()] = b.GetExemplar()
				}
			}
		}
	}
	return out
}

func labelsOf(e *dto.Exemplar) map[string]string {
	m := map[string]string{}
	for _, l := range e.GetLabel() {
		m[l.GetName()] = l.GetValue()
	}
	return m
}

func TestExemplarIsWorstStallOfBucket(t *testing.T) {
	c := New(Options{ExemplarWindow: time.Minute})
	at := func(d time.Duration, id uint64, session string, blocked time.Duration) {
		c.Observe(events.Decoded{Time: t0.Add(d), Event: events.SlowSession{StallID: id, SessionID: session, Source: "mixer", Blocked: blocked}})
	}
	at(0, 1, "call-a", 300*time.Millisecond)
	at(time.Second, 2, "call-worst", 480*time.Millisecond)
	at(2*time.Second, 3, "call-b", 260*time.Millisecond) // milder, same bucket: the worst stays
	at(3*time.Second, 4, "call-long", 3*time.Second)
	got := exemplars(t, c, "mixer")
	if l := labelsOf(got[0.5]); l["session_id"] != "call-worst" || l["stall_id"] != "2" || got[0.5].GetValue() != 0.48 {
		t.Errorf("0.5 s bucket exemplar = %v %v, want call-worst, stall 2, 0.48", l, got[0.5].GetValue())
	}
	if l := labelsOf(got[5]); l["session_id"] != "call-long" {
		t.Errorf("5 s bucket exemplar = %v, want call-long", l)
	}
	// After the window, a milder stall takes the bucket: exemplars stay recent.
	at(2*time.Minute, 5, "call-later", 270*time.Millisecond)
	if l := labelsOf(exemplars(t, c, "mixer")[0.5]); l["session_id"] != "call-later" {
		t.Errorf("after the window, 0.5 s bucket exemplar = %v, want call-later", l)
	}
}

func TestExemplarTruncatesLongSessionIDs(t *testing.T) {
	for _, id := range []string{strings.Repeat("x", 300), strings.Repeat("é", 200), "short"} {
		c := New(Options{})
		c.Observe(events.Decoded{Time: t0, Event: events.SlowSession{StallID: 1234567, SessionID: id, Source: "mixer", Blocked: time.Second}})
		ex := exemplars(t, c, "mixer")[1]
		if ex == nil {
			t.Fatalf("session id of %d bytes: no exemplar (refused by client_golang?)", len(id))
		}
		runes := 0
		for k, v := range labelsOf(ex) {
			runes += len([]rune(k)) + len([]rune(v))
		}
		if runes > prometheus.ExemplarMaxRunes {
			t.Errorf("exemplar labels are %d runes, over the limit %d", runes, prometheus.ExemplarMaxRunes)
		}
		got := labelsOf(ex)["session_id"]
		if id == "short" && got != id {
			t.Errorf("short id = %q, want it whole", got)
		}
		if id != "short" && !strings.HasPrefix(id, strings.TrimSuffix(got, "…")) {
			t.Errorf("truncated id %q is not a prefix of the session id", got)
		}
	}
}

func TestWorkerRestartForgetsLiveSessions(t *testing.T) {
	c := New(Options{})
	feed(c, worker(), events.SessionStart{SessionID: "a", Agent: "voice"},
		events.SessionEnd{SessionID: "a", Outcome: events.OutcomeOK},
		events.SessionStart{SessionID: "b", Agent: "voice"},
		worker()) // restarted: b died with the old process
	want := `
# HELP openrtc_sessions_ended_total Sessions ended, by outcome (ok, error, cancelled).
# TYPE openrtc_sessions_ended_total counter
openrtc_sessions_ended_total{agent="voice",outcome="ok"} 1
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "openrtc_sessions_ended_total", "openrtc_sessions_active"); err != nil {
		t.Error(err)
	}
}
