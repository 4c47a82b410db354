package live

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// peerUID returns the effective uid of the process at the other end of c, as
// the kernel recorded it at connect time (SO_PEERCRED). known is always true
// on Linux.
func peerUID(c syscall.Conn) (uid int, known bool, err error) {
	uid, _, known, err = peerCred(c)
	return uid, known, err
}

// peerCred returns the uid and pid of the process at the other end of c (pid
// 0 when the system does not say).
func peerCred(c syscall.Conn) (uid, pid int, known bool, err error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return 0, 0, false, err
	}
	var cred *unix.Ucred
	var gerr error
	if err := rc.Control(func(fd uintptr) {
		cred, gerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return 0, 0, false, err
	}
	if gerr != nil {
		return 0, 0, false, gerr
	}
	return int(cred.Uid), int(cred.Pid), true, nil
}
