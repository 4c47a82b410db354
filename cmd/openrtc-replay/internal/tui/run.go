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
	// [fold.SortMem]. The s key cycles from there.
	Sort string
	// Status is the initial status filter, one of [fold.StatusFilters] or
	// [fold.StatusEnded]; "" is "all". The f key cycles through
	// fold.StatusFilters from there (from ended, to all).
	Status string
	// Agent and Tenant keep only the sessions of that agent or tenant, as
	// the --agent and --tenant flags; "" keeps all. They stay in force and
	// are shown in the footer.
	Agent, Tenant string
	// Location is the zone times are shown and typed in; nil is the
	// recording's own (the zone of its records' times).
	Location *time.Location
	// Title names what is shown, such as the recording's file name; it
	// heads the screen.
	Title string
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
	if o.Status != "" && o.Status != fold.StatusEnded && indexOf(fold.StatusFilters, o.Status) < 0 {
		return fmt.Errorf("tui: unknown status filter %q (want one of %v or %s)", o.Status, fold.StatusFilters, fold.StatusEnded)
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
