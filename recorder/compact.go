package recorder

import (
	"time"

	"github.com/klauspost/compress/zstd"
)

// Compact returns options for long retention on a small disk: frames closed
// every minute, a keyframe every ten minutes, and zstd's better-compression
// level. On a 1,000-session worker sampled at 1 Hz they record about 0.48
// bytes per session-sample, against about 1.4 with the defaults (see
// BENCHMARKS.md). The price: a SIGKILL loses up to a minute of records
// instead of a second, and reaching a moment folds up to ten minutes of
// samples instead of one.
func Compact() Options {
	return Options{
		FlushInterval:    time.Minute,
		FrameBytes:       4 << 20,
		KeyframeInterval: 10 * time.Minute,
		EncoderLevel:     zstd.SpeedBetterCompression,
	}
}
