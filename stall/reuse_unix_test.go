//go:build unix

package stall_test

import (
	"context"

	"github.com/openrtc-go/introspect/stall"
	"golang.org/x/sys/unix"
)

func init() {
	platformStallCases = append(platformStallCases,
		stallCase{"loop, blocked in a read through golang.org/x/sys/unix", "stallLoopReadsPipe", "mixer", stallLoopReadsPipe, "reuse_unix_test.go"})
}

// stallLoopReadsPipe blocks in a raw read(2) of a pipe, through
// golang.org/x/sys/unix: the frame must be this line, the worker's call, not
// the line inside unix.read that made the system call.
func stallLoopReadsPipe(ctx context.Context, loop *stall.Loop, _ *stall.Mutex, line *int, release <-chan struct{}) {
	var p [2]int
	if err := unix.Pipe(p[:]); err != nil {
		panic(err)
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	go func() {
		<-release
		_, _ = unix.Write(p[1], []byte{1})
	}()
	defer loop.Enter(ctx)()
	buf := make([]byte, 1)
	_, _ = unix.Read(here(line, p[0]), buf)
}
