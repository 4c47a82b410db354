package stall

import (
	"bytes"
	"fmt"
	"time"

	"github.com/openrtc-go/introspect/internal/goprof"
)

// holder is what a goroutine profile says of one holder: its stack, leaf
// first, and what it was waiting for ("" when it was running or ready to
// run; see goprof.Wait).
type holder struct {
	frames []frame
	wait   string
}

// captureHolders takes one goroutine profile and returns every goroutine
// that carries HoldLabel, keyed by its value. A value that more than one
// goroutine carries maps to a holder with nil frames: a holder's child
// inherits its labels, and nothing in the profile tells them apart.
// buf is reused between calls.
func captureHolders(buf *bytes.Buffer) (map[string]holder, error) {
	if err := goprof.Take(buf); err != nil {
		return nil, fmt.Errorf("stall: %w", err)
	}
	return holdersFromProfile(buf.Bytes())
}

// holdersFromProfile reads a goroutine profile in its text form (debug=1)
// and returns the holders in it, as captureHolders does. Only the holders'
// program counters are resolved.
func holdersFromProfile(data []byte) (map[string]holder, error) {
	out := make(map[string]holder)
	err := goprof.Parse(data, func(g *goprof.Group) {
		id, ok := g.Label(HoldLabel)
		if !ok {
			return
		}
		if _, dup := out[id]; dup || g.Count > 1 {
			out[id] = holder{}
			return
		}
		fs := goprof.Frames(g.PCs)
		h := holder{frames: make([]frame, len(fs)), wait: goprof.Wait(fs)}
		for i, f := range fs {
			h.frames[i] = frame{fn: f.Function, file: f.File, line: f.Line}
		}
		out[id] = h
	})
	if err != nil {
		return nil, fmt.Errorf("stall: %w", err)
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
