package tui

import (
	"io"
	"slices"
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
	orig Source      // the source the screen was started on: its caller closes it
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

	// What needs attention: the recording's summary findings, or the live
	// view's (fold.ViewFindings). They head the table unless hidden (p).
	findings     []fold.Finding
	findingsRead bool
	findingsErr  error
	hideFindings bool

	sortIdx   int
	sortRev   bool   // the sort's order reversed (I)
	statusIdx int    // into statusCycle
	text      string // the / filter
	agent     string // --agent, until cleared
	tenant    string // --tenant, until cleared

	// Column widths of the text columns, kept at the widest seen so the
	// table does not shift as rows come and go.
	sessW, agentW, tenantW int

	sel   int    // selected row, an index into rows
	selID string // its session, followed across moves and re-sorts
	top   int    // first row on screen

	help       bool
	helpScroll int
	prompt     *prompt
	drill      *drill
	picker     *picker // the sort picker (o)

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

	// A live worker's health, for the header: the last answer, how long
	// it has not answered, and whether it restarted.
	liveOK      time.Time // when the last refresh succeeded
	liveAsked   time.Time // when the refresh running now began
	liveErr     error     // the last refresh's error, until one succeeds
	liveErrAt   time.Time // when the errors began
	restartedAt time.Time // when a refresh found a new process
	restart     PollInfo  // what that refresh said of it
	prevStarted time.Time // the worker's start time at the previous answer

	// Reopening and following a recording that is still being written.
	gen       int               // the source's generation: messages of an older one are ignored
	pending   map[int]int       // background reads still running, by generation
	retired   map[int]io.Closer // sources replaced by a reopen, closed once their reads end
	following bool
	reopening bool
	rereadDue bool          // a reopen came while stalls/findings were read: read again after
	readStart time.Time     // when the latest read of stalls and findings began
	readTook  time.Duration // how long the latest finished one took

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
	scroll  int  // first line of the stall list on screen
	follow  bool // scroll to the group of the stall [ or ] went to, once drawn
}

// Messages the screen sends itself.
type (
	playTickMsg    struct{ gen int }
	refreshTickMsg struct{}
	refreshedMsg   struct {
		view     fold.View
		stalls   []fold.Stall
		findings []fold.Finding
		info     PollInfo
		err      error
		auto     bool // from the periodic refresh, which schedules the next
	}
	timelineMsg struct {
		id  string
		tl  fold.Timeline
		err error
	}
	stallsMsg struct {
		gen    int
		stalls []fold.Stall
		err    error
	}
	findingsMsg struct {
		gen      int
		findings []fold.Finding
		err      error
	}
	followTickMsg struct{}
	reopenedMsg   struct {
		src Source
		err error
	}
)

func newModel(src Source, opts Options) *model {
	m := &model{
		src: src, orig: src, mu: new(sync.Mutex), opts: opts,
		width: opts.Width, height: opts.Height, stallIdx: -1,
		tick: tea.Tick, now: time.Now,
	}
	m.live, _ = src.(LiveSource)
	m.agent, m.tenant, m.sortRev = opts.Agent, opts.Tenant, opts.Reverse
	m.pending, m.retired = map[int]int{}, map[int]io.Closer{}
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
		m.statusIdx = max(0, indexOf(statusCycle, opts.Status))
	}
	m.start, m.end = src.Span()
	m.following = opts.Follow && m.live == nil && opts.Reopen != nil
	m.setView(src.View())
	return m
}

// statusCycle is the f key's cycle: OpenRTC's, and ended.
var statusCycle = append(append([]string(nil), fold.StatusFilters...), fold.StatusEnded)

// Init starts the periodic refresh of a live source, or the reading of a
// recording's stalls.
func (m *model) Init() tea.Cmd {
	if m.live != nil {
		m.liveOK = m.now()
		m.prevStarted = m.view.Worker.Started
		return m.refresh(true)
	}
	cmds := []tea.Cmd{m.readRecording()}
	if m.following {
		cmds = append(cmds, m.scheduleFollow())
	}
	return tea.Batch(cmds...)
}

