//go:build linux

package truth

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/openrtc-go/introspect/fold"
	"github.com/openrtc-go/introspect/recorder"
)

// reported is one stall as the recording tells it: every report of one
// stall_id merged, with the longest block and the last report's frame.
type reported struct {
	ID      uint64
	Session string
	Source  string
	Blocked time.Duration
	At      time.Time // the last report
	Start   time.Time // see start
	Frame   string
	Stack   []string
	Cause   string // as recorded; "" when the event has no cause
	From    string // frame_from: where the frame was caught
	Reports int
	final   bool // a final (not ongoing) report came
}

// start is when the hold began: the event's start when it has one, else the
// earliest of its reports' time minus the block each reported. A report is
// written some time after the moment it describes (the final one, in
// particular, may wait for evidence), so the earliest is the nearest.
func (r reported) start() time.Time { return r.Start }

// end is when the hold ended, as far as the reports tell: start plus the
// longest block reported.
func (r reported) end() time.Time { return r.Start.Add(r.Blocked) }

// slowLine is the slow-session record's JSON form (docs/recording-format.md);
// Extra keeps every field, for the ones added later (cause).
type slowLine struct {
	Time      time.Time `json:"time"`
	StallID   uint64    `json:"stall_id"`
	SessionID string    `json:"session_id"`
	Source    string    `json:"source"`
	BlockedMs float64   `json:"blocked_ms"`
	Ongoing   bool      `json:"ongoing"`
	Frame     string    `json:"frame"`
	Stack     []string  `json:"stack"`
	Cause     string    `json:"cause"`
	FrameFrom string    `json:"frame_from"`
	Start     time.Time `json:"start"`
}

type sampleLine struct {
	Time     time.Time `json:"time"`
	RSSBytes uint64    `json:"rss_bytes"`
	Sessions int       `json:"sessions"`
	CPU      *struct {
		DurMs float64 `json:"dur_ms"`
	} `json:"cpu"`
}

// memCheck is the sum of the live rows' memory against the header's RSS at
// one sample.
type memCheck struct {
	At       time.Time
	Rows     int
	SumBytes float64
	RSS      uint64
}

// pctCheck is one session's cpu_pct in one CPU window against its share of
// the process's CPU measured by the clocks.
type pctCheck struct {
	Session         string
	At              time.Time
	Measured, Truth float64
}

// recording is what the judge read from the recording.
type recording struct {
	stalls  []reported
	mem     []memCheck
	rssProc []float64 // relative difference of the header's RSS and /proc's
	pct     []pctCheck
	rows    map[string]fold.Row
	summary fold.Summary
	// leakSeen says that a record names the leaker and its parking line.
	leakSeen bool
	causes   bool // some stall carries a cause
}

