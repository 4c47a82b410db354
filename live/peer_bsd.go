//go:build darwin || freebsd

package live

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// peerUID returns the effective uid of the process at the other end of c, as
// the kernel recorded it at connect time (LOCAL_PEERCRED, the mechanism behind
// getpeereid(3)). known is always true here.
func peerUID(c syscall.Conn) (uid int, known bool, err error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return 0, false, err
	}
	var cred *unix.Xucred
	var gerr error
	if err := rc.Control(func(fd uintptr) {
		cred, gerr = unix.GetsockoptXucred(int(fd), unix.SOL_LOCAL, unix.LOCAL_PEERCRED)
	}); err != nil {
		return 0, false, err
	}
	if gerr != nil {
		return 0, false, gerr
	}
	return int(cred.Uid), true, nil
}

// peerCred returns the uid of the process at the other end of c; this system
// does not say its pid through the call used here, so pid is 0.
func peerCred(c syscall.Conn) (uid, pid int, known bool, err error) {
	uid, known, err = peerUID(c)
	return uid, 0, known, err
}
