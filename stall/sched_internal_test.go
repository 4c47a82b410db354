package stall

import (
	"testing"
	"time"
)

// TestQueuedLagLosesTheStops checks how the probe's two measurements meet: a
// spin that held every P in the middle of a saturated stretch is a stopped
// lag of its own, cut out of the queued lag around it, and what is left on
// either side is a queued lag only if it is still over the threshold.
func TestQueuedLagLosesTheStops(t *testing.T) {
	ms := func(n int64) int64 { return n * int64(time.Millisecond) }
	tests := []struct {
		name     string
		queued   span
		stop     span
		stopLate bool // the stop is measured while the queued lag goes on
		want     []span
	}{
		{"stop inside", span{ms(1000), ms(2000)}, span{ms(1300), ms(1600)}, false,
			[]span{{ms(1300), ms(1600)}, {ms(1000), ms(1300)}, {ms(1600), ms(2000)}}},
		{"stop measured while the queued lag goes on", span{ms(1000), ms(2000)}, span{ms(1300), ms(1600)}, true,
			[]span{{ms(1300), ms(1600)}, {ms(1000), ms(1300)}, {ms(1600), ms(2000)}}},
		{"short remains dropped", span{ms(1000), ms(1400)}, span{ms(1020), ms(1370)}, false,
			[]span{{ms(1020), ms(1370)}}},
		{"no overlap", span{ms(1000), ms(1400)}, span{ms(3000), ms(3300)}, false,
			[]span{{ms(3000), ms(3300)}, {ms(1000), ms(1400)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &SchedProbe{}
			stop := lagRun{start: tt.stop.start, end: tt.stop.end, worst: tt.stop.end - tt.stop.start}
			if !tt.stopLate {
				p.stopped(stop)
			}
			p.extend(&p.queued, tt.queued.start, tt.queued.end, ms(300))
			if tt.stopLate {
				p.stopped(stop)
			}
			p.finishQueued()
			var got []span
			for _, l := range p.done {
				got = append(got, span{monoOf(l.Start), monoOf(l.End)})
			}
			if len(got) != len(tt.want) {
				t.Fatalf("lags %v, want %v", got, tt.want)
			}
			for i := range got {
				if d := got[i].start - tt.want[i].start; d < -1000 || d > 1000 {
					t.Errorf("lag %d starts at %v, want %v", i, got[i], tt.want[i])
				}
				if d := got[i].end - tt.want[i].end; d < -1000 || d > 1000 {
					t.Errorf("lag %d ends at %v, want %v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

// TestReportedQueuedLagEnds checks that a queued lag that went out as
// ongoing ends, even when the stops leave none of it over the threshold:
// an ongoing stall must never be left without its end.
func TestReportedQueuedLagEnds(t *testing.T) {
	ms := func(n int64) int64 { return n * int64(time.Millisecond) }
	p := &SchedProbe{}
	p.extend(&p.queued, ms(1000), ms(1400), ms(60))
	ongoing := p.Lags()
	if len(ongoing) != 1 || !ongoing[0].Ongoing {
		t.Fatalf("ongoing report %+v", ongoing)
	}
	p.stopped(lagRun{start: ms(1010), end: ms(1390), worst: ms(380)})
	p.finishQueued()
	var found bool
	for _, l := range p.Lags() {
		found = found || (l.ID == ongoing[0].ID && !l.Ongoing)
	}
	if !found {
		t.Errorf("the ongoing lag %d has no end", ongoing[0].ID)
	}
}

// TestStopBetweenProofs checks where the witness puts a stop: in the longest
// stretch of its wait in which the queuer finished no trip either, and
// nowhere when the queuer kept finishing trips (only the witness's own P was
// held or busy).
func TestStopBetweenProofs(t *testing.T) {
	ms := func(n int64) int64 { return n * int64(time.Millisecond) }
	tests := []struct {
		name       string
		trips      []int64
		woke       int64
		wantOK     bool
		start, end int64
	}{
		{"no trip: halfway to when the tick was due", nil, ms(1350), true, ms(1005), ms(1350)},
		{"trips before and after", []int64{ms(1020), ms(1330)}, ms(1350), true, ms(1020), ms(1330)},
		{"trips all along", []int64{ms(1030), ms(1060), ms(1090), ms(1120), ms(1150), ms(1180), ms(1210), ms(1240)}, ms(1260), false, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &SchedProbe{ranAt: ms(1000)}
			copy(p.tripped[:], tt.trips)
			start, end, ok := p.stop(ms(1010), tt.woke)
			if ok != tt.wantOK || start != tt.start || end != tt.end {
				t.Errorf("stop = %d..%d, %v; want %d..%d, %v", start/1e6, end/1e6, ok, tt.start/1e6, tt.end/1e6, tt.wantOK)
			}
		})
	}
}
