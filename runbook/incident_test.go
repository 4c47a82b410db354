package runbook

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/openrtc-go/introspect/events"
	"github.com/openrtc-go/introspect/recorder"
	"github.com/openrtc-go/introspect/schema"
)

// maxIncidentBytes is what the bundled incident may weigh: it is committed
// and embedded in openrtc-replay.
const maxIncidentBytes = 1 << 20

// TestIncident checks the bundled incident for what the runbook takes for
// granted whenever it is recorded again (scripts/make-incident.sh): an
// intact recording of densitydemo whose every record validates, small
// enough to commit, with a calm stretch before the three culprits join, and
// every session still live at its end.
func TestIncident(t *testing.T) {
	path := filepath.Join(repoRoot(t), "fixtures", "incident.zst")
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() >= maxIncidentBytes {
		t.Errorf("incident.zst is %d bytes, want under %d", fi.Size(), maxIncidentBytes)
	}
	set, err := recorder.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	var first time.Time
	started := map[string]time.Time{}
	ended := map[string]bool{}
	worker := ""
	sc := set.Scan()
	for sc.Next() {
		rec := sc.Record()
		if first.IsZero() {
			first = rec.Time
		}
		if err := schema.Validate(rec.Line); err != nil {
			t.Fatalf("record at %v does not validate: %v\n%s", rec.Time, err, rec.Line)
		}
		d, err := events.Decode(rec.Line)
		if err != nil {
			t.Fatalf("record at %v: %v", rec.Time, err)
		}
		switch e := d.Event.(type) {
		case events.WorkerStart:
			worker = e.Worker
		case events.SessionStart:
			started[e.SessionID] = d.Time
		case events.SessionEnd:
			ended[e.SessionID] = true
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if dmg := set.Damage(); len(dmg) > 0 {
		t.Errorf("incident.zst is damaged: %v", dmg)
	}
	if worker != "densitydemo" {
		t.Errorf("worker %q, want densitydemo", worker)
	}
	for _, id := range []string{"call-blocker", "call-cpuhog", "call-leaker"} {
		at, ok := started[id]
		switch {
		case !ok:
			t.Errorf("%s never started", id)
		case at.Sub(first) < 20*time.Second:
			// The runbook's "+15s" is the calm before the culprits.
			t.Errorf("%s started %v after the start; the runbook wants a calm first 20s", id, at.Sub(first))
		case ended[id]:
			t.Errorf("%s ended before the recording did; the runbook shows it live at the end", id)
		}
	}
}
