package events_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/openrtc-go/introspect/events"
	"github.com/tidwall/gjson"
)

// encode renders e as slog's JSON handler does, without the newline.
func encode(tb testing.TB, at time.Time, e events.Event) []byte {
	tb.Helper()
	var buf bytes.Buffer
	h := slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})
	if err := h.Handle(context.Background(), events.Record(at, e)); err != nil {
		tb.Fatal(err)
	}
	return bytes.TrimSpace(buf.Bytes())
}

// Nothing Decode returns aliases the line: a reader reuses its buffer.
func TestDecodeCopiesOut(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 3, 12, 0, 0, time.UTC)
	lines := [][]byte{[]byte(`{"time":"2026-11-27T03:12:00Z","level":"INFO","msg":"GET /","user":"x"}`)}
	for _, e := range examples() {
		lines = append(lines, encode(t, t0, e))
	}
	for _, line := range lines {
		want, err := events.Decode(bytes.Clone(line))
		if err != nil {
			t.Fatal(err)
		}
		got, err := events.Decode(line)
		if err != nil {
			t.Fatal(err)
		}
		for i := range line {
			line[i] = 'X'
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("decoded record changed with its line:\n got %#v\nwant %#v", got, want)
		}
	}
}

// DecodeCounts gives what Decode gives, the maps as lists.
func TestDecodeCounts(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 3, 12, 0, 0, time.UTC)
	for _, e := range examples() {
		line := encode(t, t0, e)
		var c events.SampleCounts
		got, err := events.DecodeCounts(line, &c)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := events.Decode(line)
		s, ok := want.Event.(events.Sample)
		if !ok {
			if !reflect.DeepEqual(got, want) || len(c.CPU)+len(c.Gor) > 0 {
				t.Errorf("%s: DecodeCounts = %#v %+v, Decode = %#v", e.Kind(), got, c, want)
			}
			continue
		}
		if !reflect.DeepEqual(mapOf(c.CPU), orEmpty(s.CPU.Sessions)) || !reflect.DeepEqual(mapOf(c.Gor), intMap(s.GoroutinesBySession)) {
			t.Errorf("counts %+v, want %v and %v", c, s.CPU.Sessions, s.GoroutinesBySession)
		}
		s.CPU.Sessions, s.GoroutinesBySession = nil, nil
		want.Event = s
		if !reflect.DeepEqual(got, want) {
			t.Errorf("DecodeCounts = %#v, want %#v", got, want)
		}
	}
}

func mapOf(cs []events.SessionCount) map[string]int64 {
	m := map[string]int64{}
	for _, c := range cs {
		m[string(c.ID)] = c.N
	}
	return m
}

// orEmpty is m, or an empty map for nil, as mapOf gives for no counts.
func orEmpty(m map[string]int64) map[string]int64 {
	if m == nil {
		return map[string]int64{}
	}
	return m
}

func intMap(m map[string]int) map[string]int64 {
	out := map[string]int64{}
	for k, v := range m {
		out[k] = int64(v)
	}
	return out
}

// The counts' own reading of an object agrees with gjson's, whatever the
// object's form: each key once, its last value.
func TestSampleCountsForms(t *testing.T) {
	tests := []struct {
		name, obj string
		want      map[string]int64
	}{
		{"slog's", `{"a":1,"b":22,"c":333}`, map[string]int64{"a": 1, "b": 22, "c": 333}},
		{"empty", `{}`, map[string]int64{}},
		{"unsorted", `{"b":2,"a":1}`, map[string]int64{"a": 1, "b": 2}},
		{"repeated key, last wins", `{"a":1,"b":2,"a":3}`, map[string]int64{"a": 3, "b": 2}},
		{"spaces", `{ "a" : 1 , "b" : 2 }`, map[string]int64{"a": 1, "b": 2}},
		{"escaped key", `{"a\"b":1,"c\u00e9":2}`, map[string]int64{`a"b`: 1, "cé": 2}},
		{"negative and zero", `{"a":-4,"b":0,"c":-0}`, map[string]int64{"a": -4, "b": 0, "c": 0}},
		{"float", `{"a":1.5,"b":2e2}`, map[string]int64{"a": 1, "b": 200}},
		{"big", `{"a":123456789012345678,"b":1234567890123456789}`, map[string]int64{"a": 123456789012345678, "b": 1234567890123456789}},
		{"not numbers", `{"a":"7","b":true,"c":null,"d":{}}`, map[string]int64{"a": 7, "b": 1, "c": 0, "d": 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line := []byte(`{"time":"2026-11-27T03:12:00Z","level":"DEBUG","msg":"sample","v":1,"rss_bytes":1,"sessions":1,"cpu":{"dur_ms":1000,"period_ms":10,"total":3,"sessions":` +
				tt.obj + `},"gor":` + tt.obj + `}`)
			var c events.SampleCounts
			if _, err := events.DecodeCounts(line, &c); err != nil {
				t.Fatal(err)
			}
			if got := mapOf(c.CPU); !reflect.DeepEqual(got, tt.want) || len(c.CPU) != len(tt.want) {
				t.Errorf("cpu %+v, want %v", c.CPU, tt.want)
			}
			if got := mapOf(c.Gor); !reflect.DeepEqual(got, tt.want) || len(c.Gor) != len(tt.want) {
				t.Errorf("gor %+v, want %v", c.Gor, tt.want)
			}
			if !reflect.DeepEqual(gjsonMap(gjson.Parse(tt.obj)), tt.want) {
				t.Errorf("the test's own want disagrees with gjson: %v", gjsonMap(gjson.Parse(tt.obj)))
			}
		})
	}
}

