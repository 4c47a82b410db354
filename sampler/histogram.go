package sampler

import (
	"math"
	"time"
)

// The runtime's time histograms (/sched/latencies:seconds and the pause
// histograms) are cumulative since the process started. An interval's
// distribution is the bucket-wise difference of two reads; these helpers
// summarise such a difference. Bucket i spans [buckets[i], buckets[i+1]);
// the first lower bound may be -Inf and the last upper bound +Inf.

// diffCounts stores cur-prev into out, bucket by bucket. A bucket that went
// down (which the runtime promises never happens) counts as zero.
func diffCounts(out, prev, cur []uint64) {
	for i := range out {
		var c uint64
		if i < len(cur) {
			c = cur[i]
		}
		var p uint64
		if i < len(prev) {
			p = prev[i]
		}
		if c > p {
			out[i] = c - p
		} else {
			out[i] = 0
		}
	}
}

// bucketBounds returns the finite bounds of bucket i: an infinite bound is
// replaced by the other one, so an open-ended bucket collapses to its finite
// edge.
func bucketBounds(buckets []float64, i int) (lo, hi float64) {
	lo, hi = buckets[i], buckets[i+1]
	if math.IsInf(lo, -1) {
		lo = hi
	}
	if math.IsInf(hi, 1) {
		hi = lo
	}
	return lo, hi
}

// histQuantile returns the q-quantile (0 < q ≤ 1) of the distribution in
// counts, interpolating linearly inside the bucket where it falls, as
// Prometheus's histogram_quantile does. It returns 0 for an empty histogram.
func histQuantile(counts []uint64, buckets []float64, q float64) float64 {
	var total uint64
	for _, c := range counts {
		total += c
	}
	if total == 0 {
		return 0
	}
	rank := q * float64(total)
	var cum float64
	for i, c := range counts {
		if c == 0 {
			continue
		}
		next := cum + float64(c)
		if next >= rank {
			lo, hi := bucketBounds(buckets, i)
			frac := (rank - cum) / float64(c)
			return lo + frac*(hi-lo)
		}
		cum = next
	}
	// Rounding left rank above the last count: the answer is the top bucket.
	return histMax(counts, buckets)
}

// histMax returns the upper bound of the highest non-empty bucket: the
// largest value in the histogram is at most this. It returns 0 for an empty
// histogram.
func histMax(counts []uint64, buckets []float64) float64 {
	for i := len(counts) - 1; i >= 0; i-- {
		if counts[i] > 0 {
			_, hi := bucketBounds(buckets, i)
			return hi
		}
	}
	return 0
}

// histSum estimates the sum of the values in the histogram, taking each
// value at its bucket's midpoint.
func histSum(counts []uint64, buckets []float64) float64 {
	var sum float64
	for i, c := range counts {
		if c > 0 {
			lo, hi := bucketBounds(buckets, i)
			sum += float64(c) * (lo + hi) / 2
		}
	}
	return sum
}

// seconds converts a float64 count of seconds to a Duration, rounding to the
// nearest nanosecond.
func seconds(s float64) time.Duration {
	return time.Duration(math.Round(s * 1e9))
}
