package recorder

import (
	"time"

	"github.com/klauspost/compress/zstd"
)

// Compact returns options for long retention on a small disk: a keyframe
// every half hour (each starting a frame, so compression sees half an hour
// at a time) and zstd's best-compression level, with the defaults' flush
// interval, so a SIGKILL still loses at most a second. On a 1,000-session
// worker sampled at 1 Hz it records less than the defaults' bytes per
// session-sample (see BENCHMARKS.md). The price: compressing costs about
// three times the CPU, and reaching a moment folds up to half an hour of
// samples instead of ten minutes.
func Compact() Options {
	return Options{
		KeyframeInterval: 30 * time.Minute,
		EncoderLevel:     zstd.SpeedBestCompression,
	}
}
