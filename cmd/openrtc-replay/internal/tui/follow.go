package tui

import (
	"io"
	"time"

	tea "charm.land/bubbletea/v2"
)

// followInterval is how often following reopens the recording: the
// recorder flushes a block a second by default (a reopen reads the
// complete blocks of the frame still open).
const followInterval = time.Second

func (m *model) scheduleFollow() tea.Cmd {
	return m.tick(followInterval, func(time.Time) tea.Msg { return followTickMsg{} })
}

// reopen opens the recording again off the event loop: on a long
// recording, opening reads its index.
func (m *model) reopen() tea.Cmd {
	if m.reopening || m.opts.Reopen == nil {
		return nil
	}
	m.reopening = true
	open := m.opts.Reopen
	return func() tea.Msg {
		src, err := open()
		return reopenedMsg{src: src, err: err}
	}
}

// reopened puts the reopened recording in place of the old one: at the
// same moment, or at its new end while following. The old source is
// closed once the reads that use it end.
func (m *model) reopened(msg reopenedMsg) tea.Cmd {
	m.reopening = false
	if msg.err != nil {
		m.setNote(true, "reopening: "+msg.err.Error())
		return nil
	}
	oldEnd := m.end
	m.mu.Lock()
	old, oldGen := m.src, m.gen
	m.src = msg.src
	m.gen++
	m.start, m.end = m.src.Span()
	var err error
	if !m.following {
		err = m.src.Seek(m.view.Time)
	}
	m.load()
	m.movedByHand()
	m.mu.Unlock()
	if c, ok := old.(io.Closer); ok && old != m.orig {
		if m.pending[oldGen] > 0 {
			m.retired[oldGen] = c
		} else {
			c.Close()
		}
	}
	if err != nil {
		m.setNote(true, err.Error())
	}
	var cmds []tea.Cmd
	if m.drill != nil {
		m.drill.loading = true
		cmds = append(cmds, m.loadTimeline(m.drill.id))
	}
	// The stalls and findings of the longer recording: read again, unless
	// nothing was added or a read is still running (then after it).
	switch {
	case m.end.Equal(oldEnd) && m.stallsRead && m.findingsRead:
	case len(m.pending) > 0:
		m.rereadDue = true
	case m.following && m.now().Sub(m.readStart) < m.rereadGap():
		// Following a long recording: each read scans all of it, so
		// the stalls and findings are read again now and then, not on
		// every reopen.
	default:
		cmds = append(cmds, m.readRecording())
	}
	if !m.following && msg.src != nil {
		if !m.end.After(oldEnd) {
			m.setNote(false, "reopened: nothing new since "+m.clock(oldEnd))
		} else {
			m.setNote(false, "reopened: the recording now ends at "+m.clock(m.end))
		}
	}
	return tea.Batch(cmds...)
}

// rereadGap is how long following waits between two reads of the
// recording's stalls and findings: ten times what the last read took, and
// at least five seconds, so that a day's recording is not scanned back to
// back.
func (m *model) rereadGap() time.Duration {
	return max(5*time.Second, 10*m.readTook)
}

// toggleFollow starts or stops following the recording's end.
func (m *model) toggleFollow() tea.Cmd {
	if m.opts.Reopen == nil {
		m.setNote(false, "this input cannot be reopened (standard input): nothing to follow")
		return nil
	}
	m.following = !m.following
	if !m.following {
		m.setNote(false, "stopped following")
		return nil
	}
	m.playing = false
	m.seek(m.end)
	return tea.Batch(m.reopen(), m.scheduleFollow())
}

// stopFollowing ends follow mode when a key moves the cursor by hand.
func (m *model) stopFollowing() {
	if m.following {
		m.following = false
		m.setNote(false, "stopped following (F follows again)")
	}
}

// closeSources closes the reopened source the screen ends on, and any
// retired one left; orig, the caller's, is the caller's to close.
func (m *model) closeSources(orig Source) {
	if c, ok := m.src.(io.Closer); ok && m.src != orig {
		c.Close()
	}
	for gen, c := range m.retired {
		c.Close()
		delete(m.retired, gen)
	}
}
