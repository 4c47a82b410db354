package runbook

import (
	"reflect"
	"testing"
)

func TestParseBlocks(t *testing.T) {
	page := "# Title\n\n" +
		"```sh runbook-test\nopenrtc-replay summary fixtures/incident.zst\n```\n" +
		"<!-- expect: call-blocker, #blocking -->\n" +
		"<!-- expect-not: call-0 -->\n" +
		"<!-- expect-first-row: call-cpuhog -->\n\n" +
		"- a list item:\n\n" +
		"  ```sh runbook-test live\n  go tool pprof -top URL\n    indented more\n  ```\n" +
		"  <!-- needs: curl -->\n  <!-- expect-exit: 1 -->\n\n" +
		"```go\nfmt.Println()\n```\n"
	got, err := parseBlocks(page)
	if err != nil {
		t.Fatal(err)
	}
	want := []block{
		{line: 3, info: []string{"sh", "runbook-test"}, text: "openrtc-replay summary fixtures/incident.zst\n",
			expect: []string{"call-blocker", "#blocking"}, expectNot: []string{"call-0"}, firstRow: "call-cpuhog"},
		{line: 12, info: []string{"sh", "runbook-test", "live"}, text: "go tool pprof -top URL\n  indented more\n",
			needs: []string{"curl"}, exit: 1, hasExit: true},
		{line: 19, info: []string{"go"}, text: "fmt.Println()\n"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parseBlocks:\n got %+v\nwant %+v", got, want)
	}
	if got[1].mode() != "live" || got[0].mode() != "" || !got[0].tested() || got[2].tested() {
		t.Errorf("modes: %q %q, tested %v %v", got[0].mode(), got[1].mode(), got[0].tested(), got[2].tested())
	}
}

func TestParseBlocksErrors(t *testing.T) {
	for name, page := range map[string]string{
		"unclosed":    "```sh\nls\n",
		"unknown key": "```sh\nls\n```\n<!-- expects: x -->\n",
		"no colon":    "```sh\nls\n```\n<!-- just a note -->\n",
		"bad exit":    "```sh\nls\n```\n<!-- expect-exit: one -->\n",
	} {
		if _, err := parseBlocks(page); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestFirstRow(t *testing.T) {
	for _, tc := range []struct {
		out, want string
		ok        bool
	}{
		{"header line\n\nsession  agent\ncall-1   voice\ncall-2\n", "call-1", true},
		{"top sessions by CPU\n  session  agent\n  call-cpuhog  x\n", "call-cpuhog", true},
		{"session agent\n\n", "", false},
		{"no table here\n", "", false},
	} {
		got, ok := firstRow(tc.out)
		if got != tc.want || ok != tc.ok {
			t.Errorf("firstRow(%q) = %q, %v; want %q, %v", tc.out, got, ok, tc.want, tc.ok)
		}
	}
}

func TestAnchors(t *testing.T) {
	page := "# Density debugging\n## Live: it is happening now\n## Post-mortem: it happened at 03:12\n" +
		"### 2. top at the moment\n## `CPU-hot`\n## Blocking\n## Blocking\n```sh\n# not a heading\n```\n"
	got := anchors(page)
	for _, a := range []string{"density-debugging", "live-it-is-happening-now", "post-mortem-it-happened-at-0312",
		"2-top-at-the-moment", "cpu-hot", "blocking", "blocking-1"} {
		if !got[a] {
			t.Errorf("anchor %q missing from %v", a, got)
		}
	}
	if got["not-a-heading"] {
		t.Error("a comment in a code block was taken for a heading")
	}
}
