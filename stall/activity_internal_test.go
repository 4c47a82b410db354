package stall

import (
	"slices"
	"testing"
	"time"
)

const ms = int64(time.Millisecond)

// enters returns the times from a to b (milliseconds) every step.
func enters(a, b, step int64) []int64 {
	var ts []int64
	for t := a; t <= b; t += step {
		ts = append(ts, t*ms)
	}
	return ts
}

func TestShardRan(t *testing.T) {
	for _, c := range []struct {
		name     string
		enters   []int64 // in the order the shard's lock is taken
		from, to int64   // milliseconds
		want     []span  // milliseconds
	}{
		{
			name:   "busy, a stop, busy again",
			enters: slices.Concat(enters(10, 100, 1), enters(400, 500, 1)),
			from:   0, to: 600,
			want: []span{{10, 100}, {400, 500}},
		},
		{
			name:   "asked about the stop only: its ends",
			enters: slices.Concat(enters(10, 100, 1), enters(400, 500, 1)),
			from:   100, to: 400,
			want: []span{{100, 100}, {400, 400}},
		},
		{
			name:   "never entered",
			enters: nil,
			from:   0, to: 600,
			want: nil,
		},
		{
			name:   "entered every 20ms: every enter ends a gap",
			enters: enters(100, 160, 20),
			from:   0, to: 600,
			want: []span{{100, 100}, {120, 120}, {140, 140}, {160, 160}},
		},
		{
			name: "an enter that read the clock before the stop and took the lock after it",
			// 250 was read before the lock was taken at 400 or after.
			enters: slices.Concat(enters(10, 100, 1), []int64{400 * ms, 250 * ms}, enters(401, 500, 1)),
			from:   0, to: 600,
			want: []span{{10, 100}, {250, 250}, {400, 500}},
		},
		{
			name: "more lulls than remembered: the oldest are forgotten",
			// Nine lulls of 30ms between busy stretches of 10ms.
			enters: func() []int64 {
				var ts []int64
				for i := range int64(10) {
					ts = append(ts, enters(i*40, i*40+10, 1)...)
				}
				return ts
			}(),
			from: 0, to: 1000,
			// Seven gaps remembered: from 90 (the oldest's start) on.
			want: []span{{90, 90}, {120, 130}, {160, 170}, {200, 210}, {240, 250}, {280, 290}, {320, 330}, {360, 370}},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			var sh shard
			for _, e := range c.enters {
				sh.entered(e)
			}
			var got []span
			for _, s := range sh.ran(nil, c.from*ms, c.to*ms) {
				got = append(got, span{s.start / ms, s.end / ms})
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("ran = %v, want %v", got, c.want)
			}
		})
	}
}

func TestLongestFree(t *testing.T) {
	for _, c := range []struct {
		name       string
		from, to   int64
		proofs     []proof
		start, end int64
		atProbe    bool
	}{
		{"no proof between the probe's runs", 0, 300, nil, 0, 300, true},
		{"a trip of the queuer in the middle", 0, 300, []proof{{span{100, 100}, true}}, 100, 300, true},
		{"sessions ran until 50 and from 280", 0, 300, []proof{{span{0, 50}, false}, {span{280, 300}, false}}, 50, 280, false},
		{
			"sessions and a trip: the longest stretch is between a session and the trip", 0, 400,
			[]proof{{span{0, 50}, false}, {span{300, 300}, true}, {span{320, 400}, false}},
			50, 300, false,
		},
		{"overlapping sessions", 0, 400, []proof{{span{0, 100}, false}, {span{40, 60}, false}, {span{350, 360}, false}}, 100, 350, false},
		{"the stretch runs to the witness's wake", 0, 400, []proof{{span{0, 30}, false}}, 30, 400, false},
		{"a session's enter at the witness's last run", 0, 400, []proof{{span{0, 0}, false}}, 0, 400, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, e, p := longestFree(c.from, c.to, slices.Clone(c.proofs))
			if s != c.start || e != c.end || p != c.atProbe {
				t.Errorf("longestFree = %d, %d, %v; want %d, %d, %v", s, e, p, c.start, c.end, c.atProbe)
			}
		})
	}
}
