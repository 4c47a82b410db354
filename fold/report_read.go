package fold

import (
	"runtime"
	"sync"
	"time"

	"github.com/openrtc-go/introspect/events"
	"github.com/openrtc-go/introspect/recorder"
)

// ReadReport folds every record of sc into a new Report. progress, when not
// nil, is called now and then with the time of the record reached.
//
// Decoding is most of the cost of a report, and each line decodes on its
// own, so with more than one CPU the lines are decoded by a pool of
// goroutines, in batches, while this goroutine reads and another folds the
// decoded batches in order. Memory stays bounded by a few batches per
// decoder.
func ReadReport(sc *recorder.Scanner, progress func(time.Time)) (*Report, error) {
	workers := runtime.GOMAXPROCS(0)
	if workers < 2 {
		return readReportSerial(sc, progress)
	}
	return readReportParallel(sc, progress, workers)
}

func readReportSerial(sc *recorder.Scanner, progress func(time.Time)) (*Report, error) {
	r := NewReport()
	var n int
	for sc.Next() {
		rec := sc.Record()
		if n++; progress != nil && n%progressEvery == 0 {
			progress(rec.Time)
		}
		_ = r.Line(rec.Line) // bad lines are counted; the reader reports damage
	}
	return r, sc.Err()
}

// Batches of a parallel report: big enough that handing them over costs
// little, small enough that a few per decoder stay cheap. Variables so that
// tests can make them small.
var (
	batchLines = 512
	batchBytes = 512 << 10
)

// lineBatch is a run of consecutive lines and, once decoded, their events.
type lineBatch struct {
	buf     []byte
	ends    []int // end offset of each line in buf
	times   []time.Time
	kinds   []string
	decoded []events.Decoded
	errs    []error
	done    chan struct{} // closed when decoded
}

func (b *lineBatch) line(i int) []byte {
	start := 0
	if i > 0 {
		start = b.ends[i-1]
	}
	return b.buf[start:b.ends[i]]
}

func (b *lineBatch) reset() {
	b.buf, b.ends, b.times = b.buf[:0], b.ends[:0], b.times[:0]
	b.kinds, b.errs = b.kinds[:0], b.errs[:0]
	clear(b.decoded) // let the events go
	b.decoded = b.decoded[:0]
	b.done = make(chan struct{})
}

func (b *lineBatch) decode() {
	for i := range b.ends {
		kind := KindOf(b.line(i))
		b.kinds = append(b.kinds, kind)
		var d events.Decoded
		var err error
		if needsDecode(kind) {
			d, err = events.Decode(b.line(i))
		}
		b.decoded = append(b.decoded, d)
		b.errs = append(b.errs, err)
	}
	close(b.done)
}

func readReportParallel(sc *recorder.Scanner, progress func(time.Time), workers int) (*Report, error) {
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

	// The folder applies the batches in the order they were read.
	r := NewReport()
	folded := make(chan struct{})
	go func() {
		defer close(folded)
		var n int
		for b := range ordered {
			<-b.done
			for i := range b.ends {
				_ = r.applyLine(b.line(i), b.kinds[i], b.decoded[i], b.errs[i], needsDecode(b.kinds[i]))
			}
			if n += len(b.ends); progress != nil && n >= progressEvery && len(b.times) > 0 {
				n = 0
				progress(b.times[len(b.times)-1])
			}
			free <- b
		}
	}()

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
		if len(b.ends) >= batchLines || len(b.buf) >= batchBytes {
			send()
		}
	}
	if len(b.ends) > 0 {
		send()
	}
	close(work)
	close(ordered)
	wg.Wait()
	<-folded
	return r, sc.Err()
}
