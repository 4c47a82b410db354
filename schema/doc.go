// Package schema holds the JSON Schema (draft 2020-12) of every event that
// openrtc-introspect writes, one file per schema version, and validates
// records against it.
//
// A record is one line of a recording or of a slog JSON log: an object with
// "time", "level", "msg" (the event kind, such as "sample") and "v" (the
// schema version), plus the event's fields. The schema lets tools outside Go
// (jq pipelines, other languages' readers, CI checks on fixtures) rely on
// those fields:
//
//	if err := schema.Validate(line); errors.Is(err, schema.ErrForeign) {
//		// an application's own log line: not ours, skip it
//	} else if err != nil {
//		// one of ours, but malformed
//	}
//
// # Compatibility
//
// Versions only ever add: a newer writer may add properties to a known kind
// (the schema allows properties it does not name) and may add kinds. A record
// whose "msg" is not a kind of the newest version this package holds is
// valid if, and only if, its "v" is newer than that version: it is a newer
// writer's event, and a reader should skip it (and may warn once). The same
// kind with an unknown "msg" at the current version is an error. Records of a
// newer version whose kind is known are checked against the fields this
// version knows.
//
// The schema is a little more lenient than the Go decoder in one way that
// JSON Schema cannot express: it counts 1.0 and 1e3 as integers, while the
// keyframe's nested objects, decoded with encoding/json, want integer
// fields written as plain integers, as every JSON encoder writes them.
//
// The schema files are in [FS] under v1/ and so on; `jq`-style tools can use
// them directly from the source tree (schema/v1/events.json).
package schema
