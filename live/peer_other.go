//go:build !linux && !darwin && !freebsd

package live

import "syscall"

// peerUID cannot ask this system who the peer is (golang.org/x/sys offers no
// peer-credential call for it), so it reports the uid as unknown. The socket's
// 0700 directory remains the guard: no other user can reach the socket at all.
func peerUID(c syscall.Conn) (uid int, known bool, err error) {
	return 0, false, nil
}

// peerCred returns the uid of the process at the other end of c; this system
// does not say its pid through the call used here, so pid is 0.
func peerCred(c syscall.Conn) (uid, pid int, known bool, err error) {
	uid, known, err = peerUID(c)
	return uid, 0, known, err
}
