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
//     profile at the moment the stall is seen, so the report names the line.
//   - A [SchedProbe] measures how long a runnable goroutine waits for a
//     processor (CPU saturation, GC assists), and [SchedStall] turns a window
//     of that delay into a scheduler stall attributed with [Attribute] to the
//     session that held most of the CPU samples.
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
