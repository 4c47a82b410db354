package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/openrtc-go/introspect/fold"
)

// Refresh rates of a live screen, in Hz, as in openrtc top.
const (
	MinRefreshRate     = 0.5
	MaxRefreshRate     = 10
	DefaultRefreshRate = 1
)

// Options configures [Run]. The zero value shows every session sorted by
// memory, refreshing a live source once a second, on the process's terminal.
type Options struct {
	// Sort is the initial sort key, one of [fold.SortKeys]; "" is
	// [fold.SortAttention]. The s key cycles from there.
	Sort string
	// Reverse reverses the sort's order (the I key).
	Reverse bool
	// Status is the initial status filter, one of [fold.StatusFilters] or
	// [fold.StatusEnded]; "" is "all". The f key cycles through them.
	Status string
	// Agent and Tenant keep only the sessions of that agent or tenant, as
	// the --agent and --tenant flags; "" keeps all. They are shown in the
	// footer until cleared (x, or esc).
	Agent, Tenant string

	// Reopen opens the recording again, from its files, at its end: the
	// r key, and every second while following (F). It is for a recording
	// that is still being written; nil when the input cannot be opened
	// again (standard input). A Source it returns that is an [io.Closer]
	// is closed when it is replaced or the screen ends.
	Reopen func() (Source, error)
	// Follow starts following the recording's end as it grows, like
	// less +F (needs Reopen).
	Follow bool
	// Location is the zone times are shown and typed in; nil is the
	// recording's own (the zone of its records' times).
	Location *time.Location
	// Title names what is shown, such as the recording's file name; it
	// heads the screen.
	Title string
	// Recording names where a live worker records, when known, for the
	// drill-down to point at its stalls' frames.
	Recording string
	// RefreshRate is how often a live source is refreshed, in Hz, clamped
	// to [MinRefreshRate, MaxRefreshRate]; 0 is [DefaultRefreshRate]. A
	// recording ignores it.
	RefreshRate float64

	// Input and Output are the terminal; nil means the process's own
	// (standard input, or the controlling terminal when standard input is
	// not one, and standard output). Tests pass pipes.
	Input  io.Reader
	Output io.Writer
	// Width and Height are the screen size to assume when Output is not a
	// terminal; 0 means 100×30. On a terminal its real size wins.
	Width, Height int
}

// validate checks the options that come from flags.
func (o Options) validate() error {
	if o.Sort != "" && !fold.ValidSort(o.Sort) {
		return fmt.Errorf("tui: unknown sort key %q (want one of %v)", o.Sort, fold.SortKeys)
	}
	if o.Status != "" && indexOf(statusCycle, o.Status) < 0 {
		return fmt.Errorf("tui: unknown status filter %q (want one of %v)", o.Status, statusCycle)
	}
	return nil
}

// refreshInterval returns the time between two refreshes of a live source.
func (o Options) refreshInterval() time.Duration {
	hz := o.RefreshRate
	switch {
	case hz == 0:
		hz = DefaultRefreshRate
	case hz < MinRefreshRate:
		hz = MinRefreshRate
	case hz > MaxRefreshRate:
		hz = MaxRefreshRate
	}
	return time.Duration(float64(time.Second) / hz)
}

// Run shows src on the terminal until the user quits (q or ctrl+c) or ctx
// is done. It returns nil when the user quit, ctx's error when ctx ended it,
// and otherwise the terminal's error. Errors of src do not end the screen;
// they are shown on its status line.
func Run(ctx context.Context, src Source, opts Options) error {
	if err := opts.validate(); err != nil {
		return err
	}
	m := newModel(src, opts)
	defer m.closeSources(src)
	popts := []tea.ProgramOption{tea.WithContext(ctx)}
	if opts.Input != nil {
		popts = append(popts, tea.WithInput(opts.Input))
	}
	if opts.Output != nil {
		popts = append(popts, tea.WithOutput(opts.Output))
	}
	popts = append(popts, tea.WithWindowSize(m.width, m.height))
	_, err := tea.NewProgram(m, popts...).Run()
	if err != nil {
		if ctx.Err() != nil && errors.Is(err, tea.ErrProgramKilled) {
			return ctx.Err()
		}
		return fmt.Errorf("tui: %w", err)
	}
	return nil
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}
