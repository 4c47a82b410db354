package tui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"

	"github.com/openrtc-go/introspect/fold"
	"github.com/openrtc-go/introspect/recorder"
)

// helperEnv names the recording the test binary shows on the terminal when
// it is started as the screen of TestTmux rather than to run tests.
const helperEnv = "OPENRTC_TUI_HELPER_RECORDING"

func TestMain(m *testing.M) {
	if path := os.Getenv(helperEnv); path != "" {
		os.Exit(showRecording(path))
	}
	code := m.Run()
	removeTools()
	if code == 0 {
		// The screen's commands and Bubble Tea's readers must all be gone
		// once Run returns.
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goroutines left behind:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// showRecording is the helper program: the screen over a recording, on the
// process's own terminal, as openrtc-replay top runs it.
func showRecording(path string) int {
	set, err := recorder.Open(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 3
	}
	defer set.Close()
	cur, err := fold.NewCursor(set)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 3
	}
	if err := Run(context.Background(), cur, Options{Title: filepath.Base(path)}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 4
	}
	return 0
}
