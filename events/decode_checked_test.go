package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/tidwall/gjson"
)

func TestDecodeCountsChecked(t *testing.T) {
	for _, c := range []struct {
		line  string
		valid bool
	}{
		{`{"time":"2026-11-27T03:12:00Z","level":"DEBUG","msg":"sample","v":1,"rss_bytes":1}`, true},
		{` {"time":"2026-11-27T03:12:00Z","level":"DEBUG","msg":"sample","v":1}` + "\t\r\n", true},
		{"\f" + `{"time":"2026-11-27T03:12:00Z","level":"DEBUG","msg":"sample","v":1}`, true}, // as the reader trims
		{"\x01" + `{"time":"2026-11-27T03:12:00Z","level":"DEBUG","msg":"sample","v":1}`, false},
		{`{"time":"2026-11-27T03:12:00Z","level":"DEBUG","msg":"sample","v":1,}`, false},
		{`{"time":"2026-11-27T03:12:00Z", "msg":"session.start","v":1,"session_id":"a"}`, true}, // not slog's form
		{`{"time":"2026-11-27T03:12:00Z","msg":"an application's record","n":[1,2]}`, true},
		{`{"time":"2026-11-27T03:12:00Z","msg":"an application's record" "n":1}`, false},
		{`{"time":"2026-11-27T03:12:00Z","msg":"keyframe","v":1,"sessions":[}`, false},
	} {
		var c1, c2 SampleCounts
		d, valid, err := DecodeCountsChecked([]byte(c.line), &c1)
		if valid != c.valid {
			t.Errorf("%q: valid %v, want %v", c.line, valid, c.valid)
		}
		if !valid {
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("%q: error %v, want ErrMalformed", c.line, err)
			}
			continue
		}
		d2, err2 := DecodeCounts([]byte(c.line), &c2)
		if !reflect.DeepEqual(d, d2) || (err == nil) != (err2 == nil) {
			t.Errorf("%q: %+v %v, DecodeCounts gives %+v %v", c.line, d, err, d2, err2)
		}
	}
}

// FuzzDecodeCountsChecked: a line is valid exactly when the reader of a
// recording would have found it valid (gjson on the line trimmed of
// spaces, and encoding/json agrees), and a valid line decodes as
// DecodeCounts decodes it.
func FuzzDecodeCountsChecked(f *testing.F) {
	for _, s := range fastSeeds(f) {
		f.Add(s)
		f.Add(append(append([]byte{}, s...), '}'))
		f.Add(bytes.Replace(s, []byte(`,`), []byte(` ,`), 1))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		var c1, c2 SampleCounts
		d, valid, err := DecodeCountsChecked(line, &c1)
		trimmed := bytes.TrimSpace(line)
		if want := gjson.ValidBytes(trimmed); valid != want {
			t.Fatalf("%q: valid %v, the reader's check says %v", line, valid, want)
		}
		if valid && !json.Valid(trimmed) {
			t.Fatalf("%q: valid, encoding/json says not", line)
		}
		if !valid {
			return
		}
		d2, err2 := DecodeCounts(line, &c2)
		if !reflect.DeepEqual(d, d2) || (err == nil) != (err2 == nil) || !reflect.DeepEqual(norm(c1), norm(c2)) {
			t.Fatalf("%q: %+v %v, DecodeCounts gives %+v %v", line, d, err, d2, err2)
		}
	})
}
