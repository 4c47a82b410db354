package recorder_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/openrtc-go/introspect/events"
	"github.com/openrtc-go/introspect/recorder"
)

// An application logs to its console and records everything, events and its
// own records alike, with one logger.
func ExampleCreateDir() {
	dir, err := os.MkdirTemp("", "recordings")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	rec, err := recorder.CreateDir(dir, &recorder.Options{Worker: "w1"})
	if err != nil {
		log.Fatal(err)
	}
	console := slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		Level:       slog.LevelWarn,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr { return dropTime(a) },
	})
	logger := slog.New(slog.NewMultiHandler(console, rec))

	// Events are slog records too.
	ctx := context.Background()
	logger.Handler().Handle(ctx, events.Record(time.Now(), events.SessionStart{SessionID: "job-1", Agent: "voice"}))
	logger.Info("room joined", "session_id", "job-1")
	logger.Warn("slow peer", "session_id", "job-1")

	if err := rec.Close(); err != nil {
		log.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "w1-*.zst"))
	fmt.Println(len(files), "file,", rec.Stats().Records, "records")
	// Output:
	// level=WARN msg="slow peer" session_id=job-1
	// 1 file, 3 records
}

func dropTime(a slog.Attr) slog.Attr {
	if a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}
