package runbook

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func readmeBlocks(t *testing.T) (string, []block) {
	t.Helper()
	page := readFile(t, filepath.Join(repoRoot(t), "README.md"))
	blocks, err := parseBlocks(page)
	if err != nil {
		t.Fatalf("README.md: %v", err)
	}
	if len(blocks) == 0 {
		t.Fatal("README.md has no code block")
	}
	return page, blocks
}

// The README's first two commands, in this order: the main job on the
// bundled incident, and the tests exactly as CI runs them.
var readmeFirst = []string{"go run ./cmd/openrtc-replay", "go test -race -count=1 ./..."}

// TestREADMEFirstCommands checks that the README opens with the two
// commands, and that the second is the test command .ci/run runs.
func TestREADMEFirstCommands(t *testing.T) {
	page, blocks := readmeBlocks(t)
	first := blocks[0]
	// Only the title may come before the first block.
	for _, l := range strings.Split(page, "\n")[:first.line-1] {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "# ") {
			t.Errorf("README.md: %q comes before the first two commands", l)
		}
	}
	var cmds []string
	for _, l := range strings.Split(first.text, "\n") {
		if cmd, _, _ := strings.Cut(l, "#"); strings.TrimSpace(cmd) != "" {
			cmds = append(cmds, strings.TrimSpace(cmd))
		}
	}
	if strings.Join(cmds, "\n") != strings.Join(readmeFirst, "\n") {
		t.Errorf("README.md's first commands are %q, want %q", cmds, readmeFirst)
	}

	ci := readFile(t, filepath.Join(repoRoot(t), ".ci", "run"))
	found := false
	for _, l := range strings.Split(ci, "\n") {
		if strings.TrimSpace(l) == readmeFirst[1] {
			found = true
		}
	}
	if !found {
		t.Errorf(".ci/run does not run %q, the README's test command", readmeFirst[1])
	}
}

// TestREADMEBundledIncident checks the README's first command: with no
// input, openrtc-replay opens the incident embedded in it (run in an empty
// directory, so nothing on disk can stand in for it), and prints its table
// when its output is not a terminal or with top --once.
func TestREADMEBundledIncident(t *testing.T) {
	tl := installTools(t)
	dir := t.TempDir()
	for _, cmd := range []string{"openrtc-replay top --once", "openrtc-replay"} {
		out, code, err := runSh(dir, tl.env, cmd)
		if err != nil || code != 0 {
			t.Fatalf("%s: exit %d, %v\n%s", cmd, code, err, out)
		}
		for _, want := range []string{"worker densitydemo", "session", "cpu%", "gor", "call-blocker", "call-cpuhog", "call-leaker"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s: output does not show %q:\n%s", cmd, want, out)
			}
		}
	}
}

// TestREADMEQuickStart checks that the README's Go quick start is, line for
// line, a piece of the package's Example function, which compiles and runs
// as a test.
func TestREADMEQuickStart(t *testing.T) {
	_, blocks := readmeBlocks(t)
	var code []block
	for _, b := range blocks {
		if b.lang() == "go" {
			code = append(code, b)
		}
	}
	if len(code) != 1 {
		t.Fatalf("README.md has %d Go blocks, want the quick start only", len(code))
	}
	src := readFile(t, filepath.Join(repoRoot(t), "example_test.go"))
	body, ok := exampleBody(src, "Example")
	if !ok {
		t.Fatal("example_test.go has no func Example()")
	}
	quick := strings.TrimRight(code[0].text, "\n")
	if !strings.Contains(body, quick) {
		t.Errorf("README.md:%d: the quick start is not a piece of func Example in example_test.go; "+
			"keep the two identical.\nREADME:\n%s\nExample:\n%s", code[0].line, quick, body)
	}
	if n := strings.Count(quick, "\n") + 1; n > 20 {
		t.Errorf("the quick start has %d lines; keep it about fifteen", n)
	}
}

// exampleBody returns the lines between "func name() {" and its closing
// brace at the start of a line.
func exampleBody(src, name string) (string, bool) {
	start := strings.Index(src, "\nfunc "+name+"() {\n")
	if start < 0 {
		return "", false
	}
	rest := src[start+len("\nfunc "+name+"() {\n"):]
	end := strings.Index(rest, "\n}\n")
	if end < 0 {
		return "", false
	}
	return rest[:end], true
}

// TestREADMECommands runs the README's marked command blocks against the
// bundled incident, as the runbook's are.
func TestREADMECommands(t *testing.T) {
	_, blocks := readmeBlocks(t)
	checkMarks(t, "README.md", blocks, 1)
	tl := installTools(t)
	runbookSetup := ""
	for _, b := range runbookBlocks(t) {
		if b.tested() && b.mode() == "setup" {
			runbookSetup = b.text
		}
	}
	dir := incidentDir(t)
	for _, b := range blocks {
		switch {
		case !b.tested():
		case b.mode() == "setup":
			// The runbook's identical block installed the tools.
			if b.text != runbookSetup {
				t.Errorf("README.md:%d: the install commands differ from the runbook's:\n%s\nvs\n%s", b.line, b.text, runbookSetup)
			}
		case b.mode() == "":
			t.Run("line-"+strconv.Itoa(b.line), func(t *testing.T) { runBlock(t, b, dir, tl.env) })
		case b.skip == "":
			t.Errorf("README.md:%d: a %q block must be skipped with a reason (the runbook runs live commands)", b.line, b.mode())
		}
	}
}

// TestREADMELinks checks that the README's relative links lead to files of
// the repository.
func TestREADMELinks(t *testing.T) {
	page, _ := readmeBlocks(t)
	root := repoRoot(t)
	for _, m := range regexp.MustCompile(`\]\(([^)#]+)(#[^)]*)?\)`).FindAllStringSubmatch(page, -1) {
		target := m[1]
		if strings.Contains(target, "://") {
			continue
		}
		if _, err := os.Stat(filepath.Join(root, target)); err != nil {
			if target == "BENCHMARKS.md" {
				// Written with the benchmarks' figures by the lead; the
				// link is kept while it is on its way.
				t.Logf("README.md links to %s, which is not written yet", target)
				continue
			}
			t.Errorf("README.md links to %s: %v", target, err)
		}
	}
}
