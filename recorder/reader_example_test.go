package recorder_test

import (
	"fmt"
	"log"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/openrtc-go/introspect/recorder"
)

// Reading a recording back: every record in time order, then the damage a
// verify command would report.
func ExampleOpen() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "app.jsonl")
	f, _ := os.Create(path)
	logger := slog.New(slog.NewJSONHandler(f, nil))
	logger.Info("session.start", "session_id", "job-1")
	logger.Info("session.end", "session_id", "job-1")
	f.WriteString("a line that is not JSON\n")
	f.Close()

	set, err := recorder.Open(path)
	if err != nil {
		log.Fatal(err) // e.g. a PathError wrapping recorder.ErrNotRecording
	}
	defer set.Close()
	sc := set.Scan()
	n := 0
	for sc.Next() {
		n++ // sc.Record().Line is the JSON line, .Time its time
	}
	if err := sc.Err(); err != nil {
		log.Fatal(err)
	}
	fi := set.Files()[0]
	fmt.Println(n, "records;", fi.Format, "index", fi.Index)
	for _, d := range set.Damage() {
		fmt.Println(d.Kind, d.Err) // d.Offset says where
	}
	// Output:
	// 2 records; jsonl index rebuilt
	// bad-line not a JSON object
}

// Reaching a point in time without reading from the start: load the latest
// keyframe at or before it, then fold the records after it.
func ExampleSet_KeyframeAtOrBefore() {
	set, err := recorder.Open("recordings/")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer set.Close()
	at := time.Date(2026, 11, 27, 3, 12, 0, 0, time.UTC)
	pos, ok := set.KeyframeAtOrBefore(at)
	if !ok {
		return // no keyframe that early: fold from set.Scan()
	}
	sc := set.ScanFrom(pos, at.Add(time.Nanosecond))
	for sc.Next() {
		_ = sc.Record() // the first record is the keyframe
	}
}
