package tui

import (
	"fmt"
	"sort"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/openrtc-go/introspect/fold"
)

// key handles one key press. The prompt, when open, takes every key; then
// the help page; the rest work on the table and on the drill-down alike.
func (m *model) key(k tea.KeyPressMsg) tea.Cmd {
	s := k.String()
	if s == "ctrl+c" {
		return tea.Quit
	}
	if m.prompt != nil {
		return m.promptKey(k)
	}
	if m.picker != nil {
		return m.pickerKey(s)
	}
	m.note = ""
	if m.help {
		return m.helpKey(s)
	}
	switch s {
	case "q":
		return tea.Quit
	case "?":
		m.help, m.helpScroll = true, 0
	case "esc":
		switch {
		case m.drill != nil:
			m.drill = nil
		case m.text != "":
			m.text = ""
			m.rebuild()
		case m.agent != "" || m.tenant != "":
			m.agent, m.tenant = "", ""
			m.rebuild()
		}
	case "x":
		if !m.filtered() {
			m.setNote(false, "no filter to clear")
			return nil
		}
		m.statusIdx, m.text, m.agent, m.tenant = 0, "", "", ""
		m.rebuild()
		m.setNote(false, "every filter cleared")
	case "r":
		return m.refreshKey()
	case "F":
		if m.live != nil {
			m.setNote(false, "live view: it always shows the present")
			return nil
		}
		return m.toggleFollow()
	case "s":
		m.setSort((m.sortIdx+1)%len(fold.SortKeys), false)
	case ">", ".":
		m.setSort((m.sortIdx+1)%len(fold.SortKeys), m.sortRev)
	case "<", ",":
		m.setSort((m.sortIdx+len(fold.SortKeys)-1)%len(fold.SortKeys), m.sortRev)
	case "I":
		m.setSort(m.sortIdx, !m.sortRev)
	case "o":
		m.picker = &picker{sel: m.sortIdx}
	case "f":
		m.statusIdx = (m.statusIdx + 1) % len(statusCycle)
		m.rebuild()
	case "p":
		m.hideFindings = !m.hideFindings
		m.scrollToSelection()
	case "/":
		m.prompt = &prompt{kind: promptText, buf: m.text, prev: m.text}
	case "up", "down", "pgup", "pgdown", "home", "end":
		m.moveKey(s)
	case "enter":
		return m.openDrill()
	case "1", "2", "3", "4", "5", "6", "7", "8", "9":
		return m.jumpFinding(int(s[0] - '1'))
	default:
		return m.timeKey(s)
	}
	return nil
}

// setSort sorts by SortKeys[i], reversed when rev is set.
func (m *model) setSort(i int, rev bool) {
	m.sortIdx, m.sortRev = i, rev
	m.rebuild()
}

// helpKey scrolls the help page or closes it.
func (m *model) helpKey(s string) tea.Cmd {
	page := max(m.height-m.headerHeight()-footerHeight, 1)
	switch s {
	case "q":
		return tea.Quit
	case "?", "esc", "enter", "space":
		m.help = false
	case "up", "k":
		m.helpScroll--
	case "down", "j":
		m.helpScroll++
	case "pgup":
		m.helpScroll -= page
	case "pgdown":
		m.helpScroll += page
	case "home", "g":
		m.helpScroll = 0
	case "end", "G":
		m.helpScroll = 1 << 20
	}
	m.helpScroll = max(m.helpScroll, 0) // the upper bound depends on the page: render clamps it
	return nil
}

// jumpFinding goes to finding i: its moment, with its session selected.
func (m *model) jumpFinding(i int) tea.Cmd {
	switch {
	case !m.findingsRead:
		m.setNote(false, "still reading the recording's findings…")
		return nil
	case i >= len(m.findings):
		m.setNote(false, fmt.Sprintf("no finding %d (there are %d)", i+1, len(m.findings)))
		return nil
	}
	f := m.findings[i]
	if f.SessionID != "" {
		m.selID = f.SessionID
	}
	if m.live == nil && !f.At.IsZero() {
		m.stopFollowing()
		m.playing = false
		m.seek(f.At)
	} else {
		m.rebuild()
	}
	if m.note != "" && m.noteErr {
		return nil
	}
	note := fmt.Sprintf("finding %d/%d: %s → %s", i+1, len(m.findings), f.Title, f.Runbook)
	if f.SessionID != "" && !m.showing(f.SessionID) {
		note += m.hiddenBy(f.SessionID)
	}
	m.setNote(false, note)
	// An open drill-down goes to the finding's session.
	if m.drill != nil && f.SessionID != "" && f.SessionID != m.drill.id && m.inView(f.SessionID) {
		m.drill = &drill{id: f.SessionID, loading: true}
		return m.loadTimeline(f.SessionID)
	}
	if m.drill != nil {
		m.drill.loading = true
		return m.loadTimeline(m.drill.id)
	}
	return nil
}

