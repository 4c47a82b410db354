package tui

import (
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/openrtc-go/introspect/fold"
)

// Play speeds, as multiples of real time: at 10× a minute of the recording
// plays in six seconds.
var playSpeeds = []float64{1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600}

// playTick is how often playback moves the cursor: often enough to look
// smooth, rarely enough that a day-long recording's cursor keeps up.
const playTick = 200 * time.Millisecond

// model is the screen's state. It is a pointer so that the caches (the
// sorted rows) survive between Update and View without copying.
type model struct {
	src  Source
	live LiveSource  // src, when it is a running worker
	mu   *sync.Mutex // serializes calls to src between Update and the commands that run off it
	opts Options

	width, height int

	view       fold.View
	rows       []fold.Row // view.Sessions filtered and sorted: the table
	total      int        // rows before filtering
	start, end time.Time
	stalls     []fold.Stall
	stallsRead bool // the recording's stalls are in stalls (they are read once, off the event loop)

	sortIdx   int
	statusIdx int    // into fold.StatusFilters; -1 for Options.Status when it is not in the cycle (ended)
	text      string // the / filter

	sel   int    // selected row, an index into rows
	selID string // its session, followed across moves and re-sorts
	top   int    // first row on screen

	help   bool
	prompt *prompt
	drill  *drill

	playing   bool
	speedIdx  int
	playClock time.Time // the moment playback has reached; the view may lag it on a source that stops on samples
	playWall  time.Time // wall time of the previous play tick
	playGen   int       // ticks of an earlier play are ignored

	stallIdx int       // the stall jumped to last, an index into stalls; -1 for none
	stallAt  time.Time // the view's time right after that jump

	refreshing bool // a live refresh is running
	note       string
	noteErr    bool

	// Timers and the clock, replaced by tests to drive playback and
	// refreshes without waiting.
	tick func(time.Duration, func(time.Time) tea.Msg) tea.Cmd
	now  func() time.Time
}

// drill is the drill-down screen of one session.
type drill struct {
	id      string
	loading bool
	tl      fold.Timeline
	err     error
	scroll  int // first line of the stall list on screen
}

// Messages the screen sends itself.
type (
	playTickMsg    struct{ gen int }
	refreshTickMsg struct{}
	refreshedMsg   struct {
		view   fold.View
		stalls []fold.Stall
		err    error
		auto   bool // from the periodic refresh, which schedules the next
	}
	timelineMsg struct {
		id  string
		tl  fold.Timeline
		err error
	}
	stallsMsg struct {
		stalls []fold.Stall
		err    error
	}
)

func newModel(src Source, opts Options) *model {
	m := &model{
		src: src, mu: new(sync.Mutex), opts: opts,
		width: opts.Width, height: opts.Height, stallIdx: -1,
		tick: tea.Tick, now: time.Now,
	}
	m.live, _ = src.(LiveSource)
	if m.width <= 0 {
		m.width = 100
	}
	if m.height <= 0 {
		m.height = 30
	}
	if opts.Sort != "" {
		m.sortIdx = max(0, indexOf(fold.SortKeys, opts.Sort))
	}
	if opts.Status != "" {
		m.statusIdx = indexOf(fold.StatusFilters, opts.Status)
	}
	m.start, m.end = src.Span()
	m.setView(src.View())
	return m
}

// Init starts the periodic refresh of a live source, or the reading of a
// recording's stalls.
func (m *model) Init() tea.Cmd {
	if m.live != nil {
		return m.refresh(true)
	}
	src := m.src
	return func() tea.Msg {
		// Not under mu: a Source's Stalls may run beside its moves (see
		// Source), and on a day's recording it scans the whole file.
		stalls, err := src.Stalls()
		return stallsMsg{stalls: stalls, err: err}
	}
}