// gjsonMap is the map Decode made of a count object before it read them by
// hand: the reference the hand-reading is held to.
func gjsonMap(obj gjson.Result) map[string]int64 {
	if !obj.IsObject() {
		return nil
	}
	m := map[string]int64{}
	obj.ForEach(func(k, v gjson.Result) bool { m[k.Str] = v.Int(); return true })
	return m
}

func TestDecodeCutShort(t *testing.T) {
	full := `{"time":"2026-11-27T03:12:00Z","level":"DEBUG","msg":"sample","v":1,"rss_bytes":1,"sessions":1,"cpu":{"dur_ms":1000,"total":3,"sessions":{"a":1}}}`
	for n := 1; n < len(full); n++ {
		if _, err := events.Decode([]byte(full[:n])); !errors.Is(err, events.ErrMalformed) {
			t.Fatalf("Decode(%q) = %v, want ErrMalformed", full[:n], err)
		}
	}
}

// FuzzDecode: no line makes Decode panic; every error wraps ErrMalformed;
// DecodeCounts agrees with Decode, and its counts with gjson's reading of
// the objects.
func FuzzDecode(f *testing.F) {
	t0 := time.Date(2026, 11, 27, 3, 12, 0, 0, time.UTC)
	for _, e := range examples() {
		f.Add(encode(f, t0, e))
	}
	for _, s := range []string{
		`{"time":"2026-11-27T03:12:00Z","level":"DEBUG","msg":"sample","v":1,"cpu":{"dur_ms":1,"total":3,"sessions":{"b":2,"a":1,"b":5}},"gor":{"x\"":1}}`,
		`{"time":"2026-11-27T03:12:00Z","msg":"sample","v":1,"cpu":{"sessions":{"a":1.5e3,"b":-2}},"gor":[1]}`,
		`{"time":"2026-11-27T03:12:00Z","msg":"session.start","v":1,"session_id":"a","labels":{"k":"v"}}`,
		`hello`, `[1,2]`, `{"time":1}`, `{`, ` { } `,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		d, err := events.Decode(line)
		if err != nil {
			if !errors.Is(err, events.ErrMalformed) {
				t.Fatalf("Decode(%q) = %v, does not wrap ErrMalformed", line, err)
			}
			return
		}
		var c events.SampleCounts
		dc, err := events.DecodeCounts(line, &c)
		if err != nil {
			t.Fatalf("Decode accepts %q, DecodeCounts: %v", line, err)
		}
		s, ok := d.Event.(events.Sample)
		if !ok {
			if !reflect.DeepEqual(d, dc) {
				t.Fatalf("%q: Decode %#v, DecodeCounts %#v", line, d, dc)
			}
			return
		}
		if s.CPU.Sessions != nil && !reflect.DeepEqual(mapOf(c.CPU), s.CPU.Sessions) {
			t.Fatalf("%q: cpu counts %+v, map %v", line, c.CPU, s.CPU.Sessions)
		}
		if s.GoroutinesBySession != nil && !reflect.DeepEqual(mapOf(c.Gor), intMap(s.GoroutinesBySession)) {
			t.Fatalf("%q: gor counts %+v, map %v", line, c.Gor, s.GoroutinesBySession)
		}
		if len(mapOf(c.CPU)) != len(c.CPU) || len(mapOf(c.Gor)) != len(c.Gor) {
			t.Fatalf("%q: a session counted twice: %+v", line, c)
		}
		if gjson.ValidBytes(line) {
			root := gjson.ParseBytes(line)
			if m := gjsonMap(root.Get("gor")); m != nil && !reflect.DeepEqual(mapOf(c.Gor), m) {
				t.Fatalf("%q: gor counts %+v, gjson %v", line, c.Gor, m)
			}
			if cpu := root.Get("cpu"); cpu.IsObject() {
				if m := gjsonMap(cpu.Get("sessions")); m != nil && !reflect.DeepEqual(mapOf(c.CPU), m) {
					t.Fatalf("%q: cpu counts %+v, gjson %v", line, c.CPU, m)
				}
			}
		}
	})
}

func sampleLine(tb testing.TB, sessions int) []byte {
	by := make(map[string]int64, sessions)
	gor := map[string]int{}
	for i := range sessions {
		id := "job-" + strconv.FormatInt(int64(0x100000+i*7919), 16)
		by[id] = int64(1 + i%20)
		if i%15 == 0 {
			gor[id] = 5 + i%7
		}
	}
	return encode(tb, time.Date(2026, 11, 27, 3, 12, 0, 0, time.UTC), events.Sample{
		RSSBytes: 6 << 30, Sessions: 1000, Goroutines: 5500, Runnable: 3, Running: 2, Waiting: 5495,
		HeapBytes: 3 << 30, GCCycles: 1, GCPause: 300 * time.Microsecond, GCPauseMax: 300 * time.Microsecond,
		SchedP50: 20 * time.Microsecond, SchedP99: time.Millisecond, SchedMax: 2 * time.Millisecond,
		CPU:                 events.CPUWindow{Duration: time.Second, Period: 10 * time.Millisecond, Total: 370, Unlabelled: 38, Sessions: by},
		GoroutinesBySession: gor,
	})
}

// BenchmarkDecodeSample is one sample of a worker with a hundred sessions
// on CPU, as a replay meets 86,400 times a day: Decode with its maps, and
// DecodeCounts, which a fold uses.
func BenchmarkDecodeSample(b *testing.B) {
	line := sampleLine(b, 100)
	b.Run("Decode", func(b *testing.B) {
		b.SetBytes(int64(len(line)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := events.Decode(line); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("DecodeCounts", func(b *testing.B) {
		b.SetBytes(int64(len(line)))
		b.ReportAllocs()
		var c events.SampleCounts
		for b.Loop() {
			if _, err := events.DecodeCounts(line, &c); err != nil {
				b.Fatal(err)
			}
		}
	})
}
