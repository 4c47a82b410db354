package prom

import (
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
)

// histogram is a stall-duration histogram whose every bucket remembers its
// worst recent stall, the exemplar Prometheus shows beside the bucket.
// client_golang's own histogram keeps the latest exemplar instead, which is
// rarely the stall an operator wants to read.
type histogram struct {
	bounds []float64
	counts []uint64 // per bucket, not cumulative; the last is +Inf
	sum    float64
	count  uint64
	worst  []exemplar
}

type exemplar struct {
	value   float64
	session string
	stallID uint64
	t       time.Time
}

func newHistogram(bounds []float64) *histogram {
	return &histogram{bounds: bounds, counts: make([]uint64, len(bounds)+1), worst: make([]exemplar, len(bounds)+1)}
}

// observe adds one stall of v seconds. It becomes its bucket's exemplar if
// it is the worst there, or if the bucket's exemplar is older than window.
func (h *histogram) observe(t time.Time, v float64, session string, stallID uint64, window time.Duration) {
	i := 0
	for i < len(h.bounds) && v > h.bounds[i] {
		i++
	}
	h.counts[i]++
	h.sum += v
	h.count++
	w := &h.worst[i]
	if w.t.IsZero() || v >= w.value || t.Sub(w.t) > window {
		*w = exemplar{value: v, session: session, stallID: stallID, t: t}
	}
}

// metric returns the histogram as a constant metric with its exemplars.
func (h *histogram) metric(desc *prometheus.Desc, labelValues ...string) prometheus.Metric {
	buckets := make(map[float64]uint64, len(h.bounds))
	var cum uint64
	for i, b := range h.bounds {
		cum += h.counts[i]
		buckets[b] = cum
	}
	m := prometheus.MustNewConstHistogram(desc, h.count, h.sum, buckets, labelValues...)
	var exs []prometheus.Exemplar
	for _, w := range h.worst {
		if w.t.IsZero() {
			continue
		}
		exs = append(exs, prometheus.Exemplar{Value: w.value, Labels: exemplarLabels(w.session, w.stallID), Timestamp: w.t})
	}
	if len(exs) == 0 {
		return m
	}
	withEx, err := prometheus.NewMetricWithExemplars(m, exs...)
	if err != nil {
		return m // an exemplar Prometheus would refuse: the counts still go out
	}
	return withEx
}

// exemplarLabels names the stall. The OpenMetrics limit on an exemplar's
// labels (names and values together) is 128 runes; the session id, which
// the application chooses, is cut to fit.
func exemplarLabels(session string, stallID uint64) prometheus.Labels {
	id := stallIDLabel(stallID)
	l := prometheus.Labels{"stall_id": id}
	if session == "" {
		return l
	}
	room := prometheus.ExemplarMaxRunes - utf8.RuneCountInString("stall_id"+id+"session_id")
	l["session_id"] = truncateRunes(session, room)
	return l
}

// truncateRunes returns s cut to at most n runes, ending in "…" when cut.
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n <= 1 {
		return ""
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
