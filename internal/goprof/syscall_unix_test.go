//go:build unix

package goprof

import (
	"context"
	"runtime/pprof"
	"syscall"
	"testing"
)

// addSyscallCase parks a goroutine in a blocking read(2) on a pipe that is
// not in non-blocking mode, so it waits in the system call itself.
func addSyscallCase(t *testing.T, cases map[string]func()) {
	var p [2]int
	if err := syscall.Pipe(p[:]); err != nil {
		t.Logf("no pipe: %v", err)
		return
	}
	t.Cleanup(func() { syscall.Write(p[1], []byte{0}); syscall.Close(p[1]) })
	f := func() { var b [1]byte; syscall.Read(p[0], b[:]); syscall.Close(p[0]) }
	cases[WaitSyscall] = f
	go pprof.Do(context.Background(), pprof.Labels("case", WaitSyscall), func(context.Context) { f() })
}
