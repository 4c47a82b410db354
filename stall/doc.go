// Package stall detects stalls in a dense Go worker and says which session
// caused them, for how long, and on which line.
//
// Go preempts goroutines, so one busy session rarely starves the scheduler the
// way a synchronous call starves an asyncio loop. What a session starves is
// what it shares with the others: a room's event loop, a mixer, a dispatcher,
// a global lock. The package watches both:
//
//   - A [Watchdog] watches named loops and critical sections ([Loop], [Mutex]).
//     A session enters a section with its context, whose runtime/pprof labels
//     ("session", "agent") name it, and leaves when done. A hold longer than
//     the threshold is reported while it is still going on, so a wedged
//     session that never returns is reported too, and once more with the
//     total when it ends. The holder's stack is captured from a goroutine
//     profile at the moment the stall is seen, so the report names the line
//     ([Stall.FrameFrom] says whether it was caught on the holder or is only
//     where the hold was left), and says why the hold lasted
//     ([Stall.Cause]): the holder blocked, ran, or waited for a CPU that
//     other sessions were using, in which case it is a victim and
//     [Stall.StarvedBy] names who had the CPU (see [Options.CPU]).
//   - A [SchedProbe] measures scheduler stalls, stretches in which runnable
//     goroutines could not get a processor (CPU saturation, work that cannot
//     be preempted, GC), by how late its own timer fires and how long it
//     queues, and, lent a Watchdog, by when the sessions last entered its
//     loops before a stop and first after it; [SchedStall] turns each into
//     a stall blamed on the session
//     whose CPU surged while it lasted (see [CPUUsual]), or else, with
//     [Attribute], on a session that held at least half of the CPU
//     samples and twice as many as any other (else on none).
//
// Watching a shared loop:
//
//	w := stall.New(stall.Options{Report: func(s stall.Stall) { log.Println(s) }})
//	defer w.Close()
//	mixer := w.Loop("mixer")
//	...
//	// in a session goroutine, with ctx carrying pprof labels:
//	leave := mixer.Enter(ctx)
//	mixSomeAudio()
//	leave()
//
// The package measures and reports [Stall] values; it knows nothing of how
// they are stored or shown. The introspector at the root of the module turns
// them into events and feeds [SchedStall] the CPU samples it collects.
package stall
