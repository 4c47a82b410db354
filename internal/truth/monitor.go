//go:build linux

package truth

import (
	"sort"
	"sync"
	"time"
)

// A point is what the monitor read at one moment: the process's CPU and
// RSS, and the CPU of every owner's threads so far.
type point struct {
	At   time.Time
	Proc time.Duration
	RSS  uint64
	CPU  map[string]time.Duration
}

// The monitor reads the clocks of the tracked threads, the process's CPU and
// its RSS every interval, so that any window of the run can be judged.
type monitor struct {
	mu       sync.Mutex
	live     map[*tracked]struct{}
	finished map[string]time.Duration
	points   []point
}

func newMonitor() *monitor {
	return &monitor{live: map[*tracked]struct{}{}, finished: map[string]time.Duration{}}
}

func (m *monitor) register(t *tracked) {
	m.mu.Lock()
	m.live[t] = struct{}{}
	m.mu.Unlock()
}

func (m *monitor) unregister(t *tracked, used time.Duration) {
	m.mu.Lock()
	delete(m.live, t)
	m.finished[t.owner] += used
	m.mu.Unlock()
}

// add counts CPU measured other than by the monitor (a freeMeter's) toward
// owner's total. The monitor's points do not see it: windows are not judged
// for such an owner.
func (m *monitor) add(owner string, used time.Duration) {
	m.mu.Lock()
	m.finished[owner] += used
	m.mu.Unlock()
}

// read takes one point.
func (m *monitor) read() {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := point{At: time.Now(), Proc: processCPU(), RSS: rssBytes(), CPU: make(map[string]time.Duration, len(m.finished)+4)}
	for o, d := range m.finished {
		p.CPU[o] += d
	}
	for t := range m.live {
		if c, ok := threadClockOf(t.tid); ok {
			p.CPU[t.owner] += c - t.base
		}
	}
	m.points = append(m.points, p)
}

// run reads a point every interval until stop is closed, and once more then.
func (m *monitor) run(interval time.Duration, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	tk := time.NewTicker(interval)
	defer tk.Stop()
	for {
		m.read()
		select {
		case <-stop:
			m.read()
			return
		case <-tk.C:
		}
	}
}

// total is each owner's CPU over the whole run: every tracked thread has
// ended by the time it is asked.
func (m *monitor) total() map[string]time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]time.Duration, len(m.finished))
	for o, d := range m.finished {
		out[o] = d
	}
	return out
}

// Series is the monitor's readings, in time order.
type Series []point

// at interpolates the readings linearly at t; ok is false outside them.
func (s Series) at(t time.Time) (p point, ok bool) {
	if len(s) == 0 || t.Before(s[0].At) || t.After(s[len(s)-1].At) {
		return point{}, false
	}
	i := sort.Search(len(s), func(i int) bool { return !s[i].At.Before(t) })
	if s[i].At.Equal(t) || i == 0 {
		return s[i], true
	}
	a, b := s[i-1], s[i]
	f := float64(t.Sub(a.At)) / float64(b.At.Sub(a.At))
	lerp := func(x, y time.Duration) time.Duration { return x + time.Duration(f*float64(y-x)) }
	p = point{At: t, Proc: lerp(a.Proc, b.Proc), RSS: uint64(float64(a.RSS) + f*(float64(b.RSS)-float64(a.RSS))), CPU: map[string]time.Duration{}}
	for o := range b.CPU {
		p.CPU[o] = lerp(a.CPU[o], b.CPU[o])
	}
	return p, true
}

// gapAt is the length of the interval between the readings around t: the
// monitor did not run during it (a scheduler stall, a loaded machine), so
// what is interpolated there is a guess.
func (s Series) gapAt(t time.Time) time.Duration {
	i := sort.Search(len(s), func(i int) bool { return !s[i].At.Before(t) })
	if i == 0 || i == len(s) {
		return 0
	}
	return s[i].At.Sub(s[i-1].At)
}
