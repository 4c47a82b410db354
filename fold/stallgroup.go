package fold

import (
	"slices"
	"sort"
	"strings"
	"time"
)

// StallGroup is the stalls that happened at one place: the same loop or
// section, held at the same frame with the same stack. A session that
// stalls the mixer every few seconds from one line is one group, listed
// once with its stack, not once per stall.
type StallGroup struct {
	Source  string   `json:"source"`
	Frame   string   `json:"frame,omitempty"`
	Stack   []string `json:"stack,omitempty"`
	Count   int      `json:"count"`
	TotalMs float64  `json:"total_ms"`
	// Worst is the longest stall of the group; its At is the moment to
	// look at.
	Worst Stall     `json:"worst"`
	First time.Time `json:"first"` // the earliest stall's time
	Last  time.Time `json:"last"`  // the latest stall's time
	// Sessions are the sessions held responsible, most stalls first ("" for
	// unattributed stalls), with their counts in SessionStalls.
	Sessions      []string `json:"sessions"`
	SessionStalls []int    `json:"session_stalls"`
	// Victims counts the stalls whose holder waited for a CPU (see
	// [Stall.Victim]): the place was held, but not by the holder's fault.
	Victims int `json:"victims,omitempty"`
	// StarvedBy names the sessions that had the CPU while the victims
	// waited for it, most blame first (each victim's stall weighs each of
	// them by its share of the CPU samples during the hold), at most three.
	StarvedBy []string `json:"starved_by,omitempty"`
	// Undecided counts the stalls that ended with no cause known (see
	// [Stall.Undecided]).
	Undecided int `json:"undecided,omitempty"`
	// CausedMs is the blocked time of the stalls that count against their
	// holders: all but the victims' and the undecided ones. Groups are
	// ordered by it first, so a place where holders only waited for a CPU
	// comes after every place where one did something slow.
	CausedMs float64 `json:"caused_ms"`
}

// AllVictims reports whether every stall of the group waited for a CPU.
func (g StallGroup) AllVictims() bool { return g.Count > 0 && g.Victims == g.Count }

// GroupStalls groups stalls by where they happened (see [StallGroup]): the
// group whose stalls count against their holders for the most blocked
// time first ([StallGroup.CausedMs]), then by blocked time in all, ties to
// the earlier group. The groups where holders only waited for a CPU, or
// nothing decided why, come last.
func GroupStalls(stalls []Stall) []StallGroup {
	byKey := map[string]int{}
	var groups []StallGroup
	perSession := []map[string]int{}
	blame := []map[string]float64{}
	for _, st := range stalls {
		key := st.Source + "\x00" + st.Frame + "\x00" + strings.Join(st.Stack, "\x00")
		i, ok := byKey[key]
		if !ok {
			i = len(groups)
			byKey[key] = i
			groups = append(groups, StallGroup{Source: st.Source, Frame: st.Frame, Stack: st.Stack, First: st.At, Last: st.At})
			perSession = append(perSession, map[string]int{})
			blame = append(blame, nil)
		}
		g := &groups[i]
		g.Count++
		g.TotalMs += st.BlockedMs
		if g.Count == 1 || st.BlockedMs > g.Worst.BlockedMs {
			g.Worst = st
		}
		if st.At.Before(g.First) {
			g.First = st.At
		}
		if st.At.After(g.Last) {
			g.Last = st.At
		}
		perSession[i][st.SessionID]++
		switch {
		case st.Victim():
			g.Victims++
			for id, pct := range st.StarvedBy {
				if blame[i] == nil {
					blame[i] = map[string]float64{}
				}
				blame[i][id] += pct / 100 * st.BlockedMs
			}
		case st.Undecided():
			g.Undecided++
		default:
			g.CausedMs += st.BlockedMs
		}
	}
	for i := range groups {
		g := &groups[i]
		for id := range perSession[i] {
			g.Sessions = append(g.Sessions, id)
		}
		n := perSession[i]
		sort.Slice(g.Sessions, func(a, b int) bool {
			if n[g.Sessions[a]] != n[g.Sessions[b]] {
				return n[g.Sessions[a]] > n[g.Sessions[b]]
			}
			return g.Sessions[a] < g.Sessions[b]
		})
		for _, id := range g.Sessions {
			g.SessionStalls = append(g.SessionStalls, n[id])
		}
		g.TotalMs, g.CausedMs = round1(g.TotalMs), round1(g.CausedMs)
		g.StarvedBy = mostBlamed(blame[i], 3)
	}
	sort.SliceStable(groups, func(a, b int) bool {
		if groups[a].CausedMs != groups[b].CausedMs {
			return groups[a].CausedMs > groups[b].CausedMs
		}
		if groups[a].TotalMs != groups[b].TotalMs {
			return groups[a].TotalMs > groups[b].TotalMs
		}
		return groups[a].First.Before(groups[b].First)
	})
	if groups == nil {
		return []StallGroup{}
	}
	return groups
}

// mostBlamed returns up to n ids of blame, the most blamed first, ties by
// id; nil when there are none. n < 0 means all of them.
func mostBlamed[V int | float64](blame map[string]V, n int) []string {
	if len(blame) == 0 {
		return nil
	}
	ids := make([]string, 0, len(blame))
	for id := range blame {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool {
		if blame[ids[i]] != blame[ids[j]] {
			return blame[ids[i]] > blame[ids[j]]
		}
		return ids[i] < ids[j]
	})
	if n < 0 {
		return ids
	}
	return ids[:min(n, len(ids))]
}

// GroupOf returns the index in groups of the group st belongs to, or -1.
func GroupOf(groups []StallGroup, st Stall) int {
	for i := range groups {
		g := &groups[i]
		if g.Source == st.Source && g.Frame == st.Frame && slices.Equal(g.Stack, st.Stack) {
			return i
		}
	}
	return -1
}
