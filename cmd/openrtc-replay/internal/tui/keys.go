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
	m.note = ""
	if m.help {
		switch s {
		case "q":
			return tea.Quit
		case "?", "esc", "enter", "space":
			m.help = false
		}
		return nil
	}
	switch s {
	case "q":
		return tea.Quit
	case "?":
		m.help = true
	case "esc":
		switch {
		case m.drill != nil:
			m.drill = nil
		case m.text != "":
			m.text = ""
			m.rebuild()
		}
	case "r":
		return m.refreshKey()
	case "s":
		m.sortIdx = (m.sortIdx + 1) % len(fold.SortKeys)
		m.rebuild()
	case "f":
		m.statusIdx = (m.statusIdx + 1) % len(fold.StatusFilters)
		m.rebuild()
	case "/":
		m.prompt = &prompt{kind: promptText, buf: m.text, prev: m.text}
	case "up", "down", "pgup", "pgdown", "home", "end":
		m.moveKey(s)
	case "enter":
		return m.openDrill()
	default:
		return m.timeKey(s)
	}
	return nil
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
		m.jumpStall(1)
	case "[":
		m.jumpStall(-1)
	case "g":
		m.seek(m.start)
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
	m.mu.Lock()
	m.load()
	m.mu.Unlock()
	if m.drill != nil {
		m.drill.loading = true
		return m.loadTimeline(m.drill.id)
	}
	return nil
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
func (m *model) jumpStall(dir int) {
	if !m.stallsRead {
		m.setNote(false, "still reading the recording's stalls…")
		return
	}
	if len(m.stalls) == 0 {
		m.setNote(false, "no stalls in this recording")
		return
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
		return
	}
	st := m.stalls[i]
	if st.SessionID != "" {
		m.selID = st.SessionID
	}
	m.seek(st.At)
	m.stallIdx, m.stallAt = i, m.view.Time
	if m.note == "" {
		m.setNote(false, fmt.Sprintf("stall %d/%d: %s", i+1, len(m.stalls), stallLine(st, m.clock)))
	}
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
