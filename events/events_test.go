package events_test

import (
	"bytes"
	"context"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/openrtc-go/introspect/events"
	"github.com/openrtc-go/introspect/internal/eventstest"
)

// examples holds one event of every kind with every field set.
func examples() []events.Event {
	return eventstest.Every(time.Date(2026, 11, 27, 3, 12, 0, 0, time.UTC))
}

func TestRoundTrip(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 3, 12, 0, 123456789, time.UTC)
	for _, e := range examples() {
		t.Run(e.Kind(), func(t *testing.T) {
			var buf bytes.Buffer
			h := slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})
			if err := h.Handle(context.Background(), events.Record(t0, e)); err != nil {
				t.Fatal(err)
			}
			d, err := events.Decode(bytes.TrimSpace(buf.Bytes()))
			if err != nil {
				t.Fatalf("decode %s: %v", buf.String(), err)
			}
			if !d.Time.Equal(t0) || d.Kind != e.Kind() || d.Level != e.Level() || d.V != events.SchemaVersion {
				t.Errorf("header = %v %q %v v%d", d.Time, d.Kind, d.Level, d.V)
			}
			if !reflect.DeepEqual(d.Event, e) {
				t.Errorf("round trip:\n got %#v\nwant %#v\nline %s", d.Event, e, buf.String())
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name, line, wantErr string
	}{
		{"not json", `hello`, "not valid JSON"},
		{"array", `[1,2]`, "not a JSON object"},
		{"no time", `{"msg":"x"}`, "no \"time\""},
		{"no msg", `{"time":"2026-11-27T03:12:00Z"}`, "no \"msg\""},
		{"bad time", `{"time":"yesterday","msg":"x"}`, "time"},
		{"start without id", `{"time":"2026-11-27T03:12:00Z","msg":"session.start","v":1}`, "no session_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := events.Decode([]byte(tt.line))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestDecodeForeignAndNewer(t *testing.T) {
	d, err := events.Decode([]byte(`{"time":"2026-11-27T03:12:00Z","level":"INFO","msg":"sample","user":"x"}`))
	if err != nil || d.Event != nil {
		t.Fatalf("app record without v: %v %#v", err, d.Event)
	}
	d, err = events.Decode([]byte(`{"time":"2026-11-27T03:12:00Z","level":"INFO","msg":"session.migrate","v":2}`))
	if err != nil || d.Event != nil || !d.Newer() {
		t.Fatalf("unknown newer kind: %v %#v newer=%v", err, d.Event, d.Newer())
	}
	d, err = events.Decode([]byte(`{"time":"2026-11-27T03:12:00Z","level":"INFO","msg":"session.start","v":2,"session_id":"a","shiny":1}`))
	if err != nil || d.Event.(events.SessionStart).SessionID != "a" || !d.Newer() {
		t.Fatalf("newer known kind: %v %#v", err, d.Event)
	}
}
