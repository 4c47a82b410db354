package main

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseMoment(t *testing.T) {
	first := time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)
	last := first.Add(90 * time.Minute)
	night0 := time.Date(2026, 11, 26, 22, 0, 0, 0, time.UTC) // crosses midnight
	night1 := night0.Add(8 * time.Hour)
	paris := time.FixedZone("CET", 3600)
	tests := []struct {
		in          string
		first, last time.Time
		loc         *time.Location
		want        time.Time
		err         string
	}{
		{"2026-11-27T03:12:00Z", first, last, time.UTC, first.Add(12 * time.Minute), ""},
		{"2026-11-27T04:12:00+01:00", first, last, time.UTC, first.Add(12 * time.Minute), ""},
		{"2026-11-27T03:12:00.250Z", first, last, time.UTC, first.Add(12*time.Minute + 250*time.Millisecond), ""},
		{"03:12", first, last, time.UTC, first.Add(12 * time.Minute), ""},
		{"03:12:30", first, last, time.UTC, first.Add(12*time.Minute + 30*time.Second), ""},
		{"03:12:30.5", first, last, time.UTC, first.Add(12*time.Minute + 30500*time.Millisecond), ""},
		{" 03:12 ", first, last, time.UTC, first.Add(12 * time.Minute), ""},
		{"04:12", first, last, paris, first.Add(12 * time.Minute), ""}, // the recording's zone
		{"+90s", first, last, time.UTC, first.Add(90 * time.Second), ""},
		{"+1h30m", first, last, time.UTC, last, ""},
		{"-5m", first, last, time.UTC, last.Add(-5 * time.Minute), ""},
		{"start", first, last, time.UTC, first, ""},
		{"end", first, last, time.UTC, last, ""},
		{"23:30", night0, night1, time.UTC, night0.Add(90 * time.Minute), ""},
		{"01:00", night0, night1, time.UTC, night0.Add(3 * time.Hour), ""}, // the next day
		{"05:00", first, last, time.UTC, time.Time{}, "outside the recording"},
		{"02:59", first, last, time.UTC, time.Time{}, "outside the recording"},
		{"+2h", first, last, time.UTC, time.Time{}, "outside the recording"},
		{"-2h", first, last, time.UTC, time.Time{}, "outside the recording"},
		{"2026-11-28T03:00:00Z", first, last, time.UTC, time.Time{}, "outside the recording"},
		{"", first, last, time.UTC, time.Time{}, "empty time"},
		{"yesterday", first, last, time.UTC, time.Time{}, "bad time"},
		{"+90", first, last, time.UTC, time.Time{}, "bad duration"},
		{"+-5m", first, last, time.UTC, time.Time{}, "bad duration"},
		{"--5m", first, last, time.UTC, time.Time{}, "bad duration"},
		{"25:00", first, last, time.UTC, time.Time{}, "bad time"},
		{"3:12pm", first, last, time.UTC, time.Time{}, "bad time"},
	}
	for _, tt := range tests {
		got, err := parseMoment(tt.in, tt.first, tt.last, tt.loc)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("parseMoment(%q) = %v, %v; want error %q", tt.in, got, err, tt.err)
			}
			if tt.err == "outside the recording" && !errors.Is(err, errOutside) {
				t.Errorf("parseMoment(%q): %v does not wrap errOutside", tt.in, err)
			}
			continue
		}
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("parseMoment(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

// FuzzParseMoment: any string either parses to a moment inside the
// recording or is an error; it never panics.
func FuzzParseMoment(f *testing.F) {
	for _, s := range []string{"2026-11-27T03:12:00Z", "03:12", "03:12:30.5", "+90s", "-5m", "start", "end", "", "+", "-", "24:00", "+9999999h"} {
		f.Add(s)
	}
	first := time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)
	last := first.Add(time.Hour)
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseMoment(s, first, last, time.UTC)
		if err == nil && (got.Before(first) || got.After(last)) {
			t.Fatalf("parseMoment(%q) = %v, outside [%v, %v] without an error", s, got, first, last)
		}
	})
}
