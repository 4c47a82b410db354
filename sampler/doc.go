// Package sampler measures a dense Go worker from the inside: process RSS,
// runtime vitals, CPU samples per session and goroutines per session.
//
// It only measures. It returns plain Go values (numbers, maps, durations) and
// knows nothing of events, recordings or views; the root package turns its
// results into events.
//
// Sessions are goroutines that carry the pprof label "session" (set with
// [runtime/pprof.Do] or [runtime/pprof.WithLabels]; the labels "agent" and
// "tenant" may ride along). Goroutines started inside inherit the labels, so
// a session's whole goroutine tree is attributed to it.
//
// # What each reader costs
//
// Figures are from the package's benchmarks on a busy shared 2-core
// linux/amd64 virtual machine, where a bare getpid system call took
// 1.3–6µs depending on the load.
//
//   - [RSSReader] keeps /proc/self/statm open and re-reads it in place: one
//     pread system call and no allocation (7–30µs there, three to five
//     times a getpid). Elsewhere it falls back to getrusage, which reports
//     the peak RSS, not the current one.
//   - [VitalsReader] reads [runtime/metrics]: no stop-the-world and no
//     allocation after the first read (2–4µs there, up to 30µs under the
//     heaviest load).
//   - [CPUSampler] keeps the CPU profiler running in back-to-back windows and
//     parses each window's profile: the profiler's own overhead (100 Hz
//     sampling per busy core) plus a parse of about 0.2ms per window.
//   - [GoroutinesBySession] takes a goroutine profile, whose CPU cost grows
//     with the number of goroutines (about 9ms at 1,000 and 50ms at 10,000);
//     [GoroutineInterval] says how often to take it.
//
// # Sharing the CPU profiler
//
// The Go CPU profiler is process-global: only one profile runs at a time.
// A [CPUSampler] never breaks a profile the application (or net/http/pprof)
// takes:
//
//   - If [runtime/pprof.StartCPUProfile] fails because another profile is
//     running, the sampler steps aside: it delivers a [CPUWindow] per window
//     whose Unavailable field gives the reason and whose Owner names who
//     holds the profiler ([CPUProfileOwner]: pyroscope-go, net/http/pprof,
//     or the function that started the profile), and retries after 1, 2, 4
//     … up to 60 windows, so that a profiler that restarts its profile back
//     to back is not robbed of one in the millisecond gap between two.
//   - With CPUOptions.Owner the sampler never starts the profiler at all,
//     and its windows name the declared owner. [ParseCPUProfile] reads the
//     owner's own profiles, when the application can hand them over, into
//     windows of the same kind.
//   - [CPUSampler.Tap] hands each window's parsed profile to whoever serves
//     profiles on (the root package's CPUProfile and CPUProfileHandler), so
//     that the application gets CPU profiles without a second profiler.
//   - If the application calls [runtime/pprof.StopCPUProfile] while one of the
//     sampler's windows runs, that call ends the sampler's window early and
//     writes its profile into the sampler's buffer. The sampler notices that
//     its buffer received the profile before it stopped the profiler itself,
//     does not call StopCPUProfile (that would stop whatever profile the
//     application starts next), delivers the shortened window, and then holds
//     off for one whole window, reported as unavailable, so that the
//     application's own StartCPUProfile wins.
//
// So, to take your own CPU profile while a sampler runs, call
// pprof.StopCPUProfile() first and then pprof.StartCPUProfile(w): the
// sampler stays out of the way until your profile stops, and names who
// started it (it looks 20 and 250 ms into the window it stands aside for,
// while the profile runs). A plain StartCPUProfile without the
// StopCPUProfile fails with "cpu profiling already in use" for as long as
// sampler windows run back to back, as it would with any other profile
// running, and the sampler cannot see that failure to make room.
// CPUOptions.Every leaves gaps between windows, where a start may land.
//
// Every window the sampler stands aside for carries CPUTime, the process's
// CPU while it stood aside: no session's share of it is known, so those who
// total the sessions' CPU must state it, not drop it (the root package
// records it as the sample's unsampled CPU).
//
// One race remains that the runtime/pprof API gives no way to close: if the
// application's StopCPUProfile begins just before a sampler window ends, but
// the profile has not yet reached the sampler's buffer when the sampler
// checks it (writing starts a few milliseconds after the stop, later under
// CPU saturation), and the application then starts a new profile at once,
// the sampler's own StopCPUProfile, queued behind the application's, may stop
// that new profile.
//
// # CPU windows under saturation
//
// When every core is busy, StopCPUProfile waits for the profile writer
// goroutine to get through the run queue, so a window's stop can take much
// longer than usual, and the profiler is off meanwhile. The sampler starts
// the next window as soon as the previous one has stopped and parses the
// previous profile while the next one runs. Each window's Duration is the
// time the profiler was actually on (the sampler's clock around Start and
// Stop), so samples × period ÷ duration stays an honest CPU share however
// much windows stretch, and the gaps between windows are simply unobserved.
package sampler
