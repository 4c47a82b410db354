package introspect

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/http"
)

// Middleware returns HTTP middleware that runs each request as a session:
// sessionID names it from the request (a call id from the path, a room from
// a header; nil or an empty result means a generated id), opts describe it.
// A WebSocket handler runs for the connection's life, so the session spans
// the connection. The session ends "error" when the handler answers 5xx or
// panics (the panic is re-raised), "cancelled" when the client went away,
// and "ok" otherwise.
//
//	mux.Handle("/call/{id}", in.Middleware(func(r *http.Request) string {
//		return r.PathValue("id")
//	}, introspect.Agent("voice"))(callHandler))
func (in *Introspector) Middleware(sessionID func(*http.Request) string, opts ...SessionOption) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if in == nil || in.off {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id := ""
			if sessionID != nil {
				id = sessionID(r)
			}
			ctx, end := in.Begin(r.Context(), id, opts...)
			sw := &statusWriter{ResponseWriter: w}
			var outcome error
			defer func() {
				if p := recover(); p != nil {
					end(fmt.Errorf("panic: %v", p))
					panic(p)
				}
				end(outcome)
			}()
			next.ServeHTTP(sw, r.WithContext(ctx))
			switch {
			case sw.status >= 500:
				outcome = fmt.Errorf("HTTP %d", sw.status)
			case ctx.Err() != nil:
				outcome = ctx.Err()
			}
		})
	}
}

// statusWriter remembers the status code. It passes Flush and Hijack through
// (WebSocket libraries hijack the connection) and unwraps for
// http.ResponseController.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if h, ok := w.ResponseWriter.(http.Hijacker); ok {
		w.status = http.StatusSwitchingProtocols
		return h.Hijack()
	}
	return nil, nil, errors.New("introspect: the response writer does not support hijacking")
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
