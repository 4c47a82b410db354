package sampler

import (
	"bufio"
	"errors"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// vmRSS returns VmRSS from /proc/self/status, in bytes.
func vmRSS(t *testing.T) uint64 {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:")
		if !ok {
			continue
		}
		kb, err := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
		if err != nil {
			t.Fatalf("VmRSS line %q: %v", sc.Text(), err)
		}
		return kb * 1024
	}
	t.Fatal("no VmRSS in /proc/self/status")
	return 0
}

func TestRSSMatchesVmRSS(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("VmRSS is Linux-only")
	}
	r, err := NewRSSReader()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Peak() {
		t.Error("Peak() = true on Linux, want the current RSS")
	}
	// Touch some memory so RSS is not all runtime bookkeeping.
	ballast := make([]byte, 32<<20)
	for i := range ballast {
		if i%4096 == 0 {
			ballast[i] = 1
		}
	}
	got, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	want := vmRSS(t)
	runtime.KeepAlive(ballast)
	t.Logf("RSS %d bytes, VmRSS %d bytes", got, want)
	if diff := float64(got) - float64(want); diff > 0.2*float64(want) || -diff > 0.2*float64(want) {
		t.Errorf("RSS %d, VmRSS %d: more than 20%% apart", got, want)
	}
	if got < 32<<20 {
		t.Errorf("RSS %d below the 32 MiB just touched", got)
	}
}

func TestRSSReadAfterClose(t *testing.T) {
	r, err := NewRSSReader()
	if errors.Is(err, errors.ErrUnsupported) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "linux" {
		return // getrusage has no file to close
	}
	if _, err := r.Read(); err == nil {
		t.Error("Read after Close succeeded")
	}
}

func TestParseStatmResident(t *testing.T) {
	tests := []struct {
		in      string
		want    uint64
		wantErr bool
	}{
		{in: "1234 567 89 10 0 400 0\n", want: 567},
		{in: "1234 567 89 10 0 400 0", want: 567},
		{in: "1 0 0 0 0 0 0\n", want: 0},
		{in: "1 18446744073709551615 0", want: 18446744073709551615},
		{in: "1 18446744073709551616 0", wantErr: true},
		{in: "", wantErr: true},
		{in: "1234", wantErr: true},
		{in: "1234 ", wantErr: true},
		{in: " 567 89", wantErr: true},
		{in: "1234 x 89", wantErr: true},
		{in: "1234 56x 89", wantErr: true},
	}
	for _, tt := range tests {
		got, err := parseStatmResident([]byte(tt.in))
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("parseStatmResident(%q) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
		if err != nil && !errors.Is(err, errStatm) {
			t.Errorf("parseStatmResident(%q) error %v does not wrap errStatm", tt.in, err)
		}
	}
}
