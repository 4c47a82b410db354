package schema_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/openrtc-go/introspect/events"
	"github.com/openrtc-go/introspect/internal/eventstest"
	"github.com/openrtc-go/introspect/schema"
)

var t0 = time.Date(2026, 11, 27, 3, 12, 0, 123456789, time.UTC)

// full returns one event of every kind with every field set, and a few
// variants with the optional fields left out, as the Go code produces them.
func full() []events.Event {
	bare := events.Sample{RSSBytes: 1, Runnable: -1, Running: -1, Waiting: -1}
	unavailable := bare
	unavailable.CPU = events.CPUWindow{Unavailable: "the application is profiling"}
	return append(eventstest.Every(t0),
		events.WorkerStart{},
		events.SessionStart{SessionID: "job-2"},
		events.SessionEnd{SessionID: "job-2", Outcome: events.OutcomeOK},
		bare,
		unavailable,
		events.SlowSession{Source: events.SourceScheduler, Blocked: 80 * time.Millisecond, Confidence: 0.35},
		events.Keyframe{},
		events.WorkerStop{},
	)
}

// encode writes e as slog's JSON handler does, the recorder's line format.
func encode(t testing.TB, e events.Event) []byte {
	t.Helper()
	var buf bytes.Buffer
	h := slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})
	if err := h.Handle(context.Background(), events.Record(t0, e)); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

func TestEmittedEventsConform(t *testing.T) {
	seen := map[string]bool{}
	for _, e := range full() {
		line := encode(t, e)
		seen[e.Kind()] = true
		if err := schema.Validate(line); err != nil {
			t.Errorf("%s: %v\nline: %s", e.Kind(), err, line)
		}
	}
	for _, k := range events.Kinds {
		if !seen[k] {
			t.Errorf("no example of %q", k)
		}
	}
}

// document returns the schema file as a generic JSON value.
func document(t *testing.T) map[string]any {
	t.Helper()
	b, err := schema.FS.ReadFile(schema.Path)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", schema.Path, err)
	}
	return doc
}

// The schema compiles on its own, against the draft 2020-12 metaschema,
// with any validator: here, jsonschema/v6 straight from the embedded file.
func TestSchemaCompiles(t *testing.T) {
	b, err := schema.FS.ReadFile(schema.Path)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertVocabs()
	if err := c.AddResource("events.json", doc); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Compile("events.json"); err != nil {
		t.Fatal(err)
	}
	if got := document(t)["$id"]; got != schema.ID {
		t.Errorf("$id = %v, want %v", got, schema.ID)
	}
}

// The schema knows exactly the kinds the events package defines, at the same
// version.
func TestKindsMatch(t *testing.T) {
	if schema.Version != events.SchemaVersion {
		t.Fatalf("schema.Version = %d, events.SchemaVersion = %d", schema.Version, events.SchemaVersion)
	}
	defs := document(t)["$defs"].(map[string]any)
	var kinds []string
	for _, k := range defs["kind"].(map[string]any)["enum"].([]any) {
		kinds = append(kinds, k.(string))
	}
	if !slices.Equal(kinds, events.Kinds) {
		t.Errorf("schema kinds %v, events.Kinds %v", kinds, events.Kinds)
	}
	for _, k := range events.Kinds {
		if _, ok := defs[k]; !ok {
			t.Errorf("no $defs entry for %q", k)
		}
	}
}

// Every key the Go code writes is named by the schema: unknown properties
// are allowed for compatibility, so without this check a field could be
// added to an event and silently never described.
func TestEveryFieldDescribed(t *testing.T) {
	doc := document(t)
	defs := doc["$defs"].(map[string]any)
	for _, e := range full() {
		var rec map[string]any
		if err := json.Unmarshal(encode(t, e), &rec); err != nil {
			t.Fatal(err)
		}
		root := map[string]any{"allOf": []any{defs["envelope"], defs[e.Kind()]}}
		for _, missing := range undescribed(defs, root, rec, e.Kind()) {
			t.Errorf("%s: field %s is not in the schema", e.Kind(), missing)
		}
	}
}

// undescribed returns the paths in v that schema node s does not name.
func undescribed(defs map[string]any, s map[string]any, v any, path string) []string {
	props, additional, items := collect(defs, s)
	var out []string
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			p := path + "." + k
			if sub, ok := props[k]; ok {
				out = append(out, undescribed(defs, sub, x, p)...)
			} else if additional != nil {
				out = append(out, undescribed(defs, additional, x, p)...)
			} else {
				out = append(out, p)
			}
		}
	case []any:
		for _, x := range v {
			if items == nil {
				return []string{path + "[]"}
			}
			out = append(out, undescribed(defs, items, x, path+"[]")...)
		}
	}
	return out
}

