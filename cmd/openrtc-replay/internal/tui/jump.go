package tui

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// errJumpSyntax is wrapped by parseJump's errors about the text itself.
var errJumpSyntax = errors.New("want a duration (30s, 5m), a clock time (15:04:05), a date and time (2026-11-27 15:04:05), +90s from the start or -5m before the end")

// clockLayouts are the clock times the jump prompt reads, on the day shown.
var clockLayouts = []string{"15:04:05.999999999", "15:04:05", "15:04"}

// dateLayouts are the dates and times without a zone it reads, in the zone
// shown: as the header shows them (2026-11-27 06:30:00), or with a T.
var dateLayouts = []string{
	"2006-01-02 15:04:05.999999999", "2006-01-02 15:04:05", "2006-01-02 15:04",
	"2006-01-02T15:04:05.999999999", "2006-01-02T15:04:05", "2006-01-02T15:04",
}

// parseJump reads the jump prompt at the moment now of a recording spanning
// start to end. It accepts what the command line's --at accepts, and a bare
// duration that moves from now:
//
//	30s, 5m, 1h30m, 90   forward from now (back when back is set), in
//	                     seconds when no unit is given; clamped to the span
//	+90s                 from the start
//	-5m                  before the end
//	15:04, 15:04:05      that clock time on now's day (or the day before or
//	                     after, if only that one is in the recording)
//	2006-01-02T15:04:05Z an RFC 3339 time
//
// A moment outside the recording is an error, except for a move from now,
// which stops at the end.
func parseJump(s string, now, start, end time.Time, back bool) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, fmt.Errorf("jump: nothing typed: %w", errJumpSyntax)
	}
	var t time.Time
	switch {
	case s[0] == '+' || s[0] == '-':
		d, err := parseDur(s[1:])
		if err != nil {
			return time.Time{}, fmt.Errorf("jump %q: %w", s, err)
		}
		if s[0] == '+' {
			t = start.Add(d)
		} else {
			t = end.Add(-d)
		}
	case strings.Contains(s, "T") || strings.Count(s, "-") >= 2:
		var err error
		t, err = time.Parse(time.RFC3339Nano, s)
		for _, layout := range dateLayouts {
			if err == nil {
				break
			}
			t, err = time.ParseInLocation(layout, s, now.Location())
		}
		if err != nil {
			return time.Time{}, fmt.Errorf("jump %q: not a date and time: %w", s, errJumpSyntax)
		}
	case strings.Contains(s, ":"):
		var err error
		t, err = clockTime(s, now, start, end)
		if err != nil {
			return time.Time{}, fmt.Errorf("jump %q: %w", s, err)
		}
	default:
		d, err := parseDur(s)
		if err != nil {
			return time.Time{}, fmt.Errorf("jump %q: %w", s, err)
		}
		if back {
			d = -d
		}
		t = now.Add(d)
		if t.Before(start) {
			t = start
		}
		if t.After(end) {
			t = end
		}
		return t, nil
	}
	if t.Before(start) || t.After(end) {
		return time.Time{}, fmt.Errorf("jump: %s is outside the recording (%s to %s)",
			t.In(now.Location()).Format(time.DateTime), start.In(now.Location()).Format(time.DateTime), end.In(now.Location()).Format(time.DateTime))
	}
	return t, nil
}

// parseDur reads a non-negative duration: Go's syntax, a number of seconds,
// or a number of days ("2d").
func parseDur(s string) (time.Duration, error) {
	unit, num := time.Second, s
	if days, ok := strings.CutSuffix(s, "d"); ok {
		unit, num = 24*time.Hour, days
	}
	if f, err := strconv.ParseFloat(num, 64); err == nil {
		// !(f >= 0) also refuses NaN.
		if !(f >= 0) || f > float64(maxJump/unit) {
			return 0, fmt.Errorf("duration out of range: %w", errJumpSyntax)
		}
		return time.Duration(f * float64(unit)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, errJumpSyntax
	}
	return d, nil
}

// maxJump bounds a typed duration: a century is longer than any recording
// and far from time.Duration's overflow.
const maxJump = 100 * 365 * 24 * time.Hour

// clockTime places a clock time on now's day; when that falls outside the
// recording, on the neighbouring day that holds it.
func clockTime(s string, now, start, end time.Time) (time.Time, error) {
	var c time.Time
	var err error
	for _, layout := range clockLayouts {
		if c, err = time.Parse(layout, s); err == nil {
			break
		}
	}
	if err != nil {
		return time.Time{}, errJumpSyntax
	}
	y, mo, d := now.Date()
	t := time.Date(y, mo, d, c.Hour(), c.Minute(), c.Second(), c.Nanosecond(), now.Location())
	if t.Before(start) {
		if next := t.AddDate(0, 0, 1); !next.After(end) {
			return next, nil
		}
	}
	if t.After(end) {
		if prev := t.AddDate(0, 0, -1); !prev.Before(start) {
			return prev, nil
		}
	}
	return t, nil
}
