package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/openrtc-go/introspect/bucket"
	"github.com/openrtc-go/introspect/fold"
	"github.com/openrtc-go/introspect/recorder"
)

// bucketPoll is how often `slow --follow URL` lists the prefix for files
// uploaded since; tests shorten it.
var bucketPoll = 2 * time.Second

// followBucket prints the stall reports of every recording under a bucket
// prefix, then of each file uploaded after, as it arrives (workers upload
// a file when they close it, so each is read once, whole), until
// interrupted or past until.
func (a *app) followBucket(ctx context.Context, rawURL string, f slowFlags, since, until time.Time) error {
	loc, err := bucket.Open(ctx, rawURL)
	if err != nil {
		return badInput(err)
	}
	defer loc.Close()
	seen := map[string]bool{}
	for first := true; ; first = false {
		objs, err := loc.Recordings(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if first {
				return badInput(err)
			}
			fmt.Fprintf(a.err, "openrtc-replay: warning: %v; retrying\n", err)
		}
		for _, o := range objs {
			if seen[o.Key] {
				continue
			}
			seen[o.Key] = true
			done, err := a.followObject(ctx, loc, o, f, since, until)
			if err != nil {
				fmt.Fprintf(a.err, "openrtc-replay: warning: %s: %v\n", loc.Name(o.Key), err)
			}
			if done {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(bucketPoll):
		}
	}
}

// followObject prints the stall reports of one file; done is true once a
// record past until was met.
func (a *app) followObject(ctx context.Context, loc *bucket.Location, o bucket.Object, f slowFlags, since, until time.Time) (done bool, err error) {
	ins, _ := loc.Inputs(ctx, []bucket.Object{o})
	set, err := recorder.OpenInputs(ins...)
	if err != nil {
		return false, err
	}
	defer set.Close()
	if a.worker != "" {
		if _, _, ok := recorder.SelectWorker(set.Workers(), a.worker); !ok {
			return false, nil // another worker's file
		}
	}
	sc := set.ScanRange(since, time.Time{})
	for sc.Next() {
		r := sc.Record()
		if !until.IsZero() && r.Time.After(until) {
			return true, nil
		}
		s, ok := fold.ParseStall(r.Line)
		if !ok || !f.keep(s) {
			continue
		}
		l := a.loc
		if l == nil {
			l = r.Time.Location()
		}
		if err := writeStall(a.out, s, f.json, l); err != nil {
			return true, err
		}
	}
	if err := sc.Err(); err != nil && !errors.Is(err, context.Canceled) {
		return false, err
	}
	return false, nil
}
