//go:build linux

package truth

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Block kinds: how an injected stall's holder waits. Each blocks the holder
// off the CPU, so the right cause for all of them is "blocked".
const (
	KindSleep = "sleep"
	KindChan  = "chan"
	KindLock  = "lock"
	KindIO    = "io"
)

var kinds = []string{KindSleep, KindChan, KindLock, KindIO}

// here records the file and line of its caller's caller into *site and
// returns zero, so that it can sit inside the blocking call's own expression:
// time.Sleep(d + here(&site)) puts the site on the line of time.Sleep.
func here(site *string) time.Duration {
	_, file, line, ok := runtime.Caller(1)
	if ok {
		*site = fmt.Sprintf("%s:%d", filepath.Base(file), line)
	}
	return 0
}

func hereCh(ch chan struct{}, site *string) chan struct{} {
	here1(site)
	return ch
}

// parkHere is hereCh for goroutines that never return: it stores the site
// before the caller parks.
func parkHere(ch chan struct{}, site *atomic.Value) chan struct{} {
	var s string
	here1(&s)
	site.Store(s)
	return ch
}

func hereMu(mu *sync.Mutex, site *string) *sync.Mutex {
	here1(site)
	return mu
}

func hereConn(c net.Conn, site *string) net.Conn {
	here1(site)
	return c
}

// here1 is here for the hereX wrappers, one frame further up.
func here1(site *string) {
	_, file, line, ok := runtime.Caller(2)
	if ok {
		*site = fmt.Sprintf("%s:%d", filepath.Base(file), line)
	}
}

// The blocker makes a holder wait for d in one of the kinds' ways. For locks
// it holds a backend mutex for d on a goroutine of no session; for I/O it
// runs a loopback server that answers after the delay asked.
type blocker struct {
	backend sync.Mutex
	ln      net.Listener
}

func newBlocker() (*blocker, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	b := &blocker{ln: ln}
	go b.serve()
	return b, nil
}

func (b *blocker) close() { b.ln.Close() }

// serve answers each connection's 8-byte delay with one byte, that late.
func (b *blocker) serve() {
	for {
		c, err := b.ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			var req [8]byte
			if _, err := io.ReadFull(c, req[:]); err != nil {
				return
			}
			time.Sleep(time.Duration(binary.LittleEndian.Uint64(req[:])))
			c.Write([]byte{1})
		}()
	}
}

// prepare does what must happen before the hold begins (locking the
// backend, dialing) and returns the blocking call itself, which reports its
// site and the wall clock around the block.
func (b *blocker) prepare(kind string, d time.Duration) (block func() (site string, start, end time.Time), err error) {
	switch kind {
	case KindSleep:
		return func() (site string, start, end time.Time) {
			start = time.Now()
			time.Sleep(d + here(&site))
			return site, start, time.Now()
		}, nil
	case KindChan:
		return func() (site string, start, end time.Time) {
			ch := make(chan struct{})
			start = time.Now()
			t := time.AfterFunc(d, func() { close(ch) })
			<-hereCh(ch, &site)
			t.Stop()
			return site, start, time.Now()
		}, nil
	case KindLock:
		locked, begun := make(chan struct{}), make(chan struct{})
		go func() {
			b.backend.Lock()
			close(locked)
			<-begun
			time.Sleep(d)
			b.backend.Unlock()
		}()
		<-locked
		return func() (site string, start, end time.Time) {
			start = time.Now()
			close(begun)
			hereMu(&b.backend, &site).Lock()
			b.backend.Unlock()
			return site, start, time.Now()
		}, nil
	case KindIO:
		c, err := net.Dial("tcp", b.ln.Addr().String())
		if err != nil {
			return nil, err
		}
		return func() (site string, start, end time.Time) {
			defer c.Close()
			var req [8]byte
			binary.LittleEndian.PutUint64(req[:], uint64(d))
			start = time.Now()
			c.Write(req[:])
			var resp [1]byte
			io.ReadFull(hereConn(c, &site), resp[:])
			return site, start, time.Now()
		}, nil
	}
	return nil, fmt.Errorf("truth: unknown block kind %q", kind)
}
