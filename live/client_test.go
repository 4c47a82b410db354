//go:build linux || darwin || freebsd

package live

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"go.uber.org/goleak"
)

// fakeServer accepts one connection at path and hands it to behave, which
// plays a worker that misbehaves in some way.
func fakeServer(t *testing.T, path string, behave func(c net.Conn)) {
	t.Helper()
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		behave(c)
	}()
	t.Cleanup(func() { ln.Close(); <-done })
}

func TestFetchSnapshot(t *testing.T) {
	defer goleak.VerifyNone(t)
	path := filepath.Join(shortDir(t), "openrtc-t", "w.sock")
	snap := []byte(`{"worker":{"name":"w"},"sessions":[{"session":"a"}]}`)
	s := startServer(t, path, snap, ServerOptions{})
	got, err := Fetch(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, snap) {
		t.Errorf("Fetch = %q, want %q", got, snap)
	}
	s.Close()
}

func TestFetchSnapshotNoWorker(t *testing.T) {
	defer goleak.VerifyNone(t)
	dir := shortDir(t)
	stale := filepath.Join(dir, "stale.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: stale, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	ln.Close()

	for _, path := range []string{
		filepath.Join(dir, "missing.sock"),
		filepath.Join(dir, "no-such-dir", "w.sock"),
		stale, // a crashed worker's socket: connection refused
	} {
		_, err := Fetch(context.Background(), path)
		if !errors.Is(err, ErrNoWorker) {
			t.Errorf("Fetch(%s) = %v, want ErrNoWorker", path, err)
			continue
		}
		if !strings.Contains(err.Error(), path) {
			t.Errorf("error %q does not name %s", err, path)
		}
	}
}

func TestFetchSnapshotBadServer(t *testing.T) {
	tests := []struct {
		name   string
		behave func(c net.Conn)
		want   string  // in the error message
		is     []error // errors.Is targets
	}{
		{"closes at once", func(c net.Conn) {}, "without sending a snapshot", []error{errNoSnapshot}},
		{"cut short", func(c net.Conn) { io.WriteString(c, `{"worker":`) }, "cut short after 10 bytes", []error{io.ErrUnexpectedEOF}},
		{"empty line", func(c net.Conn) { io.WriteString(c, "\n") }, "empty snapshot", nil},
		// "silent" reads until the client gives up and hangs up.
		{"silent", func(c net.Conn) { io.Copy(io.Discard, c) }, "deadline exceeded", []error{context.DeadlineExceeded}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer goleak.VerifyNone(t)
			path := filepath.Join(shortDir(t), "w.sock")
			fakeServer(t, path, tt.behave)
			timeout := 10 * time.Second
			if tt.name == "silent" {
				timeout = 100 * time.Millisecond
			}
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			got, err := Fetch(ctx, path)
			if err == nil {
				t.Fatalf("Fetch = %q, want an error", got)
			}
			if errors.Is(err, ErrNoWorker) {
				t.Errorf("error %q wraps ErrNoWorker, but a worker answered", err)
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q, want it to name %s and say %q", err, path, tt.want)
			}
			for _, target := range tt.is {
				if !errors.Is(err, target) {
					t.Errorf("error %q does not wrap %v", err, target)
				}
			}
		})
	}
}

func TestFetchSnapshotCancel(t *testing.T) {
	defer goleak.VerifyNone(t)
	path := filepath.Join(shortDir(t), "w.sock")
	release := make(chan struct{})
	fakeServer(t, path, func(c net.Conn) { <-release })
	defer close(release)

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err := Fetch(ctx, path)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Fetch after cancel = %v, want context.Canceled", err)
	}
}