// showing reports whether the session id is a row of the table.
func (m *model) showing(id string) bool {
	for i := range m.rows {
		if m.rows[i].SessionID == id {
			return true
		}
	}
	return false
}

// hiddenBy says why a session is not in the table: the filter hides it,
// or it is not in the view at this moment.
func (m *model) hiddenBy(id string) string {
	for i := range m.view.Sessions {
		if m.view.Sessions[i].SessionID == id {
			return fmt.Sprintf(" · %s is hidden by the filter (x clears it)", id)
		}
	}
	return fmt.Sprintf(" · %s is not in the view at this moment", id)
}

// moveKey moves the selection in the table, or scrolls the stall list of
// the drill-down.
func (m *model) moveKey(s string) {
	if m.drill != nil {
		d := map[string]int{"up": -1, "down": 1, "pgup": -10, "pgdown": 10, "home": -1 << 20, "end": 1 << 20}[s]
		m.drill.scroll = max(m.drill.scroll+d, 0)
		return
	}
	switch s {
	case "up":
		m.moveSel(-1)
	case "down":
		m.moveSel(1)
	case "pgup":
		m.moveSel(-m.tableHeight())
	case "pgdown":
		m.moveSel(m.tableHeight())
	case "home":
		m.moveSel(-len(m.rows))
	case "end":
		m.moveSel(len(m.rows))
	}
}

// timeKey handles the keys that move through the recording.
func (m *model) timeKey(s string) tea.Cmd {
	switch s {
	case "t", "right", "T", "left", "j", "J", "[", "]", "g", "G", "space", "+", "=", "-", "_":
	default:
		return nil
	}
	if m.live != nil {
		m.setNote(false, "live view: no time travel here; replay a recording for "+s)
		return nil
	}
	if s != "+" && s != "=" && s != "-" && s != "_" {
		m.stopFollowing()
	}
	switch s {
	case "t", "right":
		m.step(true)
	case "T", "left":
		m.step(false)
	case "j":
		m.prompt = &prompt{kind: promptJump}
	case "J":
		m.prompt = &prompt{kind: promptJump, back: true}
	case "]":
		return m.jumpStall(1)
	case "[":
		return m.jumpStall(-1)
	case "g":
		m.seekFirstSample()
	case "G":
		m.seek(m.end)
	case "space":
		return m.togglePlay()
	case "+", "=":
		m.speedIdx = min(m.speedIdx+1, len(playSpeeds)-1)
		m.setNote(false, "play speed "+speedLabel(m.speedIdx))
	case "-", "_":
		m.speedIdx = max(m.speedIdx-1, 0)
		m.setNote(false, "play speed "+speedLabel(m.speedIdx))
	}
	return nil
}

// refreshKey fetches a live view now, or reloads the view and the
// drill-down of a recording.
func (m *model) refreshKey() tea.Cmd {
	if m.live != nil {
		if m.refreshing {
			return nil
		}
		return m.refresh(false)
	}
	if m.opts.Reopen != nil {
		return m.reopen()
	}
	m.mu.Lock()
	m.load()
	m.mu.Unlock()
	m.setNote(false, "reloaded (this input cannot be reopened: its records are those read at the start)")
	if m.drill != nil {
		m.drill.loading = true
		return m.loadTimeline(m.drill.id)
	}
	return nil
}

// seekFirstSample moves to the recording's first sample (g): its first
// record is the worker's start, before anything was measured.
func (m *model) seekFirstSample() {
	m.seek(m.start)
	if m.view.Worker.RSSBytes > 0 || m.note != "" {
		return
	}
	m.mu.Lock()
	moved, err := m.src.Next()
	if moved && err == nil {
		m.load()
		m.movedByHand()
	}
	m.mu.Unlock()
}

// step moves to the next or the previous sample.
func (m *model) step(forward bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var moved bool
	var err error
	if forward {
		moved, err = m.src.Next()
	} else {
		moved, err = m.src.Prev()
	}
	m.load()
	m.movedByHand()
	switch {
	case err != nil:
		m.setNote(true, err.Error())
	case !moved && forward:
		m.setNote(false, "end of the recording")
	case !moved:
		m.setNote(false, "start of the recording")
	}
}

// seek moves to the moment t.
func (m *model) seek(t time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.src.Seek(t); err != nil {
		m.setNote(true, err.Error())
		return
	}
	m.load()
	m.movedByHand()
}

// movedByHand lets playback go on from where a key moved the cursor.
func (m *model) movedByHand() {
	m.playClock = m.view.Time
}

