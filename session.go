package introspect

import (
	"context"
	"errors"
	"runtime/pprof"
	"strconv"
	"sync"

	"github.com/openrtc-go/introspect/events"
)

// The pprof label keys a session's context carries. Goroutines started under
// the context inherit them, which is how CPU samples, goroutine profiles and
// held loops are attributed to the session; with GODEBUG=tracebacklabels=1,
// Go 1.26 tracebacks print them too.
const (
	LabelSession = "session"
	LabelAgent   = "agent"
	LabelTenant  = "tenant"
)

// A SessionOption describes a session at [Introspector.Begin].
type SessionOption func(*sessionInfo)

// Agent sets the session's agent name: the kind of work it does.
func Agent(name string) SessionOption { return func(s *sessionInfo) { s.agent = name } }

// Tenant sets the tenant the session works for.
func Tenant(name string) SessionOption { return func(s *sessionInfo) { s.tenant = name } }

// Pinned marks a session that may not be moved off this worker.
func Pinned() SessionOption { return func(s *sessionInfo) { s.pinned = true } }

// Label adds an extra label. It is recorded with the session and, unlike
// agent and tenant, is not added to the pprof labels, so profiles stay small.
func Label(key, value string) SessionOption {
	return func(s *sessionInfo) {
		if s.labels == nil {
			s.labels = make(map[string]string)
		}
		s.labels[key] = value
	}
}

// Dispatched marks a session begun by a dispatcher on behalf of a goroutine
// it is about to start: Begin then leaves the calling goroutine's labels
// alone, so the dispatcher's own CPU is not billed to the session, and the
// session's end does not touch the labels of whichever goroutine calls it.
// A goroutine inherits the labels of the goroutine that starts it, not of a
// context, so start the session's goroutine with [Go] (or have it call [Do]):
//
//	for req := range incoming {
//		ctx, end := in.Begin(ctx, req.ID, introspect.Dispatched())
//		introspect.Go(ctx, func(ctx context.Context) { end(serve(ctx, req)) })
//	}
func Dispatched() SessionOption { return func(s *sessionInfo) { s.dispatched = true } }

type sessionInfo struct {
	id, agent, tenant string
	pinned            bool
	dispatched        bool
	labels            map[string]string
}

// EndFunc ends a session. Its error is the session's outcome: nil is "ok", an
// error wrapping context.Canceled is "cancelled", any other is "error". Only
// the first call counts; later calls do nothing.
type EndFunc func(err error)

// Begin starts a session and returns its context and the function that ends
// it. The returned context carries the session's pprof labels, and so does
// the calling goroutine until end is called: goroutines started from either
// belong to the session, the Go counterpart of OpenRTC's chained task
// factory.
//
// An empty id is replaced by a generated one; an id already live gets a
// suffix, so two sessions are never merged. On a nil or disabled
// Introspector, Begin returns ctx unchanged and an end that does nothing.
//
// end restores the calling goroutine's labels to those of ctx, so call it on
// the goroutine that called Begin (defer end(err) does). A goroutine that
// begins sessions for others to run (a dispatcher, an accept loop) passes
// [Dispatched]: its own labels are then left alone. Work a session hands to
// goroutines it did not start (a worker pool, a shared fan-in goroutine)
// runs unattributed unless the worker runs it with [Do].
func (in *Introspector) Begin(ctx context.Context, id string, opts ...SessionOption) (context.Context, EndFunc) {
	if in == nil || in.off {
		return ctx, func(error) {}
	}
	s := sessionInfo{id: id}
	for _, o := range opts {
		o(&s)
	}
	s.id = in.register(&s)

	hide := in.hideSession()
	labels := make([]string, 0, 6)
	if !hide {
		labels = append(labels, LabelSession, s.id)
	}
	if s.agent != "" {
		labels = append(labels, LabelAgent, s.agent)
	}
	if s.tenant != "" {
		labels = append(labels, LabelTenant, s.tenant)
	}
	sctx := ctx
	if len(labels) > 0 {
		sctx = pprof.WithLabels(ctx, pprof.Labels(labels...))
	}
	if hide {
		// The session's goroutines do not carry its id; its loops and
		// mutexes still name it, from a labelled context they lend the
		// holder only while it holds (see holdContext).
		sctx = context.WithValue(sctx, holdKey{}, pprof.WithLabels(sctx, pprof.Labels(LabelSession, s.id)))
	}
	if sctx != ctx {
		sctx = &sessionContext{Context: sctx, done: ctx.Done()}
	}
	if !s.dispatched {
		pprof.SetGoroutineLabels(sctx)
	}
	in.emit(events.SessionStart{SessionID: s.id, Agent: s.agent, Tenant: s.tenant, Pinned: s.pinned, Labels: s.labels})

	var once sync.Once
	return sctx, func(err error) {
		once.Do(func() {
			if !s.dispatched {
				pprof.SetGoroutineLabels(ctx)
			}
			in.unregister(s.id)
			e := events.SessionEnd{SessionID: s.id, Outcome: events.OutcomeOK}
			switch {
			case err == nil:
			case errors.Is(err, context.Canceled):
				e.Outcome, e.Error = events.OutcomeCancelled, err.Error()
			default:
				e.Outcome, e.Error = events.OutcomeError, err.Error()
			}
			in.emit(e)
		})
	}
}

