package stall

import "time"

// epoch anchors the monotonic timestamps the hot paths keep as int64: reading
// only the monotonic clock is cheaper than time.Now, and an int64 fits in an
// atomic.
var epoch = time.Now()

// monoNow returns the monotonic time since epoch in nanoseconds, never 0.
func monoNow() int64 { return int64(time.Since(epoch)) + 1 }

// monoOf converts a time read with time.Now to a monoNow timestamp.
func monoOf(t time.Time) int64 { return int64(t.Sub(epoch)) + 1 }

// wallOf converts a monoNow timestamp to a wall-clock time, without a
// monotonic reading, as a time read back from a record would be.
func wallOf(mono int64) time.Time { return epoch.Add(time.Duration(mono - 1)).Round(0) }
