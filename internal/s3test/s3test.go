// Package s3test runs a real S3-compatible server (versitygw's POSIX
// gateway) on loopback for tests: uploads, ranged reads and replay from a
// bucket are tested against the S3 protocol as a worker would speak it.
package s3test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	_ "gocloud.dev/blob/s3blob"

	"github.com/openrtc-go/introspect/bucket"
)

// Server is a real S3-compatible server (versitygw's POSIX gateway) on
// loopback, serving one bucket from a temporary directory. .ci/run installs
// it (go install github.com/versity/versitygw/cmd/versitygw@v1.8.0).
type Server struct {
	t      *testing.T
	bin    string
	root   string
	addr   string
	cmd    *exec.Cmd
	bucket string
}

const (
	s3Access = "openrtc-test"
	s3Secret = "openrtc-test-secret"
)

// Binary returns the versitygw binary, skipping the test when it is not
// installed locally and failing it in CI.
func Binary(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		p := filepath.Join(string(out[:len(out)-1]), "bin", "versitygw")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("versitygw is not installed; .ci/run installs it")
	}
	t.Skip("versitygw (an S3 server) is not installed: go install github.com/versity/versitygw/cmd/versitygw@v1.8.0 (CI installs it and runs this test)")
	return ""
}

// Start starts the server with one empty bucket and points the AWS SDK
// at it through the environment, as a worker would be configured.
func Start(t *testing.T) *Server {
	t.Helper()
	s := &Server{t: t, bin: Binary(t), root: t.TempDir(), bucket: "recordings"}
	if err := os.Mkdir(filepath.Join(s.root, s.bucket), 0o755); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	ln.Close()
	t.Setenv("AWS_ACCESS_KEY_ID", s3Access)
	t.Setenv("AWS_SECRET_ACCESS_KEY", s3Secret)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(s.root, "no-config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(s.root, "no-credentials"))
	s.start()
	t.Cleanup(s.stop)
	return s
}

// URL returns the bucket URL of prefix on this server.
func (s *Server) URL(prefix string) string {
	return fmt.Sprintf("s3://%s/%s?endpoint=http://%s&region=us-east-1&use_path_style=true&disable_https=true", s.bucket, prefix, s.addr)
}

// Restart starts the server again after Stop, on the same address and data.
func (s *Server) Restart() { s.start() }

func (s *Server) start() {
	s.t.Helper()
	s.cmd = exec.Command(s.bin, "--access", s3Access, "--secret", s3Secret, "--port", s.addr, "posix", s.root)
	log, err := os.Create(filepath.Join(s.t.TempDir(), "versitygw.log"))
	if err != nil {
		s.t.Fatal(err)
	}
	s.cmd.Stdout, s.cmd.Stderr = log, log
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	for range 200 {
		resp, err := http.Get("http://" + s.addr + "/")
		if err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	b, _ := os.ReadFile(log.Name())
	s.t.Fatalf("versitygw did not start on %s:\n%s", s.addr, b)
}

// Stop kills the server; the bucket's data stays for Restart.
func (s *Server) Stop() { s.stop() }

func (s *Server) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

// Object returns the bytes of key as the S3 API serves them.
func (s *Server) Object(t *testing.T, key string) []byte {
	t.Helper()
	loc, err := bucket.Open(context.Background(), s.URL(""))
	if err != nil {
		t.Fatal(err)
	}
	defer loc.Close()
	b, err := loc.Bucket.ReadAll(context.Background(), key)
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	return b
}
