package main

import (
	"context"
	"errors"
	"fmt"
	"slices"

	_ "gocloud.dev/blob/fileblob" // file:///dir
	_ "gocloud.dev/blob/s3blob"   // s3://bucket/prefix, and S3-compatible stores

	"github.com/openrtc-go/introspect/bucket"
	"github.com/openrtc-go/introspect/recorder"
)

// openSet opens the worker's files among paths: local files and
// directories, or bucket URLs (s3://bucket/prefix/, file:///dir/), whose
// recordings are read with ranged reads. The returned function releases
// the buckets.
func openSet(worker string, paths []string) (*recorder.Set, func(), error) {
	if !slices.ContainsFunc(paths, bucket.IsURL) {
		set, err := recorder.OpenWorker(worker, paths...)
		return set, func() {}, err
	}
	ins, closeAll, err := bucketInputs(context.Background(), paths)
	if err != nil {
		return nil, nil, err
	}
	set, err := recorder.OpenWorkerInputs(worker, ins...)
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	return set, closeAll, nil
}

// bucketInputs lists the recordings under each URL as recorder inputs.
func bucketInputs(ctx context.Context, urls []string) ([]recorder.Input, func(), error) {
	var locs []*bucket.Location
	closeAll := func() {
		for _, l := range locs {
			l.Close()
		}
	}
	var ins []recorder.Input
	for _, u := range urls {
		if !bucket.IsURL(u) {
			closeAll()
			return nil, nil, fmt.Errorf("%s: bucket URLs and local paths cannot be read together", u)
		}
		loc, err := bucket.Open(ctx, u)
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		locs = append(locs, loc)
		objs, err := loc.Recordings(ctx)
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		if len(objs) == 0 {
			closeAll()
			return nil, nil, fmt.Errorf("%s: no recordings (*.zst, *.jsonl) under this prefix: %w", u, recorder.ErrNoInputs)
		}
		in, _ := loc.Inputs(ctx, objs)
		ins = append(ins, in...)
	}
	if len(ins) == 0 {
		closeAll()
		return nil, nil, errors.New("no bucket URL")
	}
	return ins, closeAll, nil
}
