package stall

import (
	"testing"
	"unsafe"
)

// TestLayout keeps what a hold touches in two cache lines: the hold, and
// the first line of its entry (see hold and entryHold); and what an enter
// touches of its shard in a third, unless it ends a lull.
func TestLayout(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("layout worked out for 64-bit platforms")
	}
	var eh entryHold
	var sh shard
	for _, c := range []struct {
		what      string
		got, want uintptr
	}{
		{"hold size", unsafe.Sizeof(hold{}), 64},
		{"entry offset in entryHold", unsafe.Offsetof(eh.e), 64},
		{"end of the entry's hot fields", unsafe.Offsetof(eh.e.polluted), 64 - 8},
		{"entryHold size", unsafe.Sizeof(eh), 192},
		{"recentSet size", unsafe.Sizeof(recentSet{}), 64},
		{"shard's lull fields' offset", unsafe.Offsetof(sh.ngaps), 64},
		{"shard size", unsafe.Sizeof(sh), 192},
	} {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.what, c.got, c.want)
		}
	}
}
