package tui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/openrtc-go/introspect/events"
	"github.com/openrtc-go/introspect/fold"
)

// Styles use the 16 ANSI colors, so the terminal's own theme decides how
// they look; Bubble Tea strips them on a terminal without color.
var (
	styleTitle    = newPaint(lipgloss.NewStyle().Bold(true))
	styleDim      = newPaint(lipgloss.NewStyle().Faint(true))
	styleHead     = newPaint(lipgloss.NewStyle().Bold(true).Underline(true))
	styleSel      = newPaint(lipgloss.NewStyle().Reverse(true))
	styleSlow     = newPaint(lipgloss.NewStyle().Foreground(lipgloss.Red).Bold(true))
	styleErrored  = newPaint(lipgloss.NewStyle().Foreground(lipgloss.Magenta))
	styleEnded    = newPaint(lipgloss.NewStyle().Faint(true))
	styleStall    = newPaint(lipgloss.NewStyle().Foreground(lipgloss.Red).Bold(true))
	styleCursor   = newPaint(lipgloss.NewStyle().Foreground(lipgloss.BrightCyan).Bold(true))
	styleNote     = newPaint(lipgloss.NewStyle().Foreground(lipgloss.Yellow))
	styleNoteErr  = newPaint(lipgloss.NewStyle().Foreground(lipgloss.Red))
	styleSpark    = newPaint(lipgloss.NewStyle().Foreground(lipgloss.Green))
	styleKey      = newPaint(lipgloss.NewStyle().Bold(true))
	styleLiveMark = newPaint(lipgloss.NewStyle().Foreground(lipgloss.Green).Bold(true))
	styleFinding  = newPaint(lipgloss.NewStyle().Foreground(lipgloss.Yellow))
)

// paint is a lipgloss style reduced to the escape sequences around its
// text. The screen styles only single lines of text without padding or
// borders, and lipgloss's general Render (which measures, wraps and pads)
// was most of the cost of a frame.
type paint struct{ pre, post string }

func newPaint(s lipgloss.Style) paint {
	out := s.Render("X")
	i := strings.Index(out, "X")
	return paint{pre: out[:i], post: out[i+1:]}
}

// Render returns s in the style.
func (p paint) Render(s string) string {
	if s == "" {
		return ""
	}
	return p.pre + s + p.post
}

// fit cuts s, which may hold styles, to w cells.
func fit(s string, w int) string {
	if w <= 0 {
		return ""
	}
	if len(s) <= w && isASCII(s) {
		return s
	}
	return ansi.Truncate(s, w, "…")
}

// pad cuts or pads plain text to exactly w cells, on the left when right is
// set (numbers).
func pad(s string, w int, right bool) string {
	n := len(s)
	if !isASCII(s) {
		n = ansi.StringWidth(s)
	}
	if n > w {
		return ansi.Truncate(s, w, "…")
	}
	if right {
		return strings.Repeat(" ", w-n) + s
	}
	return s + strings.Repeat(" ", w-n)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 || s[i] < 0x20 {
			return false
		}
	}
	return true
}

// clean replaces control characters, which a session id or a frame read
// from a recording may hold, so they cannot move the cursor or restyle the
// screen.
func clean(s string) string {
	if isASCII(s) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return '?'
		}
		return r
	}, s)
}

// local returns t in the zone the screen shows times in.
func (m *model) local(t time.Time) time.Time {
	if m.opts.Location != nil {
		return t.In(m.opts.Location)
	}
	return t
}

// clock formats a moment's time of day.
func (m *model) clock(t time.Time) string {
	if t.IsZero() {
		return "--:--:--"
	}
	return m.local(t).Format("15:04:05")
}

// stamp formats a moment with its date.
func (m *model) stamp(t time.Time) string {
	return m.local(t).Format("2006-01-02 15:04:05")
}

// dur formats a duration compactly; see [FormatDuration].
func dur(d time.Duration) string { return FormatDuration(d) }

// FormatDuration formats a duration compactly, as the screen and the plain
// outputs of openrtc-replay show it: 45s, 12m05s, 3h02m00s.
func FormatDuration(d time.Duration) string {
	neg := ""
	if d < 0 {
		neg, d = "-", -d
	}
	s := int64(d.Round(time.Second) / time.Second)
	h, m := s/3600, s/60%60
	switch {
	case h > 0:
		return fmt.Sprintf("%s%dh%02dm%02ds", neg, h, m, s%60)
	case m > 0:
		return fmt.Sprintf("%s%dm%02ds", neg, m, s%60)
	default:
		return fmt.Sprintf("%s%ds", neg, s)
	}
}

// millis formats a stall's length.
func millis(d time.Duration) string {
	if d >= 10*time.Second {
		return dur(d)
	}
	return fmt.Sprintf("%dms", d.Milliseconds())
}

// mib formats bytes in MiB, the unit of mem_mb (whose name is OpenRTC's).
func mib(b uint64) string {
	if b >= 10<<30 {
		return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30))
	}
	return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
}

// stallLine is one stall on one line, in the words of the slow log line.
func stallLine(st fold.Stall, clock func(time.Time) string) string {
	who := st.SessionID
	if who == "" {
		who = "(unattributed)"
	}
	s := fmt.Sprintf("%s %s held %s for %s", clock(st.At), clean(who), clean(st.Source), millis(st.Blocked()))
	if st.Ongoing {
		s += " (ongoing)"
	}
	s += causeText(st)
	switch {
	case st.Frame != "" && st.FrameFrom == events.FrameLeave:
		s += " · left at " + clean(st.Frame) + " (no stack caught)"
	case st.Frame != "":
		s += " at " + clean(st.Frame)
	}
	return s
}

// causeText says why a hold lasted, when the stall says: the holder was
// blocked (and on what), or waited for a CPU that others had (then it was
// the victim, and the CPU's holders are named).
func causeText(st fold.Stall) string {
	switch {
	case st.Victim():
		s := " · waited for a CPU: a victim"
		if len(st.StarvedBy) > 0 {
			s += ", the CPU went to " + clean(fold.StarvedByText(st.StarvedBy))
		}
		return s
	case st.Cause == events.CauseBlocked && st.Wait != "":
		return " · blocked (" + clean(st.Wait) + ")"
	case st.Cause != "":
		return " · " + clean(st.Cause)
	case st.Undecided():
		return " · cause unknown"
	}
	return ""
}

// secs converts a count of seconds, as the view carries them.
func secs(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