// collect merges the properties, additionalProperties and items of s and of
// the schemas it refers to.
func collect(defs map[string]any, s map[string]any) (props map[string]map[string]any, additional, items map[string]any) {
	props = map[string]map[string]any{}
	var walk func(s map[string]any)
	walk = func(s map[string]any) {
		if ref, ok := s["$ref"].(string); ok {
			walk(defs[strings.TrimPrefix(ref, "#/$defs/")].(map[string]any))
		}
		all, _ := s["allOf"].([]any)
		for _, sub := range all {
			walk(sub.(map[string]any))
		}
		if p, ok := s["properties"].(map[string]any); ok {
			for k, sub := range p {
				props[k] = sub.(map[string]any)
			}
		}
		if a, ok := s["additionalProperties"].(map[string]any); ok {
			additional = a
		}
		if i, ok := s["items"].(map[string]any); ok {
			items = i
		}
	}
	walk(s)
	return props, additional, items
}

func TestValidate(t *testing.T) {
	const head = `{"time":"2026-11-27T03:12:00.5Z","level":"INFO","msg":`
	tests := []struct {
		name, line string
		want       error // nil, schema.ErrForeign or schema.ErrInvalid
		mention    string
	}{
		{"minimal start", head + `"session.start","v":1,"session_id":"a","agent_name":""}`, nil, ""},
		{"added field", head + `"session.start","v":1,"session_id":"a","agent_name":"","shiny":[1]}`, nil, ""},
		{"newer kind", head + `"session.migrate","v":2,"session_id":"a"}`, nil, ""},
		{"newer version of a known kind", head + `"session.end","v":3,"session_id":"a","outcome":"moved","to":"w2"}`, nil, ""},
		{"app line", `{"time":"2026-11-27T03:12:00Z","level":"INFO","msg":"GET /healthz","status":200}`, schema.ErrForeign, ""},
		{"app line named like ours", `{"time":"2026-11-27T03:12:00Z","level":"DEBUG","msg":"sample"}`, schema.ErrForeign, ""},
		{"unknown kind at v1", head + `"session.migrate","v":1}`, schema.ErrInvalid, "minimum"},
		{"not json", `time=now msg=hello`, schema.ErrInvalid, ""},
		{"two values", `{"v":1} {}`, schema.ErrInvalid, ""},
		{"array", `[1]`, schema.ErrInvalid, "not a JSON object"},
		{"no time", `{"level":"INFO","msg":"worker.stop","v":1}`, schema.ErrInvalid, "time"},
		{"bad time", `{"time":"yesterday","level":"INFO","msg":"worker.stop","v":1}`, schema.ErrInvalid, "date-time"},
		{"lower-case time", `{"time":"2026-11-27t03:12:00z","level":"INFO","msg":"worker.stop","v":1}`, schema.ErrInvalid, "/time"},
		{"leap second", `{"time":"2026-12-31T23:59:60Z","level":"INFO","msg":"worker.stop","v":1}`, schema.ErrInvalid, "/time"},
		{"offset time", `{"time":"2026-11-27T04:12:00.000000001+01:00","level":"INFO","msg":"worker.stop","v":1}`, nil, ""},
		{"bad level", `{"time":"2026-11-27T03:12:00Z","level":"LOUD","msg":"worker.stop","v":1}`, schema.ErrInvalid, "level"},
		{"wrong level for kind", `{"time":"2026-11-27T03:12:00Z","level":"WARN","msg":"sample","v":1}`, schema.ErrInvalid, "level"},
		{"v not integer", head + `"worker.stop","v":1.5}`, schema.ErrInvalid, "v"},
		{"start without id", head + `"session.start","v":1,"agent_name":"x"}`, schema.ErrInvalid, "session_id"},
		{"start with empty id", head + `"session.start","v":1,"session_id":"","agent_name":"x"}`, schema.ErrInvalid, "session_id"},
		{"negative rss", `{"time":"2026-11-27T03:12:00Z","level":"DEBUG","msg":"sample","v":1,"rss_bytes":-1,"sessions":0,"goroutines":0,"heap_bytes":0,"gc_cycles":0,"gc_pause_ms":0,"gc_pause_max_ms":0,"sched_p50_ms":0,"sched_p99_ms":0,"sched_max_ms":0,"mutex_wait_ms_per_s":0}`, schema.ErrInvalid, "rss_bytes"},
		{"half the goroutine states", `{"time":"2026-11-27T03:12:00Z","level":"DEBUG","msg":"sample","v":1,"rss_bytes":1,"sessions":0,"goroutines":0,"gor_runnable":1,"heap_bytes":0,"gc_cycles":0,"gc_pause_ms":0,"gc_pause_max_ms":0,"sched_p50_ms":0,"sched_p99_ms":0,"sched_max_ms":0,"mutex_wait_ms_per_s":0}`, schema.ErrInvalid, "gor_running"},
		{"cpu sessions not counts", `{"time":"2026-11-27T03:12:00Z","level":"DEBUG","msg":"sample","v":1,"rss_bytes":1,"sessions":0,"goroutines":0,"heap_bytes":0,"gc_cycles":0,"gc_pause_ms":0,"gc_pause_max_ms":0,"sched_p50_ms":0,"sched_p99_ms":0,"sched_max_ms":0,"mutex_wait_ms_per_s":0,"cpu":{"dur_ms":1000,"period_ms":10,"total":1,"unlabelled":0,"sessions":{"a":"many"}}}`, schema.ErrInvalid, "sessions"},
		{"confidence above 1", `{"time":"2026-11-27T03:12:00Z","level":"WARN","msg":"slow-session","v":1,"source":"scheduler","blocked_ms":60,"ongoing":false,"confidence":2,"stall_id":1}`, schema.ErrInvalid, "confidence"},
		{"stack of numbers", `{"time":"2026-11-27T03:12:00Z","level":"WARN","msg":"slow-session","v":1,"source":"loop","blocked_ms":60,"ongoing":false,"confidence":1,"stall_id":1,"stack":[1]}`, schema.ErrInvalid, "stack"},
		{"keyframe session without start", `{"time":"2026-11-27T03:12:00Z","level":"DEBUG","msg":"keyframe","v":1,"worker":{"name":"w","sessions_started":1,"sessions_failed":0,"stalls":0},"live":1,"sessions":[{"session_id":"a","agent_name":"","peak_bytes":0,"cpu_samples":0,"cpu_ns":0}]}`, schema.ErrInvalid, "start"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := schema.Validate([]byte(tt.line))
			switch {
			case tt.want == nil && err != nil:
				t.Fatalf("Validate: %v", err)
			case tt.want != nil && !errors.Is(err, tt.want):
				t.Fatalf("Validate = %v, want %v", err, tt.want)
			case tt.mention != "" && !strings.Contains(err.Error(), tt.mention):
				t.Fatalf("Validate = %v, want it to mention %q", err, tt.mention)
			}
		})
	}
}

