package tui

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseJump(t *testing.T) {
	start, end := at(0), at(3600) // 03:12:00 to 04:12:00
	now := at(600)                // 03:22:00
	tests := []struct {
		in   string
		back bool
		want time.Time
		err  string
	}{
		{in: "30s", want: at(630)},
		{in: "30s", back: true, want: at(570)},
		{in: " 5m ", want: at(900)},
		{in: "1h30m", want: end}, // clamped
		{in: "1h", back: true, want: start},
		{in: "90", want: at(690)},
		{in: "1.5", back: true, want: at(598.5)},
		{in: "0.01d", want: at(600 + 864)},
		{in: "+90s", want: at(90)},
		{in: "+90s", back: true, want: at(90)}, // from the start either way
		{in: "-5m", want: at(3300)},
		{in: "03:40", want: at(28 * 60)},
		{in: "03:40:05", want: at(28*60 + 5)},
		{in: "03:40:05.5", want: at(28*60 + 5.5)},
		{in: "2026-11-27T03:30:00Z", want: at(18 * 60)},
		{in: "2026-11-27T04:30:00+01:00", want: at(18 * 60)},
		{in: "", err: "nothing typed"},
		{in: "soon", err: "want a duration"},
		{in: "-", err: "want a duration"},
		{in: "+-5m", err: "want a duration"},
		{in: "--5m", err: "want a duration"},
		{in: "NaN", err: "out of range"},
		{in: "1e300", err: "out of range"},
		{in: "25:00", err: "want a duration"},
		{in: "2026-13-01T00:00:00Z", err: "not a date and time"},
		{in: "2026-11-27 03:13:00", want: at(60)}, // as the header shows it
		{in: "2026-11-27T03:13:30", want: at(90)},
		{in: "05:00", err: "outside the recording"},
		{in: "+2h", err: "outside the recording"},
		{in: "-2h", err: "outside the recording"},
		{in: "2026-11-28T03:30:00Z", err: "outside the recording"},
	}
	for _, tt := range tests {
		got, err := parseJump(tt.in, now, start, end, tt.back)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("parseJump(%q) = %v, %v; want an error with %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("parseJump(%q, back=%v) = %v, %v; want %v", tt.in, tt.back, got, err, tt.want)
		}
	}
}

func TestParseJumpClockAcrossMidnight(t *testing.T) {
	start := time.Date(2026, 11, 27, 23, 0, 0, 0, time.UTC)
	end := start.Add(3 * time.Hour) // 23:00 to 02:00 the next day
	for _, tt := range []struct {
		now  time.Time
		in   string
		want time.Time
	}{
		{start.Add(10 * time.Minute), "01:30", end.Add(-30 * time.Minute)}, // the next day
		{end.Add(-time.Minute), "23:30", start.Add(30 * time.Minute)},      // the day before
	} {
		got, err := parseJump(tt.in, tt.now, start, end, false)
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("parseJump(%q) at %v = %v, %v; want %v", tt.in, tt.now, got, err, tt.want)
		}
	}
}

// FuzzParseJump feeds the prompt what a user may type or paste: it must
// not panic, an error must say what it wants, and a time it accepts must
// lie in the recording.
func FuzzParseJump(f *testing.F) {
	for _, s := range []string{"30s", "5m", "+90s", "-5m", "15:04:05", "2026-11-27T03:30:00Z", "1.5d", "NaN", "9999999999h", "-", ""} {
		f.Add(s, false)
	}
	start, end := at(0), at(3600)
	f.Fuzz(func(t *testing.T, s string, back bool) {
		got, err := parseJump(s, at(600), start, end, back)
		if err != nil {
			if !errors.Is(err, errJumpSyntax) && !strings.Contains(err.Error(), "outside the recording") {
				t.Fatalf("parseJump(%q): unhelpful error %v", s, err)
			}
			return
		}
		if got.Before(start) || got.After(end) {
			t.Fatalf("parseJump(%q) = %v, outside %v to %v", s, got, start, end)
		}
	})
}
