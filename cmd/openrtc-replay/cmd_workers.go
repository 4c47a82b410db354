package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/openrtc-go/introspect/bucket"
	"github.com/openrtc-go/introspect/recorder"
)

type workersFlags struct{ json bool }

func (a *app) workersCmd() *cobra.Command {
	var f workersFlags
	c := &cobra.Command{
		Use:   "workers REC... | URL...",
		Short: "List the workers whose recordings a directory or bucket prefix holds, with their time ranges",
		Long: `workers lists the workers found in the inputs: a directory of recordings, or
a bucket prefix under which workers upload (<prefix>/<worker>@<host>/<file>), one
row per worker (name@host; a restart continues its worker, processes of one
name running at once are told apart by pid), with its runs, files, size and
the time its records cover. The name in the first column is what --worker
takes in the other commands.

Bucket URLs are read with ranged reads: each file's header and footer
index, not its frames. s3:// (and S3-compatible stores: endpoint=,
use_path_style=true) and file:// are built in; gs:// and azblob:// need a
build with -tags gcs or -tags azure.`,
		Example: `  openrtc-replay workers /var/lib/worker/rec/
  openrtc-replay workers 's3://recordings/prod/?region=eu-west-1'
  openrtc-replay workers --json file:///srv/recordings/prod/`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error { return a.workers(c, args, f) },
	}
	c.Flags().BoolVar(&f.json, "json", false, "print the workers as JSON")
	return c
}

// workerRow is one worker of `workers --json`.
type workerRow struct {
	Worker string    `json:"worker"`
	Name   string    `json:"name"`
	Host   string    `json:"host,omitempty"`
	PIDs   []int     `json:"pids,omitempty"`
	Files  int       `json:"files"`
	Bytes  int64     `json:"bytes"`
	First  time.Time `json:"first,omitzero"`
	Last   time.Time `json:"last,omitzero"`
}

func (a *app) workers(c *cobra.Command, args []string, f workersFlags) error {
	all, err := openAll(args)
	if err != nil {
		return a.openError(c, args, err)
	}
	defer all.close()
	sizes := map[string]int64{}
	for _, fi := range all.set.Files() {
		sizes[fi.Path] = fi.Size
	}
	var rows []workerRow
	for _, g := range all.set.Workers() {
		r := workerRow{Worker: g.Key, Name: g.Name, Host: g.Host, PIDs: g.PIDs, Files: len(g.Files), First: g.First, Last: g.Last}
		for _, wf := range g.Files {
			r.Bytes += sizes[wf.Path]
		}
		rows = append(rows, r)
	}
	if f.json {
		return writeJSON(a.out, rows)
	}
	loc := a.loc
	if loc == nil {
		loc = time.UTC
	}
	at := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return onScreen(t, loc)
	}
	t := newTable("worker", ">runs", ">files", ">size", "first", "last")
	for _, r := range rows {
		t.add(r.Worker, fmt.Sprint(max(len(r.PIDs), 1)), fmt.Sprint(r.Files), size(r.Bytes), at(r.First), at(r.Last))
	}
	return t.write(a.out)
}

// allInputs is every input of a command opened as one set, whatever
// workers it holds, with what is needed to open one worker's files again.
type allInputs struct {
	set     *recorder.Set
	paths   []string         // local inputs
	ins     []recorder.Input // bucket inputs, whose readers keep what they fetched
	release func()
}

func openAll(paths []string) (*allInputs, error) {
	if !slices.ContainsFunc(paths, bucket.IsURL) {
		set, err := recorder.Open(paths...)
		if err != nil {
			return nil, err
		}
		return &allInputs{set: set, paths: paths, release: func() {}}, nil
	}
	ins, release, err := bucketInputs(context.Background(), paths)
	if err != nil {
		return nil, err
	}
	set, err := recorder.OpenInputs(ins...)
	if err != nil {
		release()
		return nil, err
	}
	return &allInputs{set: set, ins: ins, release: release}, nil
}

// worker opens the files of one worker of the set (its group key).
func (a *allInputs) worker(key string) (*recorder.Set, error) {
	if a.ins != nil {
		return recorder.OpenWorkerInputs(key, a.ins...)
	}
	return recorder.OpenWorker(key, a.paths...)
}

func (a *allInputs) close() {
	a.set.Close()
	a.release()
}

// splitRange reads FROM..TO.
func splitRange(s string) (from, to string, ok bool) {
	from, to, ok = strings.Cut(s, "..")
	return strings.TrimSpace(from), strings.TrimSpace(to), ok && from != "" && to != ""
}
