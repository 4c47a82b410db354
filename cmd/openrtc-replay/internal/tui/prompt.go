package tui

import (
	"unicode/utf8"

	tea "charm.land/bubbletea/v2"
)

// maxPromptLen bounds what the prompt accepts: a time or a filter is short,
// and a paste of a whole file should not become the filter.
const maxPromptLen = 64

type promptKind int

const (
	promptJump promptKind = iota // j and J: a duration or a time
	promptText                   // /: the text filter, applied as it is typed
)

// prompt is the one-line editor on the status line.
type prompt struct {
	kind promptKind
	back bool   // J: a duration jumps back
	buf  string // what was typed
	prev string // the text filter before editing, restored by esc
}

func (p *prompt) label() string {
	switch {
	case p.kind == promptText:
		return "filter (session, agent, tenant): "
	case p.back:
		return "jump back by (30s, 5m) or to (15:04:05, +90s, -5m): "
	default:
		return "jump forward by (30s, 5m) or to (15:04:05, +90s, -5m): "
	}
}

// promptKey edits the prompt: enter accepts, esc cancels, backspace and
// ctrl+u delete, printable keys insert.
func (m *model) promptKey(k tea.KeyPressMsg) tea.Cmd {
	p := m.prompt
	switch k.String() {
	case "enter":
		m.prompt = nil
		if p.kind == promptJump {
			m.jumpTo(p)
		}
		return nil
	case "esc":
		m.prompt = nil
		if p.kind == promptText && m.text != p.prev {
			m.text = p.prev
			m.rebuild()
		}
		return nil
	case "backspace", "ctrl+h":
		if _, size := utf8.DecodeLastRuneInString(p.buf); size > 0 {
			p.buf = p.buf[:len(p.buf)-size]
		}
	case "ctrl+u":
		p.buf = ""
	default:
		if k.Text == "" || k.Mod&(tea.ModCtrl|tea.ModAlt) != 0 || len(p.buf)+len(k.Text) > maxPromptLen {
			return nil
		}
		p.buf += k.Text
	}
	if p.kind == promptText {
		m.text = p.buf
		m.rebuild()
	}
	return nil
}

// jumpTo moves to what the jump prompt says.
func (m *model) jumpTo(p *prompt) {
	t, err := parseJump(p.buf, m.local(m.view.Time), m.start, m.end, p.back)
	if err != nil {
		m.setNote(true, err.Error())
		return
	}
	m.seek(t)
}
