// Package introspect tells the operator of a dense Go worker (one process,
// many concurrent sessions: calls, rooms, tenants) which session is eating
// memory, which is eating CPU, and which one stalled everyone else, on which
// line, live and after the fact. It is the Go counterpart of OpenRTC's
// session introspection, and goes past it: it records what it sees, reports
// stalls while they are still going on, names the holder's source line, and
// counts goroutines per session.
//
// A worker starts one [Introspector] and begins a session per call, room or
// connection:
//
//	in, err := introspect.Start(introspect.Options{Record: "/var/lib/worker/rec"})
//	if err != nil { ... }
//	defer in.Close()
//
//	ctx, end := in.Begin(ctx, callID, introspect.Agent("voice"), introspect.Tenant("acme"))
//	defer func() { end(err) }()
//
// Goroutines started under the session's context carry its pprof labels, so
// the CPU profiler's samples, the goroutine profile and held loops are
// attributed to it. What sessions share is named, so a session that holds it
// too long is caught:
//
//	mixer := in.Loop("mixer")
//	leave := mixer.Enter(ctx)
//	mix(frame)
//	leave()
//
// What it measures, per sample interval (1s by default):
//
//   - memory: an equal share of process RSS across live sessions (mem_bytes,
//     and mem_mb in MiB), with each session's peak (peak_bytes, peak_mb);
//     shares sum back to RSS, as in OpenRTC. Per-session goroutine counts
//     are real, and show a leak first.
//   - CPU: each session's share of the process's CPU time in the latest
//     window (cpu_pct: its labelled CPU profiler samples over all of the
//     window's samples), and its cumulative CPU time (cpu_seconds: what
//     its samples stand for, 10ms each; the sessions' figures add up to
//     the process's CPU as getrusage measured it less the unlabelled part,
//     less what no sample covered, which the views state). See "Sharing
//     the CPU profiler" below.
//   - stalls: holds of named loops and mutexes over the slow threshold
//     (50ms by default), reported while they last with the holder's stack
//     and why the hold lasted: the holder blocked (on what), ran, or waited
//     for a CPU other sessions were using, in which case it is a victim and
//     the report names who had the CPU; and scheduler stalls, measured by a
//     probe's two goroutines (one that only waits on a timer, so a stretch
//     in which no P ran the scheduler is timed on its own, its ends placed
//     by the sessions' last enter of a watched loop before it and first
//     after; one that times trips through the run queue, for saturation)
//     and blamed on the
//     session whose CPU surged while the stall lasted (by about the stall's
//     length on every P, and only for a while), else on a session that
//     held at least half of the CPU samples and twice as many as any other,
//     else on none.
//   - goroutines per session, and for a session whose goroutines grow,
//     where the largest groups of them are parked (line and wait reason).
//
// # Work that crosses goroutines
//
// Labels follow the go statement: a goroutine started under a session's
// context, or by a goroutine that carries its labels, belongs to it. Work
// that reaches another goroutine without one is not the session's unless
// it is said so:
//
//   - a worker pool, a fan-in goroutine or any goroutine the session did not
//     start runs a job for it with [Do], which labels the goroutine with the
//     session for the job's length and restores its own labels after;
//   - a dispatcher that begins sessions for goroutines it then starts passes
//     [Dispatched] to Begin, which leaves the dispatcher's own labels alone
//     (without it, the dispatcher's CPU is billed to the last session it
//     began, until that session's end), and starts each session's goroutine
//     with [Go], which gives it the session's labels (a plain go statement
//     would give it the dispatcher's).
//
// # Sharing the CPU profiler
//
// A process has one CPU profiler, and introspection holds it for its
// windows. It shares what it collects: [Introspector.CPUProfile] writes a
// profile of the next N seconds for the application, in place of
// pprof.StartCPUProfile, and [Introspector.CPUProfileHandler] serves
// net/http/pprof's /debug/pprof/profile from the same windows, for go tool
// pprof and pull-mode scrapers. When another profiler holds the CPU
// profiler (a push-mode profiler such as pyroscope-go, declared with
// Options.CPUOwner or found by itself), introspection stands aside: the CPU
// column names the owner, memory and stalls go on, and the owner's uploads,
// routed through [ProfileUploads], fill the CPU column from its profiles.
// Options.HideSessionLabel keeps the unbounded session id out of the
// labels other profilers see. A plain pprof.StartCPUProfile elsewhere in
// the process fails while introspection samples back to back, and
// introspection cannot see it fail: take profiles from CPUProfile or
// CPUProfileHandler, or declare the profiler with Options.CPUOwner (Start
// warns on the console when net/http/pprof's handler is on
// http.DefaultServeMux). A pprof.StopCPUProfile call by the application
// ends the window introspection is running, and the application's
// StartCPUProfile after it wins; introspection then stands aside while the
// application's profile runs, names who started it, and states the
// process's CPU of that time as unsampled (the header's unsampled_cpu_s,
// the sample's cpu.unsampled_cpu_ms): it is in no session's cpu_seconds.
//
// Every finding is a log/slog record (see package events): lifecycle and
// stalls at INFO and WARN on the console, so `grep slow-session` works as it
// does on OpenRTC's log; everything, samples included, in the recording
// (package recorder), which openrtc-replay turns back into the top view at
// any moment. The live view is served on a private Unix socket for
// `openrtc-replay live` (package live holds the socket, its server and its
// client).
//
// Introspection is on by default. Options.Disabled, or the environment
// variable OPENRTC_INTROSPECT=off, turns it off entirely: Begin then only
// passes the context through, and nothing samples.
package introspect
