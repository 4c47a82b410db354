package stall

import (
	"cmp"
	"slices"
	"time"
)

// Culprit or victim. A hold lasts long for one of three reasons, and only
// two are the holder's doing:
//
//   - it blocked (slept, waited on I/O, a channel, a lock, a system call)
//     while it held: a goroutine profile finds it parked, and its stack says
//     on what;
//   - it ran: its work was long, and its CPU samples (the profiler labels
//     them with HoldLabel) cover much of the hold;
//   - it was ready to run and waited for a processor that other sessions
//     were using: a profile finds it neither parked nor in a system call,
//     and it has next to no CPU samples. The blame goes to whoever had the
//     CPU.
//
// A goroutine profile cannot tell a running goroutine from a runnable one
// (the profile stops the world, which stops a running goroutine where a
// preempted one waits), and the full dump that can (runtime.Stack with
// all=true) stops the world for the whole dump. The CPU samples can: a
// running holder earns about one sample per 10ms on the CPU, a waiting one
// none.

// verdict is the cause of a hold of length blocked: parked is what the
// holder was last found parked on, runnable whether a profile found it ready
// to run, cpu the CPU its samples show (when seen), lagged how much of the
// hold the scheduler was measured lagging and lagWorst the longest a
// runnable goroutine was measured waiting meanwhile (both meaningful only
// when lagsMeasured).
func verdict(blocked, threshold time.Duration, parked string, runnable bool, cpu time.Duration, seen bool, lagged, lagWorst time.Duration, lagsMeasured bool) string {
	// A goroutine that waits for a processor waits about as long as any
	// runnable goroutine did meanwhile, which the scheduler probe
	// measured; a hold much longer than that was not a wait for one.
	waitFits := lagsMeasured && blocked <= 2*lagWorst
	switch {
	case parked != "":
		return CauseBlocked
	case seen && (cpu >= threshold || 2*cpu >= blocked):
		// Its own work would have been a stall, or it ran for at least
		// half the hold.
		return CauseRunning
	case seen && runnable:
		return CauseWaitingForCPU
	case 2*lagged >= blocked && waitFits:
		// No profile caught it (on a starved machine the watchdog
		// starves too), and the scheduler was measured lagging through
		// most of the hold while it used next to no CPU (or while the
		// profiler, starved as well, was between windows): it waited
		// for a processor.
		return CauseWaitingForCPU
	case seen && lagsMeasured && blocked > 2*max(lagWorst, threshold):
		// No profile caught it, it used next to no CPU, and no runnable
		// goroutine waited half as long as it held: for most of the hold
		// it was neither running nor waiting to run, so it was parked
		// (or in a system call). On what, nothing caught.
		return CauseBlocked
	}
	return ""
}

// starvedBy returns the sessions other than the holder's own (victim) that
// held the CPU in seen, as percentages of its samples: the three largest of
// at least 1%. The holder's own few samples are its brief turns on the CPU,
// not a cause of its wait.
func starvedBy(seen CPUSeen, victim string) map[string]float64 {
	if seen.Total <= 0 {
		return nil
	}
	type share struct {
		id string
		n  int64
	}
	var all []share
	for id, n := range seen.BySession {
		if id != "" && id != victim && n > 0 && 100*n >= seen.Total {
			all = append(all, share{id, n})
		}
	}
	slices.SortFunc(all, func(a, b share) int { return cmp.Or(cmp.Compare(b.n, a.n), cmp.Compare(a.id, b.id)) })
	if len(all) == 0 {
		return nil
	}
	out := make(map[string]float64, min(3, len(all)))
	for _, s := range all[:min(3, len(all))] {
		out[s.id] = float64(100*s.n) / float64(seen.Total)
	}
	return out
}

// judging is a hold that ended as a stall whose final report waits for the
// CPU samples of the hold.
type judging struct {
	h        *hold
	end      int64 // monotonic
	deadline int64 // monotonic: report with what is known by then
}

// needsCPU reports whether the final report of h waits for CPU samples.
func (w *Watchdog) needsCPU(h *hold) bool {
	return w.opts.CPU != nil && h.watch.parked == ""
}

// judge makes the final reports of the holds waiting for CPU samples whose
// samples are in, or whose wait is over (all of them when force is set).
func (w *Watchdog) judge(now int64, force bool) {
	keep := w.judging[:0]
	for _, j := range w.judging {
		h := j.h
		span := time.Duration(j.end - h.start)
		seen := w.opts.CPU(wallOf(h.start), wallOf(j.end))
		lagsKnown := seen.LagsUntil.IsZero() || !seen.LagsUntil.Before(wallOf(j.end))
		if (seen.Covered < span*9/10 || !lagsKnown) && now < j.deadline && !force {
			keep = append(keep, j)
			continue
		}
		s := h.stall(span, false)
		if seen.Covered > 0 && seen.Period > 0 {
			n := seen.ByHold[h.entry.label]
			cpu := time.Duration(n) * seen.Period
			if seen.Covered < span {
				cpu = time.Duration(float64(cpu) * float64(span) / float64(seen.Covered))
			}
			s.HoldCPU, s.HoldCPUSeen = min(cpu, span), true
		}
		s.Cause = verdict(span, w.opts.Threshold, h.watch.parked, h.watch.runnable, s.HoldCPU, s.HoldCPUSeen, seen.Lagged, seen.LagWorst, !seen.LagsUntil.IsZero())
		switch s.Cause {
		case CauseWaitingForCPU:
			s.StarvedBy = starvedBy(seen, s.Session)
		case CauseBlocked:
			s.Wait = h.watch.parked
		}
		w.opts.Report(s)
	}
	clear(w.judging[len(keep):])
	w.judging = keep
}
