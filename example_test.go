package introspect_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"time"

	"github.com/openrtc-go/introspect"
)

// The README's quick start: begin a session, name a shared loop, record to a
// file. It runs as a test, so it cannot rot.
func Example() {
	dir, _ := os.MkdirTemp("", "quickstart")
	defer os.RemoveAll(dir)

	in, err := introspect.Start(introspect.Options{
		Worker: "voice-worker",
		Record: filepath.Join(dir, "rec.zst"),   // replay it with openrtc-replay
		Socket: filepath.Join(dir, "live.sock"), // watch it with openrtc-replay live
	})
	if err != nil {
		panic(err)
	}
	defer in.Close()

	mixer := in.Loop("mixer") // something every session shares
	ctx, end := in.Begin(context.Background(), "call-42", introspect.Agent("voice"), introspect.Tenant("acme"))
	leave := mixer.Enter(ctx)
	time.Sleep(time.Millisecond) // mix a frame
	leave()
	end(nil)

	fmt.Println(in.View().Worker.SessionsBegun, "session")
	// Output: 1 session
}

// One session per HTTP request (or WebSocket connection): the middleware
// begins it with an id taken from the request and ends it with the outcome.
func ExampleIntrospector_Middleware() {
	in, _ := introspect.Start(introspect.Options{Socket: introspect.SocketOff, Logger: slog.New(slog.DiscardHandler)})
	defer in.Close()

	call := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// r.Context() carries the session; goroutines started here belong to it.
		fmt.Fprintln(w, "hello")
	})
	mux := http.NewServeMux()
	mux.Handle("/call/{id}", in.Middleware(func(r *http.Request) string {
		return r.PathValue("id")
	}, introspect.Agent("voice"))(call))
	_ = mux // http.ListenAndServe(":8080", mux)
}

// A worker pool runs jobs for many sessions on goroutines that none of them
// started: each job runs under its session with Do, so its CPU and the
// goroutines it starts are the session's, and the worker gets its own labels
// back after.
func ExampleDo() {
	in, _ := introspect.Start(introspect.Options{Socket: introspect.SocketOff, Logger: slog.New(slog.DiscardHandler)})
	defer in.Close()

	type job struct {
		ctx  context.Context // the session's
		text string
		done chan string
	}
	jobs := make(chan job)
	go func() { // a pool worker
		for j := range jobs {
			introspect.Do(context.Background(), j.ctx, func(ctx context.Context) {
				j.done <- "transcribed " + j.text
			})
		}
	}()

	ctx, end := in.Begin(context.Background(), "call-7", introspect.Agent("voice"))
	j := job{ctx, "hello", make(chan string)}
	jobs <- j
	fmt.Println(<-j.done)
	end(nil)
	close(jobs)
	// Output: transcribed hello
}

// A dispatcher begins each session for the goroutine it starts: Dispatched
// keeps the dispatcher's own goroutine out of the session, and Go gives the
// session's goroutine the session's labels, which a plain go statement would
// take from the dispatcher.
func ExampleDispatched() {
	in, _ := introspect.Start(introspect.Options{Socket: introspect.SocketOff, Logger: slog.New(slog.DiscardHandler)})
	defer in.Close()

	done := make(chan struct{})
	for _, id := range []string{"room-1", "room-2"} {
		ctx, end := in.Begin(context.Background(), id, introspect.Dispatched())
		introspect.Go(ctx, func(ctx context.Context) {
			defer func() { done <- struct{}{} }()
			end(nil) // serve the session here
		})
	}
	<-done
	<-done
	fmt.Println(in.View().Worker.SessionsBegun, "sessions")
	// Output: 2 sessions
}

// Serve net/http/pprof's pages with the CPU profile taken from
// introspection's windows, so that go tool pprof, Parca, Grafana Alloy or
// Pyroscope in pull mode get CPU profiles, labelled by session, while
// introspection holds the CPU profiler.
func ExampleIntrospector_CPUProfileHandler() {
	in, _ := introspect.Start(introspect.Options{Socket: introspect.SocketOff, Logger: slog.New(slog.DiscardHandler)})
	defer in.Close()

	mux := http.NewServeMux() // not http.DefaultServeMux: importing net/http/pprof registers its own there
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.Handle("/debug/pprof/profile", in.CPUProfileHandler())
	_ = mux // http.ListenAndServe("localhost:6060", mux)
}
