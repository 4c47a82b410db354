package runbook

import (
	"bufio"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
)

// A block is one fenced code block of a Markdown page, with the expectations
// written in the HTML comments right after it.
type block struct {
	line int      // 1-based line of the opening fence
	info []string // the info string's fields: "sh", "runbook-test", mode
	text string   // the content, the fence's indentation removed

	expect    []string // substrings the output must contain
	expectNot []string // substrings it must not contain
	firstRow  string   // the first field of the first table's first row
	exit      int      // expected exit status
	hasExit   bool     // exit was given explicitly
	needs     []string // commands that must be installed, or the block is skipped
	skip      string   // why the block is not run
}

// tested reports whether b is marked to be run by the test.
func (b block) tested() bool { return len(b.info) > 1 && b.info[1] == "runbook-test" }

// mode is the mode of a tested block: "" (post-mortem, against the
// incident), "setup", "worker" or "live".
func (b block) mode() string {
	if len(b.info) > 2 {
		return b.info[2]
	}
	return ""
}

// lang is the block's language, the first field of its info string.
func (b block) lang() string {
	if len(b.info) == 0 {
		return ""
	}
	return b.info[0]
}

// checks reports whether b states anything about its output.
func (b block) checks() bool {
	return len(b.expect) > 0 || len(b.expectNot) > 0 || b.firstRow != "" || b.hasExit
}

var modes = map[string]bool{"": true, "setup": true, "worker": true, "live": true}

// parseBlocks returns the fenced code blocks of a Markdown page and the
// expectation comments after each. It knows backtick fences, indented (in a
// list item) or not; an unknown expectation key is an error.
func parseBlocks(page string) ([]block, error) {
	var out []block
	sc := bufio.NewScanner(strings.NewReader(page))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	for i := 0; i < len(lines); i++ {
		trimmed := strings.TrimLeft(lines[i], " ")
		if !strings.HasPrefix(trimmed, "```") {
			continue
		}
		indent := len(lines[i]) - len(trimmed)
		b := block{line: i + 1, info: strings.Fields(strings.TrimPrefix(trimmed, "```"))}
		var body []string
		j := i + 1
		for ; j < len(lines); j++ {
			if strings.TrimSpace(lines[j]) == "```" {
				break
			}
			l := lines[j]
			l = l[min(indent, len(l)-len(strings.TrimLeft(l, " "))):]
			body = append(body, l)
		}
		if j == len(lines) {
			return nil, fmt.Errorf("line %d: code block never closed", b.line)
		}
		b.text = strings.Join(body, "\n") + "\n"
		// Comments right after the closing fence.
		for j+1 < len(lines) {
			c := strings.TrimSpace(lines[j+1])
			if !strings.HasPrefix(c, "<!--") || !strings.HasSuffix(c, "-->") {
				break
			}
			j++
			if err := b.addComment(strings.TrimSpace(c[4 : len(c)-3])); err != nil {
				return nil, fmt.Errorf("line %d: %w", j+1, err)
			}
		}
		out = append(out, b)
		i = j
	}
	return out, nil
}

func (b *block) addComment(c string) error {
	key, val, ok := strings.Cut(c, ":")
	if !ok {
		return fmt.Errorf("comment %q after a code block is not key: value", c)
	}
	val = strings.TrimSpace(val)
	list := func() []string {
		var xs []string
		for _, x := range strings.Split(val, ", ") {
			if x = strings.TrimSpace(x); x != "" {
				xs = append(xs, x)
			}
		}
		return xs
	}
	switch strings.TrimSpace(key) {
	case "expect":
		b.expect = append(b.expect, list()...)
	case "expect-not":
		b.expectNot = append(b.expectNot, list()...)
	case "expect-first-row":
		b.firstRow = val
	case "expect-exit":
		n, err := strconv.Atoi(val)
		if err != nil {
			return fmt.Errorf("expect-exit %q: %w", val, err)
		}
		b.exit, b.hasExit = n, true
	case "needs":
		b.needs = append(b.needs, list()...)
	case "skip":
		b.skip = val
	default:
		return fmt.Errorf("unknown expectation %q (want expect, expect-not, expect-first-row, expect-exit, needs or skip)", key)
	}
	return nil
}

// firstRow returns the first field of the row after the first header line
// of a table in out: a line whose first field is "session".
func firstRow(out string) (string, bool) {
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		f := strings.Fields(l)
		if len(f) == 0 || f[0] != "session" {
			continue
		}
		for _, r := range lines[i+1:] {
			if f := strings.Fields(r); len(f) > 0 {
				return f[0], true
			}
		}
		return "", false
	}
	return "", false
}

var headingRE = regexp.MustCompile(`^#{1,6}\s+(.*?)\s*#*\s*$`)

// anchors returns the anchors GitHub gives the headings of a Markdown page
// (outside code blocks): lower case, punctuation dropped, spaces turned to
// hyphens, repeats numbered.
func anchors(page string) map[string]bool {
	out := map[string]bool{}
	seen := map[string]int{}
	inCode := false
	for _, l := range strings.Split(page, "\n") {
		if strings.HasPrefix(strings.TrimLeft(l, " "), "```") {
			inCode = !inCode
			continue
		}
		m := headingRE.FindStringSubmatch(l)
		if inCode || m == nil {
			continue
		}
		a := slug(m[1])
		if n := seen[a]; n > 0 {
			seen[a]++
			a = fmt.Sprintf("%s-%d", a, n)
		} else {
			seen[a] = 1
		}
		out[a] = true
	}
	return out
}

func slug(heading string) string {
	var sb strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case unicode.IsLetter(r), unicode.IsDigit(r), r == '-', r == '_':
			sb.WriteRune(r)
		case r == ' ':
			sb.WriteByte('-')
		}
	}
	return sb.String()
}
