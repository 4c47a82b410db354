package bucket

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strings"

	"gocloud.dev/blob"

	"github.com/openrtc-go/introspect/recorder"
)

// Object is a recording file in a bucket.
type Object struct {
	Key  string
	Size int64
}

// Recordings lists the recording files (*.zst, *.jsonl, not empty) under the
// location's prefix, at any depth, by key. A prefix that names one object
// exactly lists that object.
func (l *Location) Recordings(ctx context.Context) ([]Object, error) {
	var out []Object
	if p := strings.TrimSuffix(l.Prefix, "/"); p != "" {
		if a, err := l.Bucket.Attributes(ctx, p); err == nil {
			return []Object{{Key: p, Size: a.Size}}, nil
		}
	}
	it := l.Bucket.List(&blob.ListOptions{Prefix: l.Prefix})
	for {
		o, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", l.URL, err)
		}
		name := o.Key[strings.LastIndex(o.Key, "/")+1:]
		if o.IsDir || o.Size == 0 || strings.HasPrefix(name, ".") ||
			!(strings.HasSuffix(name, ".zst") || strings.HasSuffix(name, ".jsonl")) {
			continue
		}
		out = append(out, Object{Key: o.Key, Size: o.Size})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// Name returns how key is shown to a user: the location's URL with the
// key's path in place of the prefix.
func (l *Location) Name(key string) string {
	u, err := url.Parse(l.URL)
	if err != nil {
		return key
	}
	if u.Scheme == "file" {
		return strings.TrimSuffix(u.Path, "/") + "/" + key
	}
	return u.Scheme + "://" + u.Host + "/" + key
}

// Inputs returns the recorder inputs of objs, each read with ranged reads
// through a [ReaderAt], and the readers, to count what they fetched.
func (l *Location) Inputs(ctx context.Context, objs []Object) ([]recorder.Input, []*ReaderAt) {
	ins := make([]recorder.Input, len(objs))
	rs := make([]*ReaderAt, len(objs))
	for i, o := range objs {
		rs[i] = NewReaderAt(ctx, l.Bucket, o.Key, o.Size)
		ins[i] = recorder.Input{Name: l.Name(o.Key), R: rs[i], Size: o.Size}
	}
	return ins, rs
}
