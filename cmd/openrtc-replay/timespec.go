package main

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// timeSyntax is what a time flag accepts, for error messages.
const timeSyntax = "want RFC 3339 (2026-11-27T03:12:00Z), a date and time as the screen shows it (2026-11-27 03:12:00), " +
	"a clock time on the recording's day (03:12 or 03:12:30), +DURATION from the start (+90s) or -DURATION before the end (-5m)"

// errOutside marks a time that parses but lies outside the recording.
var errOutside = errors.New("outside the recording")

// clockLayouts are the clock times accepted, most specific first.
var clockLayouts = []string{"15:04:05.999999999", "15:04:05", "15:04"}

// dateLayouts are the dates and times without a zone accepted, in the
// recording's zone: what the screen shows (2026-11-27 06:30:00), and the
// same with a T or to the minute.
var dateLayouts = []string{
	"2006-01-02 15:04:05.999999999", "2006-01-02 15:04:05", "2006-01-02 15:04",
	"2006-01-02T15:04:05.999999999", "2006-01-02T15:04:05", "2006-01-02T15:04",
	"2006-01-02 15:04:05.999999999 MST", "2006-01-02 15:04:05 MST",
}

// screenLayout is how errors write a moment: as the screen shows it, with
// the milliseconds when there are any.
const screenLayout = "2006-01-02 15:04:05.999"

// onScreen formats t as the screen and the errors show it.
func onScreen(t time.Time, loc *time.Location) string { return t.In(loc).Format(screenLayout) }

// parseMoment reads a moment of a recording that runs from first to last,
// whose clock times are in loc:
//
//	2026-11-27T03:12:00Z  RFC 3339
//	03:12, 03:12:30.5     a clock time: the first such moment at or after the
//	                      start of the day the recording starts on (so on a
//	                      recording that crosses midnight, 01:00 is the next day)
//	+90s, +1h30m          from the start
//	-5m                   before the end
//	start, end            the ends
//
// A moment outside [first, last] is an error wrapping errOutside.
func parseMoment(s string, first, last time.Time, loc *time.Location) (time.Time, error) {
	t, err := parseTimeSpec(s, first, last, loc)
	if err != nil {
		return time.Time{}, err
	}
	if t.Before(first) || t.After(last) {
		return t, fmt.Errorf("%s is %w, which runs from %s to %s", onScreen(t, loc),
			errOutside, onScreen(first, loc), onScreen(last, loc))
	}
	return t, nil
}

func parseTimeSpec(s string, first, last time.Time, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return time.Time{}, fmt.Errorf("empty time: %s", timeSyntax)
	case s == "start":
		return first, nil
	case s == "end":
		return last, nil
	case s[0] == '+' || s[0] == '-':
		d, err := time.ParseDuration(s[1:])
		if err != nil || d < 0 || strings.HasPrefix(s[1:], "+") || strings.HasPrefix(s[1:], "-") {
			return time.Time{}, fmt.Errorf("bad duration %q: %s", s, timeSyntax)
		}
		if s[0] == '+' {
			return first.Add(d), nil
		}
		return last.Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	for _, layout := range dateLayouts {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	for _, layout := range clockLayouts {
		c, err := time.Parse(layout, s)
		if err != nil {
			continue
		}
		day := first.In(loc)
		t := time.Date(day.Year(), day.Month(), day.Day(), c.Hour(), c.Minute(), c.Second(), c.Nanosecond(), loc)
		if t.Before(first) && !t.AddDate(0, 0, 1).After(last) {
			t = t.AddDate(0, 0, 1)
		}
		return t, nil
	}
	return time.Time{}, fmt.Errorf("bad time %q: %s", s, timeSyntax)
}