func TestReadLine(t *testing.T) {
	long := strings.Repeat("y", 100<<10)
	tests := []struct {
		name, in string
		limit    int
		want     string
		wantErr  string
	}{
		{"one line", "{}\n", 1 << 20, "{}", ""},
		{"stops at the first newline", "{\"a\":1}\n{\"b\":2}\n", 1 << 20, `{"a":1}`, ""},
		{"longer than the first buffer", long + "\n", 1 << 20, long, ""},
		{"exactly at the limit", "abcd\n", 5, "abcd", ""},
		{"over the limit", "abcdef\n", 5, "", "longer than 5 bytes"},
		{"nothing", "", 10, "", "without sending"},
		{"no newline", "abc", 10, "", "cut short after 3 bytes"},
		{"empty", "\n", 10, "", "empty snapshot"},
	}
	for _, tt := range tests {
		for _, r := range []struct {
			name string
			r    func(io.Reader) io.Reader
		}{{"whole", func(r io.Reader) io.Reader { return r }}, {"bytewise", iotest.OneByteReader}} {
			t.Run(tt.name+"/"+r.name, func(t *testing.T) {
				got, err := readLine(r.r(strings.NewReader(tt.in)), tt.limit)
				if tt.wantErr != "" {
					if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
						t.Errorf("readLine = %q, %v; want error %q", got, err, tt.wantErr)
					}
					return
				}
				if err != nil || string(got) != tt.want {
					t.Errorf("readLine = %.40q, %v; want %.40q", got, err, tt.want)
				}
			})
		}
	}
}

// BenchmarkFetchSnapshot measures one round trip (dial, peer checks, write,
// read, close) against a live server. The 1 KB case shows the fixed cost of
// a connection; 100 KB is a worker with a few hundred sessions. "baseline" is
// the same exchange with none of the care (no peer checks, deadlines, bounds
// or context), for the cost of that care in the same run.
func BenchmarkFetchSnapshot(b *testing.B) {
	for _, size := range []int{1 << 10, 100 << 10} {
		snap := []byte(`{"pad":"` + strings.Repeat("x", size-10) + `"}`)
		b.Run(fmt.Sprintf("size=%dKB/fetch", size>>10), func(b *testing.B) {
			path := filepath.Join(shortDir(b), "openrtc-b", "w.sock")
			s := startServer(b, path, snap, ServerOptions{})
			defer s.Close()
			ctx := context.Background()
			b.SetBytes(int64(len(snap)))
			b.ReportAllocs()
			for b.Loop() {
				got, err := Fetch(ctx, path)
				if err != nil {
					b.Fatal(err)
				}
				if len(got) != len(snap) {
					b.Fatalf("got %d bytes, want %d", len(got), len(snap))
				}
			}
		})
		b.Run(fmt.Sprintf("size=%dKB/baseline", size>>10), func(b *testing.B) {
			path := filepath.Join(shortDir(b), "w.sock")
			ln, err := net.Listen("unix", path)
			if err != nil {
				b.Fatal(err)
			}
			line := append(snap[:len(snap):len(snap)], '\n')
			done := make(chan struct{})
			go func() {
				defer close(done)
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					go func() { c.Write(line); c.Close() }()
				}
			}()
			defer func() { ln.Close(); <-done }()
			b.SetBytes(int64(len(snap)))
			b.ReportAllocs()
			for b.Loop() {
				c, err := net.Dial("unix", path)
				if err != nil {
					b.Fatal(err)
				}
				got, err := io.ReadAll(c)
				c.Close()
				if err != nil || len(got) != len(line) {
					b.Fatalf("got %d bytes, %v", len(got), err)
				}
			}
		})
	}
}

// FuzzReadLine checks readLine against the obvious definition: the bytes
// before the first newline, when there is one within the limit.
func FuzzReadLine(f *testing.F) {
	for _, seed := range []string{"{}\n", "", "\n", "abc", "{\"a\":1}\n{\"b\":2}\n", "abcdef\n", "\n\n"} {
		f.Add([]byte(seed), uint8(5))
	}
	f.Fuzz(func(t *testing.T, in []byte, limit uint8) {
		lim := int(limit) + 1
		got, err := readLine(iotest.HalfReader(bytes.NewReader(in)), lim)
		i := bytes.IndexByte(in, '\n')
		switch {
		case i > 0 && i < lim: // the limit counts the newline
			if err != nil || !bytes.Equal(got, in[:i]) {
				t.Fatalf("readLine(%q, %d) = %q, %v; want %q", in, lim, got, err, in[:i])
			}
		case err == nil:
			t.Fatalf("readLine(%q, %d) = %q, want an error", in, lim, got)
		}
	})
}
