package recorder

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// An Input is a recording or log held somewhere other than a local file,
// such as an object in a bucket, read through R at offsets below Size.
type Input struct {
	Name string      // shown in messages and FileInfo.Path
	R    io.ReaderAt // read with ReadAt only; the reader asks for the header, the footer index, then the frames it needs
	Size int64
	// CheckIndex checks a footer against every index frame, as Open does
	// for a local file, at the price of reading them all: for verify,
	// which reads the whole file anyway.
	CheckIndex bool
}

// OpenInputs opens inputs for reading as one time-ordered stream, like
// [Open] does files: a recording's footer index is read from its end, and
// a frame is read only when a scan reaches it, so a view of one moment of a
// long recording reads little of it. Unlike Open, a footer whose entries
// tile the file is used without reading every index frame it copies (that
// would read the whole file): it is trusted as a single copy of the index,
// within a minute's slack, and each frame read is checked against its
// entry when decoded. Closing the Set closes each R that is
// an io.Closer.
func OpenInputs(inputs ...Input) (*Set, error) {
	s := &Set{}
	for _, in := range inputs {
		if in.R == nil || in.Size < 0 {
			s.Close()
			return nil, &os.PathError{Op: "open", Path: in.Name, Err: errors.New("no reader")}
		}
		f := &recFile{path: in.Name, r: in.R, size: in.Size, remote: !in.CheckIndex}
		if c, ok := in.R.(io.Closer); ok {
			f.closer = c
		}
		if err := f.index(); err != nil {
			f.close()
			s.Close()
			return nil, err
		}
		s.files = append(s.files, f)
	}
	if len(s.files) == 0 {
		return nil, fmt.Errorf("open: %w", ErrNoInputs)
	}
	s.order()
	return s, nil
}

// OpenWorkerInputs is [OpenWorker] for inputs: it opens the inputs of the
// worker that worker names, or of the only worker when worker is empty;
// inputs of several workers with an empty worker are a [*WorkersError].
func OpenWorkerInputs(worker string, inputs ...Input) (*Set, error) {
	s, err := OpenInputs(inputs...)
	if err != nil {
		return nil, err
	}
	g, all, err := narrow(s, worker)
	switch {
	case err != nil:
		return nil, err
	case all:
		return s, nil
	}
	keep := make(map[string]bool, len(g.Files))
	for _, f := range g.Files {
		keep[f.Path] = true
	}
	var mine []Input
	for _, in := range inputs {
		if keep[in.Name] {
			mine = append(mine, in)
		}
	}
	return OpenInputs(mine...)
}
