package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/openrtc-go/introspect/live"
	"github.com/openrtc-go/introspect/recorder"
)

// Exit statuses.
const (
	exitOK      = 0
	exitFailed  = 1 // the command ran and failed: no worker, damage found by verify, I/O
	exitBadArgs = 2 // the command could not run: bad flag, missing file, not a recording, time out of range
)

// exitError is an error with its exit status and, for a usage error, the
// command whose help to point at.
type exitError struct {
	code int
	err  error
	cmd  string // "openrtc-replay top": suggest its --help
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageErr is a bad flag or argument of c: exit status 2, and a pointer to
// c's help.
func usageErr(c *cobra.Command, format string, args ...any) error {
	return &exitError{code: exitBadArgs, err: fmt.Errorf(format, args...), cmd: c.CommandPath()}
}

// badInput is an input that cannot be read or a time outside it: exit
// status 2.
func badInput(err error) error { return &exitError{code: exitBadArgs, err: err} }

// exit prints err as one line on standard error and returns the exit
// status: 2 for what the user must fix in the command line, 1 for the
// rest.
func (a *app) exit(err error) int {
	if err == nil {
		return a.code
	}
	code := exitFailed
	msg := err.Error()
	var ee *exitError
	var pe *fs.PathError
	switch {
	case errors.As(err, &ee):
		code = ee.code
		if ee.cmd != "" {
			msg += fmt.Sprintf(" (see '%s --help')", ee.cmd)
		}
	case errors.Is(err, recorder.ErrNotRecording), errors.Is(err, recorder.ErrNoInputs):
		code = exitBadArgs
	case errors.As(err, &pe) && (errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission)):
		code = exitBadArgs
	case errors.Is(err, context.Canceled):
		return exitFailed // interrupted: the user knows
	case errors.Is(err, live.ErrNoWorker):
		code = exitFailed
	}
	fmt.Fprintf(a.err, "openrtc-replay: %s\n", oneLine(msg))
	return code
}

// oneLine folds a message onto one line: errors from below may carry
// newlines, and the contract is one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.TrimSpace(s)), " ")
}

// version is the module version the binary was built from.
func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}