// A record the schema accepts is one the events decoder accepts, and a
// record of a known kind that the decoder rejects is one the schema rejects:
// the two readers agree.
func FuzzValidate(f *testing.F) {
	for _, e := range full() {
		f.Add(encode(f, e))
	}
	f.Add([]byte(`{"time":"2026-11-27T03:12:00Z","level":"INFO","msg":"session.migrate","v":2}`))
	f.Add([]byte(`{"time":"2026-11-27T03:12:00Z","level":"INFO","msg":"GET /"}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		err := schema.Validate(line)
		if err != nil {
			if !errors.Is(err, schema.ErrForeign) && !errors.Is(err, schema.ErrInvalid) {
				t.Fatalf("Validate = %v, wraps neither sentinel", err)
			}
			return
		}
		d, derr := events.Decode(line)
		if derr != nil && strings.Contains(derr.Error(), "cannot unmarshal number") {
			return // see the package doc: 1.0 is an integer to JSON Schema, not to encoding/json
		}
		if derr != nil {
			t.Fatalf("schema accepts %s, events.Decode: %v", line, derr)
		}
		if d.V == 0 || (d.Event == nil && !d.Newer()) {
			t.Fatalf("schema accepts %s, decoded %+v", line, d)
		}
	})
}

// A valid record's decoded event re-encodes to a record that is still valid.
func TestRoundTripStaysValid(t *testing.T) {
	for _, e := range full() {
		d, err := events.Decode(encode(t, e))
		if err != nil {
			t.Fatal(err)
		}
		if err := schema.Validate(encode(t, d.Event)); err != nil {
			t.Errorf("%s re-encoded: %v", e.Kind(), err)
		}
	}
}