// jumpStall moves to the next (dir > 0) or previous stall and selects the
// session held responsible. It counts from the stall it jumped to last as
// long as the cursor has not moved since: a source that stops on samples
// may land before the stall's own moment.
func (m *model) jumpStall(dir int) tea.Cmd {
	if !m.stallsRead {
		m.setNote(false, "still reading the recording's stalls…")
		return nil
	}
	if len(m.stalls) == 0 {
		m.setNote(false, "no stalls in this recording")
		return nil
	}
	cur := m.view.Time
	var i int
	switch {
	case m.stallIdx >= 0 && cur.Equal(m.stallAt):
		i = m.stallIdx + dir
	case dir > 0:
		i = sort.Search(len(m.stalls), func(i int) bool { return m.stalls[i].At.After(cur) })
	default:
		i = sort.Search(len(m.stalls), func(i int) bool { return !m.stalls[i].At.Before(cur) }) - 1
	}
	if i < 0 || i >= len(m.stalls) {
		if dir > 0 {
			m.setNote(false, "no later stall")
		} else {
			m.setNote(false, "no earlier stall")
		}
		return nil
	}
	st := m.stalls[i]
	if st.SessionID != "" {
		m.selID = st.SessionID
	}
	m.seek(st.At)
	m.stallIdx, m.stallAt = i, m.view.Time
	if m.note == "" {
		note := fmt.Sprintf("stall %d/%d: %s", i+1, len(m.stalls), stallLine(st, m.clock))
		if st.SessionID != "" && !m.showing(st.SessionID) {
			note = fmt.Sprintf("stall %d/%d%s: %s", i+1, len(m.stalls), m.hiddenBy(st.SessionID), stallLine(st, m.clock))
		}
		m.setNote(false, note)
	}
	// The drill-down follows the stall: to its session, at its group.
	var cmd tea.Cmd
	if m.drill != nil && st.SessionID != "" && st.SessionID != m.drill.id && m.inView(st.SessionID) {
		m.drill = &drill{id: st.SessionID, loading: true}
		cmd = m.loadTimeline(st.SessionID)
	}
	if m.drill != nil {
		m.drill.follow = true
	}
	return cmd
}

// inView reports whether the session is in the view, filtered out or not.
func (m *model) inView(id string) bool {
	for i := range m.view.Sessions {
		if m.view.Sessions[i].SessionID == id {
			return true
		}
	}
	return false
}

func (m *model) togglePlay() tea.Cmd {
	if m.playing {
		m.playing = false
		return nil
	}
	if !m.view.Time.Before(m.end) {
		m.setNote(false, "at the end of the recording; g goes to the start")
		return nil
	}
	m.playing = true
	m.playGen++
	m.playClock, m.playWall = m.view.Time, m.now()
	return m.nextPlayTick()
}

func (m *model) nextPlayTick() tea.Cmd {
	gen := m.playGen
	return m.tick(playTick, func(time.Time) tea.Msg { return playTickMsg{gen: gen} })
}

// playStep advances playback by the wall time since the previous tick
// times the speed, so a slow frame does not slow the recording down.
func (m *model) playStep(msg playTickMsg) tea.Cmd {
	if !m.playing || msg.gen != m.playGen {
		return nil
	}
	now := m.now()
	adv := time.Duration(float64(now.Sub(m.playWall)) * playSpeeds[m.speedIdx])
	m.playWall = now
	m.playClock = m.playClock.Add(adv)
	if !m.playClock.Before(m.end) {
		m.playClock = m.end
		m.playing = false
	}
	clock := m.playClock
	m.seek(clock)
	m.playClock = clock // seek resets it to the view's time; keep playback's own
	if !m.playing {
		m.setNote(false, "end of the recording")
		return nil
	}
	return m.nextPlayTick()
}

func speedLabel(i int) string { return fmt.Sprintf("%g×", playSpeeds[i]) }

// moveSel moves the selection by d rows.
func (m *model) moveSel(d int) {
	if len(m.rows) == 0 {
		return
	}
	m.sel = min(max(m.sel+d, 0), len(m.rows)-1)
	m.selID = m.rows[m.sel].SessionID
	m.scrollToSelection()
}

// scrollToSelection keeps the selected row on screen.
func (m *model) scrollToSelection() {
	h := m.tableHeight()
	if m.sel < m.top {
		m.top = m.sel
	}
	if m.sel >= m.top+h {
		m.top = m.sel - h + 1
	}
	m.top = min(m.top, max(len(m.rows)-h, 0))
	m.top = max(m.top, 0)
}

func (m *model) openDrill() tea.Cmd {
	if m.drill != nil || len(m.rows) == 0 {
		return nil
	}
	id := m.rows[m.sel].SessionID
	m.drill = &drill{id: id, loading: true}
	return m.loadTimeline(id)
}
