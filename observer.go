package introspect

import "github.com/openrtc-go/introspect/events"

// An Observer is told of every event the introspector emits, in the order
// the recording keeps them, as the typed event replay would decode: the
// Prometheus collector of package prom is one. Observe is called with the
// introspector's event lock held, on the goroutine that emitted the event
// (a sampler tick, the watchdog, a Begin or an end): it must be quick, must
// not block and must not call back into the Introspector.
//
// Besides the events the introspector emits, observers are told of the
// recorder's drops as events.RecorderDrop, once per sample that follows
// them: the recorder writes those records itself.
type Observer interface {
	Observe(d events.Decoded)
}

// observe passes d to every observer.
func (in *Introspector) observe(d events.Decoded) {
	for _, o := range in.opts.Observers {
		o.Observe(d)
	}
}

// observeDrops tells observers of the records the recorder dropped since
// the last call. Callers hold in.fmu.
func (in *Introspector) observeDrops(d events.Decoded) {
	if in.rec == nil {
		return
	}
	n := in.rec.Stats().Dropped
	if n <= in.dropsSeen {
		return
	}
	d.Event, d.Kind, d.Level = events.RecorderDrop{Dropped: n - in.dropsSeen, Reason: "see the recording"}, events.KindRecorderDrop, events.RecorderDrop{}.Level()
	in.dropsSeen = n
	in.observe(d)
}
