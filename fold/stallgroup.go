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
}

// GroupStalls groups stalls by where they happened (see [StallGroup]),
// the group of most blocked time first, ties to the earlier group.
func GroupStalls(stalls []Stall) []StallGroup {
	byKey := map[string]int{}
	var groups []StallGroup
	perSession := []map[string]int{}
	for _, st := range stalls {
		key := st.Source + "\x00" + st.Frame + "\x00" + strings.Join(st.Stack, "\x00")
		i, ok := byKey[key]
		if !ok {
			i = len(groups)
			byKey[key] = i
			groups = append(groups, StallGroup{Source: st.Source, Frame: st.Frame, Stack: st.Stack, First: st.At, Last: st.At})
			perSession = append(perSession, map[string]int{})
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
		if st.Victim() {
			g.Victims++
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
		g.TotalMs = round1(g.TotalMs)
	}
	sort.SliceStable(groups, func(a, b int) bool {
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
