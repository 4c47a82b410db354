//go:build linux

package truth

import (
	"bytes"
	"os"
	"runtime"
	"strconv"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// threadCPU is the CPU time of the calling OS thread. The caller must be
// locked to its thread for the figure to mean anything.
func threadCPU() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}

// rawThreadCPU is threadCPU read with a raw system call, which keeps the
// goroutine's P: a spinner reads it between meeting and the assembly, where
// giving up the P would let the others hold theirs without it.
func rawThreadCPU() time.Duration {
	var ts unix.Timespec
	if _, _, e := unix.RawSyscall(unix.SYS_CLOCK_GETTIME, unix.CLOCK_THREAD_CPUTIME_ID, uintptr(unsafe.Pointer(&ts)), 0); e != 0 {
		return 0
	}
	return time.Duration(ts.Nano())
}

// threadClockOf reads the CPU clock of another thread of this process by its
// thread id: Linux's MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED). ok is false
// once the thread is gone.
func threadClockOf(tid int) (time.Duration, bool) {
	id := int32((^uint32(tid))<<3 | 6)
	var ts unix.Timespec
	if err := unix.ClockGettime(id, &ts); err != nil {
		return 0, false
	}
	return time.Duration(ts.Nano()), true
}

// processCPU is the CPU time, user and system, of the whole process so far.
func processCPU() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rssBytes reads the process's resident set size from /proc/self/statm.
func rssBytes() uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := bytes.Fields(b)
	if len(f) < 2 {
		return 0
	}
	pages, err := strconv.ParseUint(string(f[1]), 10, 64)
	if err != nil {
		return 0
	}
	return pages * uint64(os.Getpagesize())
}

// A tracked is a goroutine locked to its OS thread whose CPU counts toward
// one owner (a session id, or "" for work no session should be billed for).
type tracked struct {
	owner string
	tid   int
	base  time.Duration
}

// lockThread locks the calling goroutine to its thread and registers the
// thread with the monitor under owner. The returned function reads the
// thread's final clock, unregisters it and unlocks: defer it.
func (m *monitor) lockThread(owner string) (done func()) {
	runtime.LockOSThread()
	t := &tracked{owner: owner, tid: unix.Gettid(), base: threadCPU()}
	m.register(t)
	return func() {
		m.unregister(t, threadCPU()-t.base)
		runtime.UnlockOSThread()
	}
}
