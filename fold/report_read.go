package fold

import (
	"runtime"
	"time"

	"github.com/openrtc-go/introspect/recorder"
)

// ReadReport folds every record of sc into a new Report. progress, when not
// nil, is called now and then with the time of the record reached. With
// more than one CPU the lines are decoded in parallel and folded in order.
func ReadReport(sc *recorder.Scanner, progress func(time.Time)) (*Report, error) {
	return readReport(sc, progress, runtime.GOMAXPROCS(0))
}

func readReport(sc *recorder.Scanner, progress func(time.Time), workers int) (*Report, error) {
	r := NewReport()
	var n int
	err := decodeLinesWith(sc, workers, func(l *decodedLine) {
		if n++; progress != nil && n%progressEvery == 0 {
			progress(l.time)
		}
		_ = r.applyLine(l) // bad lines are counted; the reader reports damage
	})
	return r, err
}
