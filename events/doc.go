// Package events defines the vocabulary of openrtc-introspect: the typed events
// an introspector emits, their log/slog form and their JSON form.
//
// Every event is a slog record. Its message is the stable event name (see
// [KindSample] and friends), its level says who should see it on a console
// (lifecycle at INFO, stalls and drops at WARN, the high-rate samples and
// keyframes at DEBUG) and its attributes carry the fields. Each record also
// carries the schema version as the attribute "v", so a reader can tell an
// older record from a newer one.
//
// Writing an event is building its record:
//
//	r := events.Record(time.Now(), events.SessionStart{SessionID: "job-1", Agent: "voice"})
//	handler.Handle(ctx, r)
//
// Reading one back is decoding a JSON line, as slog's JSON handler writes it:
//
//	d, err := events.Decode(line)
//	if err == nil && d.Event != nil { ... }
//
// Decode reads the most frequent records (samples, session starts and ends),
// in the form slog writes them, in one pass by hand, and any other with
// github.com/tidwall/gjson, never unmarshalling a whole record, so scanning a
// day of recording stays cheap;
// [DecodeCounts] leaves a sample's per-session maps as lists, for a reader
// that folds a day of them. Lines whose message is not one of ours decode
// with a nil Event: a plain application log may interleave its own records
// with ours.
//
// Derive, don't store: a sample carries the process RSS and the number of live
// sessions once, and per-session memory share is derived from them by the
// fold, so a sample costs the same for 10 or 10,000 idle sessions. CPU per
// sample is a sparse map of the sessions seen on CPU in the window.
package events
