package bucket

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"gocloud.dev/blob"
)

// DefaultBlockSize is the unit a [ReaderAt] fetches and caches: large
// enough that the header, the footer index and a run of neighbouring
// frames cost one request each, small enough that a view of one moment
// fetches little more than its frames.
const DefaultBlockSize = 64 << 10

// maxCachedBlocks bounds a ReaderAt's cache (4 MiB at the default size).
const maxCachedBlocks = 64

// A ReaderAt reads one object of a bucket with ranged reads, in aligned
// blocks that it caches, so that the recorder's reader can open a
// recording in a bucket as it opens a local file: the footer index from
// the end, then only the frames a view needs. It counts what it fetched.
type ReaderAt struct {
	ctx    context.Context
	bucket *blob.Bucket
	key    string
	size   int64
	block  int64

	mu    sync.Mutex
	cache map[int64][]byte // block index → its bytes
	order []int64          // cached blocks, least recently fetched first

	fetched  atomic.Int64
	requests atomic.Int64
}

// NewReaderAt returns a ReaderAt of the object key, whose size is size (as
// listed). Reads use ctx.
func NewReaderAt(ctx context.Context, b *blob.Bucket, key string, size int64) *ReaderAt {
	return &ReaderAt{ctx: ctx, bucket: b, key: key, size: size, block: DefaultBlockSize, cache: map[int64][]byte{}}
}

// Size returns the object's size.
func (r *ReaderAt) Size() int64 { return r.size }

// Fetched returns the bytes fetched from the bucket so far and the number
// of range requests that fetched them.
func (r *ReaderAt) Fetched() (bytes, requests int64) { return r.fetched.Load(), r.requests.Load() }

// ReadAt reads len(p) bytes at off, fetching the blocks it does not hold in
// one ranged read.
func (r *ReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("bucket: read %s at %d: negative offset", r.key, off)
	}
	if off >= r.size {
		return 0, io.EOF
	}
	end := min(off+int64(len(p)), r.size)
	first, last := off/r.block, (end-1)/r.block
	if last-first+1 > maxCachedBlocks/2 {
		return r.direct(p[:end-off], off, len(p))
	}
	if err := r.fill(first, last); err != nil {
		return 0, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for b := first; b <= last; b++ {
		data, ok := r.cache[b]
		if !ok { // evicted by a concurrent read meanwhile
			r.mu.Unlock()
			n, err := r.direct(p[:end-off], off, len(p))
			r.mu.Lock()
			return n, err
		}
		from, to := max(off, b*r.block), min(end, b*r.block+int64(len(data)))
		copy(p[from-off:to-off], data[from-b*r.block:to-b*r.block])
	}
	if end-off < int64(len(p)) {
		return int(end - off), io.EOF
	}
	return len(p), nil
}

// direct reads p at off in one request, bypassing the cache.
func (r *ReaderAt) direct(p []byte, off int64, want int) (int, error) {
	rr, err := r.bucket.NewRangeReader(r.ctx, r.key, off, int64(len(p)), nil)
	if err != nil {
		return 0, fmt.Errorf("bucket: read %s: %w", r.key, err)
	}
	defer rr.Close()
	n, err := io.ReadFull(rr, p)
	r.fetched.Add(int64(n))
	r.requests.Add(1)
	if err != nil {
		return n, fmt.Errorf("bucket: read %s at %d: %w", r.key, off, err)
	}
	if n < want {
		return n, io.EOF
	}
	return n, nil
}

// fill fetches the missing blocks of first..last with one range request
// from the first missing to the last missing.
func (r *ReaderAt) fill(first, last int64) error {
	r.mu.Lock()
	lo, hi := int64(-1), int64(-1)
	for b := first; b <= last; b++ {
		if _, ok := r.cache[b]; !ok {
			if lo < 0 {
				lo = b
			}
			hi = b
		}
	}
	r.mu.Unlock()
	if lo < 0 {
		return nil
	}
	start := lo * r.block
	length := min((hi+1)*r.block, r.size) - start
	rr, err := r.bucket.NewRangeReader(r.ctx, r.key, start, length, nil)
	if err != nil {
		return fmt.Errorf("bucket: read %s: %w", r.key, err)
	}
	defer rr.Close()
	buf := make([]byte, length)
	if _, err := io.ReadFull(rr, buf); err != nil {
		return fmt.Errorf("bucket: read %s [%d, %d): %w", r.key, start, start+length, err)
	}
	r.fetched.Add(length)
	r.requests.Add(1)
	r.mu.Lock()
	defer r.mu.Unlock()
	for b := lo; b <= hi; b++ {
		o := (b - lo) * r.block
		r.put(b, buf[o:min(o+r.block, length)])
	}
	return nil
}

// put caches block b, evicting the oldest blocks past the bound. Callers
// hold r.mu.
func (r *ReaderAt) put(b int64, data []byte) {
	if _, ok := r.cache[b]; !ok {
		r.order = append(r.order, b)
	}
	r.cache[b] = data
	for len(r.order) > maxCachedBlocks {
		delete(r.cache, r.order[0])
		r.order = r.order[1:]
	}
}
