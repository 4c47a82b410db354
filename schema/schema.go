package schema

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// FS holds the schema files, one directory per version: v1/events.json.
//
//go:embed v1/*.json
var FS embed.FS

// Version is the newest schema version this package holds; it equals the
// events package's SchemaVersion.
const Version = 1

// Path is the name in [FS] of the schema of [Version].
const Path = "v1/events.json"

// ID is the $id of the schema of [Version].
const ID = "https://github.com/openrtc-go/introspect/schema/v1/events.json"

// ErrForeign is returned by [Validate] for a JSON object without a "v"
// attribute: a log record that is not one of ours, such as an application's
// own line interleaved with events in a slog JSON log. It is not damage.
var ErrForeign = errors.New("not an event record (no \"v\")")

// ErrInvalid is wrapped by every error [Validate] returns for a line that is
// not valid JSON, not an object, or one of ours that breaks the schema.
var ErrInvalid = errors.New("invalid event record")

var compiled = sync.OnceValues(func() (*jsonschema.Schema, error) {
	b, err := FS.ReadFile(Path)
	if err != nil {
		return nil, err
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", Path, err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat() // "time" must really be RFC 3339
	if err := c.AddResource(ID, doc); err != nil {
		return nil, fmt.Errorf("%s: %w", Path, err)
	}
	return c.Compile(ID)
})

// Validate checks one record, a JSON line without its newline, against the
// schema of [Version]. It returns nil for a valid record (including a newer
// version's record of a kind this version does not know, which readers
// skip), an error wrapping [ErrForeign] for an object without "v", and an
// error wrapping [ErrInvalid] otherwise, naming the failing field.
func Validate(line []byte) error {
	sch, err := compiled()
	if err != nil {
		return fmt.Errorf("schema: compiling %s: %w", Path, err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(line))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	obj, ok := inst.(map[string]any)
	if !ok {
		return fmt.Errorf("%w: not a JSON object", ErrInvalid)
	}
	if _, ok := obj["v"]; !ok {
		return ErrForeign
	}
	if err := sch.Validate(inst); err != nil {
		msg, _ := obj["msg"].(string)
		return fmt.Errorf("%w: %q: %s", ErrInvalid, msg, reasons(err))
	}
	return nil
}

// reasons flattens a validation error to its leaf causes on one line,
// "/confidence: maximum: got 2, want 1; ...": the intermediate "allOf
// failed" levels say nothing a reader of a log line needs.
func reasons(err error) string {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return err.Error()
	}
	var out []string
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			out = append(out, "/"+strings.Join(e.InstanceLocation, "/")+": "+e.ErrorKind.LocalizedString(printer))
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	return strings.Join(out, "; ")
}

var printer = message.NewPrinter(language.English)
