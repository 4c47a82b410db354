package fold

import (
	"unsafe"

	"github.com/openrtc-go/introspect/events"
	"github.com/tidwall/gjson"
)

// KindOf returns the event name of a JSON line without decoding it: one of
// the events.Kind constants, or "" for a line that is not one of our events
// (an application's own log line, or no JSON object at all). It reads only
// the top-level "msg", which slog writes third, so it costs a few dozen
// nanoseconds and lets a scan skip the lines it does not need.
//
// A line whose message is ours but that turns out not to be an event (no
// schema version) is still decoded by whoever asks for it; KindOf only
// rules lines out.
func KindOf(line []byte) string {
	if len(line) == 0 {
		return ""
	}
	// gjson.GetBytes copies the result; the message is only compared here,
	// never kept, so reading through a string that aliases line is safe.
	msg := gjson.Get(unsafe.String(&line[0], len(line)), "msg")
	if msg.Type != gjson.String {
		return ""
	}
	// Return the package's own constant, never msg.Str: it aliases line.
	for _, k := range events.Kinds {
		if msg.Str == k {
			return k
		}
	}
	return ""
}