// readRecording reads the recording's stalls and findings off the event
// loop. Not under mu: a Source's Stalls and Findings may run beside its
// moves (see Source), and on a day's recording each scans the whole file.
func (m *model) readRecording() tea.Cmd {
	src, gen := m.src, m.gen
	m.readStart = m.now()
	cmds := []tea.Cmd{func() tea.Msg {
		stalls, err := src.Stalls()
		return stallsMsg{gen: gen, stalls: stalls, err: err}
	}}
	m.pending[gen]++
	if fs, ok := src.(FindingsSource); ok {
		m.pending[gen]++
		cmds = append(cmds, func() tea.Msg {
			f, err := fs.Findings()
			return findingsMsg{gen: gen, findings: f, err: err}
		})
	} else {
		m.findingsRead = true
	}
	return tea.Batch(cmds...)
}

// readDone counts a background read of generation gen as ended, closes a
// retired source once nothing reads it, and starts a read that a reopen
// asked for meanwhile.
func (m *model) readDone(gen int) tea.Cmd {
	m.pending[gen]--
	if m.pending[gen] > 0 {
		return nil
	}
	delete(m.pending, gen)
	if gen == m.gen {
		m.readTook = m.now().Sub(m.readStart)
	}
	if c, ok := m.retired[gen]; ok {
		delete(m.retired, gen)
		c.Close()
	}
	if m.rereadDue && len(m.pending) == 0 {
		m.rereadDue = false
		return m.readRecording()
	}
	return nil
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
		if msg.gen == m.gen {
			m.stalls, m.stallsRead = msg.stalls, true
			if msg.err != nil {
				m.setNote(true, "reading the stalls: "+msg.err.Error())
			}
		}
		return m, m.readDone(msg.gen)
	case findingsMsg:
		if msg.gen == m.gen {
			m.findings, m.findingsErr, m.findingsRead = msg.findings, msg.err, true
			m.scrollToSelection()
		}
		return m, m.readDone(msg.gen)
	case followTickMsg:
		if !m.following {
			return m, nil
		}
		return m, tea.Batch(m.reopen(), m.scheduleFollow())
	case reopenedMsg:
		return m, m.reopened(msg)
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
	if m.sortRev {
		slices.Reverse(m.rows)
	}
	m.growWidths()
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
func (m *model) status() string { return statusCycle[m.statusIdx] }

func (m *model) filter() fold.Filter {
	return fold.Filter{Status: m.status(), Agent: m.agent, Tenant: m.tenant, Text: m.text}
}

// filtered reports whether any filter is in force.
func (m *model) filtered() bool {
	return m.status() != "all" || m.agent != "" || m.tenant != "" || m.text != ""
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
	m.liveAsked = m.now()
	src, mu := m.live, m.mu
	return func() tea.Msg {
		mu.Lock()
		defer mu.Unlock()
		if err := src.Refresh(); err != nil {
			return refreshedMsg{err: err, auto: auto}
		}
		stalls, err := src.Stalls()
		msg := refreshedMsg{view: src.View(), stalls: stalls, err: err, auto: auto}
		if p, ok := src.(interface{ Info() PollInfo }); ok {
			msg.info = p.Info()
		}
		if fs, ok := src.(FindingsSource); ok && err == nil {
			msg.findings, msg.err = fs.Findings()
		}
		return msg
	}
}

func (m *model) refreshed(msg refreshedMsg) tea.Cmd {
	m.refreshing = false
	now := m.now()
	if msg.err != nil {
		if m.liveErr == nil {
			m.liveErrAt = now
		}
		m.liveErr = msg.err
	} else {
		if m.liveErr != nil && m.noteErr {
			m.note = "" // the worker answers again: its old error is history
		}
		m.liveErr, m.liveOK = nil, now
		started := msg.view.Worker.Started
		if msg.info.Restarted || (!m.prevStarted.IsZero() && !started.IsZero() && !started.Equal(m.prevStarted)) {
			m.restartedAt, m.restart = now, msg.info
		}
		if !started.IsZero() {
			m.prevStarted = started
		}
		m.stalls, m.stallsRead = msg.stalls, true
		m.setView(msg.view)
		if _, ok := m.src.(FindingsSource); ok {
			m.findings, m.findingsRead = msg.findings, true
		}
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
	return func() tea.Msg {
		m.mu.Lock()
		defer m.mu.Unlock()
		tl, err := m.src.Timeline(id) // the source now: a reopen may have replaced it
		return timelineMsg{id: id, tl: tl, err: err}
	}
}