// Update handles one message.
func (m *model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.scrollToSelection()
	case tea.KeyPressMsg:
		return m, m.key(msg)
	case playTickMsg:
		return m, m.playStep(msg)
	case refreshTickMsg:
		if m.refreshing {
			return m, m.scheduleRefresh()
		}
		return m, m.refresh(true)
	case refreshedMsg:
		return m, m.refreshed(msg)
	case stallsMsg:
		m.stalls, m.stallsRead = msg.stalls, true
		if msg.err != nil {
			m.setNote(true, "reading the stalls: "+msg.err.Error())
		}
	case timelineMsg:
		if m.drill != nil && m.drill.id == msg.id {
			m.drill.loading = false
			m.drill.err = msg.err
			if msg.err == nil {
				m.drill.tl = msg.tl
			}
		}
	}
	return m, nil
}

// View renders the screen.
func (m *model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	v.WindowTitle = "openrtc-replay"
	if m.opts.Title != "" {
		v.WindowTitle += " " + m.opts.Title
	}
	return v
}

// setView takes a new view from the source and rebuilds the table.
func (m *model) setView(v fold.View) {
	m.view = v
	m.rebuild()
}

// rebuild filters and sorts the view's rows for the table, keeping the
// selected session selected when it is still there. It is the only O(rows)
// work and runs once per move, not once per frame.
func (m *model) rebuild() {
	m.rows = append(m.rows[:0], m.view.Sessions...)
	m.total = len(m.rows)
	m.rows = fold.FilterRows(m.rows, m.filter())
	fold.SortRows(m.rows, fold.SortKeys[m.sortIdx])
	if m.selID != "" {
		for i := range m.rows {
			if m.rows[i].SessionID == m.selID {
				m.sel = i
				m.scrollToSelection()
				return
			}
		}
	}
	m.sel = min(m.sel, len(m.rows)-1)
	m.sel = max(m.sel, 0)
	if m.sel < len(m.rows) {
		m.selID = m.rows[m.sel].SessionID
	}
	m.scrollToSelection()
}

// status returns the status filter in force.
func (m *model) status() string {
	if m.statusIdx < 0 {
		return m.opts.Status
	}
	return fold.StatusFilters[m.statusIdx]
}

func (m *model) filter() fold.Filter {
	return fold.Filter{
		Status: m.status(),
		Agent:  m.opts.Agent, Tenant: m.opts.Tenant, Text: m.text,
	}
}

// load re-reads the view after a move of the source.
func (m *model) load() {
	m.setView(m.src.View())
}

// setNote shows a one-line message on the status line until the next key.
func (m *model) setNote(err bool, s string) { m.note, m.noteErr = s, err }

func (m *model) scheduleRefresh() tea.Cmd {
	return m.tick(m.opts.refreshInterval(), func(time.Time) tea.Msg { return refreshTickMsg{} })
}

// refresh fetches a live view off the event loop, so a worker that answers
// slowly (it may be the one stalling) does not freeze the screen.
func (m *model) refresh(auto bool) tea.Cmd {
	m.refreshing = true
	src, mu := m.live, m.mu
	return func() tea.Msg {
		mu.Lock()
		defer mu.Unlock()
		if err := src.Refresh(); err != nil {
			return refreshedMsg{err: err, auto: auto}
		}
		stalls, err := src.Stalls()
		return refreshedMsg{view: src.View(), stalls: stalls, err: err, auto: auto}
	}
}

func (m *model) refreshed(msg refreshedMsg) tea.Cmd {
	m.refreshing = false
	if msg.err != nil {
		m.setNote(true, msg.err.Error())
	} else {
		m.stalls, m.stallsRead = msg.stalls, true
		m.setView(msg.view)
	}
	var cmds []tea.Cmd
	if msg.auto {
		cmds = append(cmds, m.scheduleRefresh())
	}
	if m.drill != nil && !m.drill.loading && msg.err == nil {
		cmds = append(cmds, m.loadTimeline(m.drill.id))
	}
	return tea.Batch(cmds...)
}

// loadTimeline reads a session's timeline off the event loop: on a long
// recording it folds the session's whole life.
func (m *model) loadTimeline(id string) tea.Cmd {
	src, mu := m.src, m.mu
	return func() tea.Msg {
		mu.Lock()
		defer mu.Unlock()
		tl, err := src.Timeline(id)
		return timelineMsg{id: id, tl: tl, err: err}
	}
}
