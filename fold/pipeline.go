package fold

import (
	"bytes"
	"errors"
	"runtime"
	"sync"
	"time"

	"github.com/tidwall/gjson"

	"github.com/openrtc-go/introspect/events"
	"github.com/openrtc-go/introspect/recorder"
)

// decodedLine is one record handed to a fold: the line, its time and kind
// (see [KindOf]), and its decoded event when decoded is set, by
// events.DecodeCounts: a sample's per-session objects are in counts, not
// in its maps. Lines of no kind and keyframes are left to the fold: a
// keyframe is decoded only when it disagrees with the state.
type decodedLine struct {
	line    []byte // valid during the call only
	time    time.Time
	kind    string
	d       events.Decoded
	counts  *events.SampleCounts // aliases line
	err     error
	decoded bool
	// invalid is why a line the scanner handed on unchecked is not valid
	// JSON: it is reported to the scanner as damage, never folded.
	invalid error
}

// check decodes l's line if its kind needs it and, when the scanner left
// the line unchecked, checks that it is valid JSON, once: the decoder of
// slog's form proves it as it reads; other lines are checked apart.
func (l *decodedLine) check(unchecked bool, counts *events.SampleCounts) {
	if needsDecode(l.kind) {
		l.counts, l.decoded = counts, true
		if !unchecked {
			l.d, l.err = events.DecodeCounts(l.line, counts)
			return
		}
		var valid bool
		l.d, valid, l.err = events.DecodeCountsChecked(l.line, counts)
		if !valid {
			l.invalid = l.err
		}
		return
	}
	if unchecked && !gjson.ValidBytes(bytes.TrimSpace(l.line)) {
		l.invalid = errNotJSON
	}
}

// errNotJSON is the cause of a bad line that is not valid JSON, as the
// recording's reader words it.
var errNotJSON = errors.New("not valid JSON")

// needsDecode reports whether a line of this kind is decoded before it is
// folded: every event but keyframes.
func needsDecode(kind string) bool { return kind != "" && kind != events.KindKeyframe }

// decodeLines reads every record of sc and calls fold with each, in order,
// on the calling goroutine. Decoding is most of the cost of folding, and
// each line decodes on its own, so with more than one CPU the lines are
// decoded by a pool of goroutines, in batches, while another goroutine
// reads; memory stays bounded by a few batches per decoder.
func decodeLines(sc *recorder.Scanner, fold func(*decodedLine)) error {
	return decodeLinesWith(sc, runtime.GOMAXPROCS(0), fold)
}

func decodeLinesWith(sc *recorder.Scanner, workers int, fold func(*decodedLine)) error {
	// Every line is parsed here anyway, so the scanner need not check it
	// first: a line is read once, not twice.
	sc.CheckLinesLater()
	if workers < 2 {
		var dl decodedLine
		var counts events.SampleCounts
		for sc.Next() {
			rec := sc.Record()
			dl = decodedLine{line: rec.Line, time: rec.Time, kind: KindOf(rec.Line)}
			dl.check(rec.Unchecked(), &counts)
			if dl.invalid != nil {
				sc.Invalid(rec, dl.invalid)
				continue
			}
			fold(&dl)
		}
		return sc.Err()
	}

	inflight := 2 * workers
	free := make(chan *lineBatch, inflight+1)
	for range inflight + 1 {
		free <- &lineBatch{}
	}
	work := make(chan *lineBatch, inflight)
	ordered := make(chan *lineBatch, inflight)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range work {
				b.decode()
			}
		}()
	}
	// The reader: the scanner is used by this goroutine only.
	go func() {
		b := <-free
		b.reset()
		send := func() {
			work <- b
			ordered <- b
			b = <-free
			b.reset()
		}
		for sc.Next() {
			rec := sc.Record()
			b.buf = append(b.buf, rec.Line...)
			b.ends = append(b.ends, len(b.buf))
			b.times = append(b.times, rec.Time)
			rec.Line = nil // the batch holds it; rec is kept to report it bad
			b.recs = append(b.recs, rec)
			if len(b.ends) >= batchLines || len(b.buf) >= batchBytes {
				send()
			}
		}
		if len(b.ends) > 0 {
			send()
		}
		close(work)
		close(ordered)
	}()

	// The fold, here, in the order the lines were read.
	for b := range ordered {
		<-b.done
		for i := range b.lines {
			if l := &b.lines[i]; l.invalid != nil {
				sc.Invalid(b.recs[i], l.invalid)
				continue
			}
			fold(&b.lines[i])
		}
		free <- b
	}
	wg.Wait()
	return sc.Err() // the reader has returned: ordered is closed
}

// Batches of the pipeline: big enough that handing them over costs little,
// small enough that a few per decoder stay cheap. Variables so that tests
// can make them small.
var (
	batchLines = 512
	batchBytes = 512 << 10
)

// lineBatch is a run of consecutive lines and, once decoded, their events.
type lineBatch struct {
	buf    []byte
	ends   []int // end offset of each line in buf
	times  []time.Time
	recs   []recorder.Record     // the lines' records, without their lines
	lines  []decodedLine         // once decoded
	counts []events.SampleCounts // per line, aliasing buf, their lists carved from cpu and gor
	// The count lists of the batch's samples, end to end: one array per
	// batch rather than two per line keeps them together and their
	// storage reused.
	cpu, gor []events.SessionCount
	done     chan struct{} // closed when decoded
}

func (b *lineBatch) line(i int) []byte {
	start := 0
	if i > 0 {
		start = b.ends[i-1]
	}
	return b.buf[start:b.ends[i]]
}

func (b *lineBatch) reset() {
	if b.buf == nil {
		// A batch ends past batchBytes by its last line: room for a
		// keyframe spares regrowing the buffer.
		b.buf = make([]byte, 0, 2*batchBytes)
		b.ends, b.times = make([]int, 0, batchLines), make([]time.Time, 0, batchLines)
		b.recs = make([]recorder.Record, 0, batchLines)
	}
	b.buf, b.ends, b.times, b.recs = b.buf[:0], b.ends[:0], b.times[:0], b.recs[:0]
	clear(b.lines) // let the events go
	b.lines = b.lines[:0]
	b.done = make(chan struct{})
}

// carve extends arena over used, the list a line appended at its end, or,
// when the line outgrew it, starts a bigger arena for the lines after: the
// lists already carved keep the old one.
func carve(arena, used []events.SessionCount) []events.SessionCount {
	n := len(arena)
	if len(used) == 0 {
		return arena
	}
	if n < cap(arena) && &used[0] == &arena[:n+1][n] {
		return arena[:n+len(used)]
	}
	return make([]events.SessionCount, 0, 2*cap(arena)+len(used))
}

func (b *lineBatch) decode() {
	if n := len(b.ends); n > len(b.counts) {
		b.counts = append(b.counts, make([]events.SampleCounts, n-len(b.counts))...)
	}
	b.cpu, b.gor = b.cpu[:0], b.gor[:0]
	for i := range b.ends {
		line := b.line(i)
		c := &b.counts[i]
		*c = events.SampleCounts{}
		b.lines = append(b.lines, decodedLine{line: line, time: b.times[i], kind: KindOf(line), counts: c})
		l := &b.lines[i]
		c.CPU, c.Gor = b.cpu[len(b.cpu):], b.gor[len(b.gor):]
		l.check(b.recs[i].Unchecked(), c)
		if l.decoded {
			b.cpu, b.gor = carve(b.cpu, c.CPU), carve(b.gor, c.Gor)
		}
	}
	close(b.done)
}
