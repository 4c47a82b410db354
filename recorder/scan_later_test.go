package recorder

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"
)

// A scanner told to leave the JSON check to its caller hands on lines in
// slog's form unchecked; the caller's reports of the invalid ones make the
// same damage a checking scan finds, once, and the valid records are the
// same records in the same order.
func TestCheckLinesLater(t *testing.T) {
	frames := testFrames(t0, time.Second, 4, 5, 2)
	at := func(i int) string { return t0.Add(time.Duration(i) * time.Second).Format(time.RFC3339Nano) }
	frames[1][2] = fmt.Sprintf(`{"time":%q,"level":"INFO","msg":"sample","v":1,}`, at(7))       // trailing comma
	frames[2][0] = fmt.Sprintf(`{"time":%q,"msg":"sample" "v":1}`, at(10))                      // missing comma
	frames[3][4] = fmt.Sprintf(`{"time":%q,"msg":"x","s":"a`+"\x01"+`b"}`, at(19))              // control character
	frames[3][1] = `{"level":"INFO","time":"` + at(16) + `","msg":"not slog's order, checked"}` // valid, other form
	frames[3][3] = `{"level":"INFO","time":"` + at(18) + `","msg":"other form",}`               // invalid, other form
	path := writeTemp(t, "", "rec.zst", newRecBuilder(t).frames(frames).footer().buf)

	strict := mustOpen(t, path)
	want := readAll(t, strict.Scan())
	// (The builder's index counts only valid records, so each frame with a
	// bad line is an index mismatch too; compare the bad lines.)
	badLines := func(ds []Damage) (out []Damage) {
		for _, d := range ds {
			if d.Kind == BadLine {
				out = append(out, d)
			}
		}
		return out
	}
	wantDamage := badLines(strict.Damage())
	if len(wantDamage) != 4 {
		t.Fatalf("a checking scan found %d bad lines, want 4: %v", len(wantDamage), wantDamage)
	}

	lazy := mustOpen(t, path)
	for pass := range 2 {
		sc := lazy.Scan()
		sc.CheckLinesLater()
		var got []string
		unchecked := 0
		for sc.Next() {
			r := sc.Record()
			if r.Unchecked() {
				unchecked++
				if !json.Valid(r.Line) {
					sc.Invalid(r, errors.New("not valid JSON"))
					continue
				}
			}
			got = append(got, string(r.Line))
		}
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
		equalLines(t, got, want)
		// Every line in slog's form is unchecked, the three invalid ones
		// included; the valid line in another form is checked.
		if unchecked != len(want)-1+3 {
			t.Errorf("pass %d: %d records unchecked, want %d", pass, unchecked, len(want)+2)
		}
		gotDamage := badLines(lazy.Damage())
		if len(gotDamage) != len(wantDamage) {
			t.Fatalf("pass %d: damage %v, want %v", pass, gotDamage, wantDamage)
		}
		for i := range gotDamage {
			g, w := gotDamage[i], wantDamage[i]
			if g.Kind != w.Kind || g.Offset != w.Offset || g.Line != w.Line || g.Bytes != w.Bytes {
				t.Errorf("pass %d: damage %d: %v, want %v", pass, i, g, w)
			}
		}
	}
}
