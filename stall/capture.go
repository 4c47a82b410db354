package stall

import (
	"bytes"
	"fmt"
	"runtime/pprof"
	"time"

	"github.com/google/pprof/profile"
)

// captureHolders takes one goroutine profile and returns the stack, leaf
// first, of every goroutine that carries HoldLabel, keyed by its value. A
// value that more than one goroutine carries maps to nil: a holder's child
// inherits its labels, and nothing in the profile tells them apart.
// buf is reused between calls.
func captureHolders(buf *bytes.Buffer) (map[string][]frame, error) {
	buf.Reset()
	if err := pprof.Lookup("goroutine").WriteTo(buf, 0); err != nil {
		return nil, fmt.Errorf("stall: goroutine profile: %w", err)
	}
	return holdersFromProfile(buf.Bytes())
}

// holdersFromProfile parses a goroutine profile (gzipped or plain proto) and
// returns the stacks of the samples labelled with HoldLabel, as
// captureHolders does.
func holdersFromProfile(data []byte) (map[string][]frame, error) {
	p, err := profile.ParseData(data)
	if err != nil {
		return nil, fmt.Errorf("stall: parsing goroutine profile: %w", err)
	}
	out := make(map[string][]frame)
	for _, s := range p.Sample {
		ids := s.Label[HoldLabel]
		if len(ids) == 0 {
			continue
		}
		var frames []frame
		for _, loc := range s.Location {
			if loc == nil {
				continue
			}
			// Line lists inlined calls innermost first, matching leaf-first order.
			for _, ln := range loc.Line {
				if ln.Function == nil {
					continue
				}
				frames = append(frames, frame{fn: ln.Function.Name, file: ln.Function.Filename, line: ln.Line})
			}
		}
		if len(frames) == 0 {
			frames = []frame{} // present, unlike an ambiguous label
		}
		if len(ids) > 1 {
			frames = nil // malformed: one goroutine has one label set
		}
		for _, id := range ids {
			if _, dup := out[id]; dup {
				out[id] = nil
			} else {
				out[id] = frames
			}
		}
	}
	return out, nil
}

// captureDuty is the largest share of the watchdog's time that goroutine
// profiles may take: after one that took d, the next waits (1/captureDuty-1)·d.
// A variable only so that tests can shorten the wait.
var captureDuty = 0.01

// limiter allows rate captures per second, with bursts of up to max(rate, 1)
// (a token bucket), and keeps their total cost under captureDuty. It is used
// by the watchdog goroutine alone.
type limiter struct {
	rate      float64
	tokens    float64
	last      time.Time
	notBefore time.Time
}

func newLimiter(rate int) *limiter {
	return &limiter{rate: float64(rate), tokens: max(float64(rate), 1)}
}

// allow reports whether an event may happen at now, and spends a token if so.
func (l *limiter) allow(now time.Time) bool {
	if l.rate <= 0 || now.Before(l.notBefore) {
		return false
	}
	if !l.last.IsZero() {
		l.tokens = min(l.tokens+now.Sub(l.last).Seconds()*l.rate, max(l.rate, 1))
	}
	l.last = now
	if l.tokens < 1 {
		return false
	}
	l.tokens--
	return true
}

// spent records that a capture allowed at now took d.
func (l *limiter) spent(now time.Time, d time.Duration) {
	l.notBefore = now.Add(time.Duration(float64(d) * (1/captureDuty - 1)))
}