// Do runs f on the calling goroutine on behalf of the session whose context
// is session (one returned by Begin, or derived from it), then restores the
// calling goroutine's labels to those of ctx, the caller's own context: the
// scoped form of Begin's labelling, in the spirit of [pprof.Do]. A worker
// pool, a shared fan-in goroutine or any goroutine that a session did not
// start runs a job through Do so that the job's CPU time, goroutines and
// the goroutines it starts are the session's, not unattributed:
//
//	for job := range jobs { // a pool worker
//		introspect.Do(ctx, job.ctx, func(ctx context.Context) { job.run(ctx) })
//	}
//
// f receives session, whose labels the goroutine carries while f runs;
// goroutines f starts inherit them. Do needs no Introspector: it only moves
// labels, and with introspection off it still runs f.
func Do(ctx, session context.Context, f func(context.Context)) {
	defer pprof.SetGoroutineLabels(ctx)
	pprof.SetGoroutineLabels(session)
	f(session)
}

// Go starts f on a new goroutine that carries the labels of session (a
// context returned by Begin, or derived from it) whatever the labels of the
// goroutine that calls Go: the go statement of a dispatcher, which carries
// no session's labels itself (see [Dispatched]). f receives session.
func Go(session context.Context, f func(context.Context)) {
	go func() {
		pprof.SetGoroutineLabels(session)
		f(session)
	}()
}

// sessionContext is the context Begin returns: the session's labelled
// context, with the caller's Done channel kept at hand. A session's code
// selects on its context's Done every turn of its loops, and through
// pprof.WithLabels that call goes through one more context first, whose
// memory is the session's own and cold by its next turn: at 10,000
// sessions, context.(*valueCtx).Done alone was 2.5 % of the process's CPU.
// Done returns the same channel the caller's context does, so
// cancellation, context.Cause and contexts derived from the session's
// (WithCancel finds the caller's cancelCtx through Value, and its channel
// is this one) work as before.
type sessionContext struct {
	context.Context // the session's labelled context
	done            <-chan struct{}
}

// Done returns the Done channel of the context Begin was given.
func (c *sessionContext) Done() <-chan struct{} { return c.done }

// register adds s to the live sessions under a unique id and returns it.
func (in *Introspector) register(s *sessionInfo) string {
	in.smu.Lock()
	defer in.smu.Unlock()
	id := s.id
	if id == "" {
		in.anon++
		id = "session-" + strconv.FormatUint(in.anon, 10)
	}
	base := id
	for n := 2; ; n++ {
		if _, taken := in.live[id]; !taken {
			break
		}
		id = base + "~" + strconv.Itoa(n)
	}
	in.live[id] = s.agent
	in.epoch++
	return id
}

func (in *Introspector) unregister(id string) {
	in.smu.Lock()
	delete(in.live, id)
	in.epoch++
	in.smu.Unlock()
}

// sessionEpoch counts the sessions begun and ended so far: it moves when
// the set of live sessions changes.
func (in *Introspector) sessionEpoch() uint64 {
	in.smu.Lock()
	defer in.smu.Unlock()
	return in.epoch
}

// agentOf returns the agent of a live session, for stalls whose holder's
// labels did not carry it.
func (in *Introspector) agentOf(id string) string {
	in.smu.Lock()
	defer in.smu.Unlock()
	return in.live[id]
}

func (in *Introspector) liveCount() int {
	in.smu.Lock()
	defer in.smu.Unlock()
	return len(in.live)
}

func (in *Introspector) isLive(id string) bool {
	in.smu.Lock()
	defer in.smu.Unlock()
	_, ok := in.live[id]
	return ok
}

// hideSession reports whether Begin keeps the session id off the session's
// goroutines: Options.HideSessionLabel, while another profiler owns the CPU
// profiler and so profiles the goroutines itself.
func (in *Introspector) hideSession() bool {
	return in.opts.HideSessionLabel && in.opts.CPUOwner != ""
}

// holdKey is the context key of a hidden session's labelled context.
type holdKey struct{}

// holdContext returns the context a loop or mutex is entered with: for a
// session begun with its id hidden from the goroutine labels, a context
// that carries it, so the watchdog names the holder; ctx itself otherwise.
func holdContext(ctx context.Context) context.Context {
	if h, ok := ctx.Value(holdKey{}).(context.Context); ok {
		return h
	}
	return ctx
}