func readRecording(t *Truth) (*recording, error) {
	set, err := recorder.Open(t.Recording)
	if err != nil {
		return nil, err
	}
	defer set.Close()
	rec := &recording{rows: map[string]fold.Row{}}
	byID := map[uint64]*reported{}
	var order []uint64
	st := fold.New()
	sc := set.Scan()
	heavy := map[string]bool{}
	for _, s := range t.CPUHeavy {
		heavy[s] = s != CodecSession // its CPU is not measured whole (see codec)
	}
	for sc.Next() {
		line := sc.Record().Line
		if err := st.ApplyLine(line); err != nil {
			return nil, fmt.Errorf("fold: %w", err)
		}
		var head struct {
			Msg string `json:"msg"`
		}
		if json.Unmarshal(line, &head) != nil {
			continue
		}
		switch head.Msg {
		case "slow-session":
			var l slowLine
			if err := json.Unmarshal(line, &l); err != nil {
				return nil, err
			}
			r := byID[l.StallID]
			if r == nil {
				r = &reported{ID: l.StallID}
				byID[l.StallID] = r
				order = append(order, l.StallID)
			}
			r.Reports++
			r.At, r.Source = l.Time, l.Source
			start := l.Start
			if start.IsZero() {
				start = l.Time.Add(-time.Duration(l.BlockedMs * float64(time.Millisecond)))
			}
			blocked := time.Duration(l.BlockedMs * float64(time.Millisecond))
			switch {
			case !l.Ongoing && !l.Start.IsZero():
				// The final report is the measurement; an ongoing one
				// was the stall as far as it was known.
				r.Start, r.Blocked, r.Session, r.final = start, blocked, l.SessionID, true
			case !r.final:
				if r.Start.IsZero() || start.Before(r.Start) {
					r.Start = start
				}
				if l.SessionID != "" {
					r.Session = l.SessionID
				}
				r.Blocked = max(r.Blocked, blocked)
			}
			if l.Frame != "" {
				r.Frame, r.Stack, r.From = l.Frame, l.Stack, l.FrameFrom
			}
			if l.Cause != "" {
				r.Cause, rec.causes = l.Cause, true
			}
		case "sample":
			var l sampleLine
			if err := json.Unmarshal(line, &l); err != nil {
				return nil, err
			}
			v := st.View(l.Time)
			m := memCheck{At: l.Time, RSS: v.Worker.RSSBytes}
			for _, r := range v.Sessions {
				if r.Status == fold.StatusEnded || r.Status == fold.StatusErrored {
					continue
				}
				m.Rows++
				m.SumBytes += float64(r.MemBytes)
			}
			if m.Rows > 0 {
				rec.mem = append(rec.mem, m)
			}
			if p, ok := t.Series.at(l.Time); ok && p.RSS > 0 && l.RSSBytes > 0 {
				rec.rssProc = append(rec.rssProc, math.Abs(float64(l.RSSBytes)-float64(p.RSS))/float64(p.RSS))
			}
			if l.CPU != nil && l.CPU.DurMs > 0 {
				rec.pct = append(rec.pct, windowChecks(t, v, l.Time, time.Duration(l.CPU.DurMs*float64(time.Millisecond)), heavy)...)
			}
		}
		// The leak's parking line may come in any record (a sample's
		// goroutine groups, an event of its own): look in all of them.
		if t.Leak.Site != "" && !rec.leakSeen && bytes.Contains(line, []byte(t.Leak.Site)) && bytes.Contains(line, []byte(`"`+t.Leak.Session+`"`)) {
			rec.leakSeen = true
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for _, id := range order {
		rec.stalls = append(rec.stalls, *byID[id])
	}
	sort.Slice(rec.stalls, func(i, j int) bool { return rec.stalls[i].start().Before(rec.stalls[j].start()) })

	rep, err := fold.ReadReport(set.Scan(), nil)
	if err != nil {
		return nil, err
	}
	for _, r := range rep.Rows() {
		rec.rows[r.SessionID] = r
	}
	rec.summary = rep.Summary()
	return rec, nil
}

// windowChecks compares the cpu_pct of the CPU-heavy sessions in the window
// ending at end with their share of the process's CPU by the clocks. Windows
// whose ends the monitor could not see well (a scheduler stall stopped it)
// and windows in which a session began or ended are left out.
func windowChecks(t *Truth, v fold.View, end time.Time, dur time.Duration, heavy map[string]bool) []pctCheck {
	a, okA := t.Series.at(end.Add(-dur))
	b, okB := t.Series.at(end)
	if !okA || !okB || b.Proc <= a.Proc || t.Series.gapAt(end.Add(-dur)) > 200*time.Millisecond || t.Series.gapAt(end) > 200*time.Millisecond {
		return nil
	}
	var out []pctCheck
	for _, r := range v.Sessions {
		if !heavy[r.SessionID] || r.Status != fold.StatusActive && r.Status != fold.StatusSlow {
			continue
		}
		if r.Start.After(end.Add(-dur)) {
			continue
		}
		ca, okA := a.CPU[r.SessionID]
		cb, okB := b.CPU[r.SessionID]
		if !okA || !okB {
			continue
		}
		out = append(out, pctCheck{Session: r.SessionID, At: end, Measured: r.CPUPct, Truth: 100 * float64(cb-ca) / float64(b.Proc-a.Proc)})
	}
	return out
}
