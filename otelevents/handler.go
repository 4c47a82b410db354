package otelevents

import (
	"context"
	"log/slog"

	"go.opentelemetry.io/contrib/bridges/otelslog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/sdk/resource"
)

// Scope is the instrumentation scope of the records the handler emits.
const Scope = "github.com/openrtc-go/introspect"

// Handler returns a slog.Handler that sends records at or above min through
// the OpenTelemetry logger provider lp, by the otelslog bridge. A nil min
// means INFO: lifecycle events, stalls and recorder drops go out, and the
// per-second DEBUG samples and keyframes (the bulk of a recording, and of
// no use in a log store) are dropped before the bridge, at no cost.
func Handler(lp log.LoggerProvider, min slog.Leveler) slog.Handler {
	if min == nil {
		min = slog.LevelInfo
	}
	return &levelFilter{min: min, next: otelslog.NewHandler(Scope, otelslog.WithLoggerProvider(lp))}
}

// Resource returns the OpenTelemetry resource of a worker: the SDK's
// defaults (telemetry SDK, host and process attributes from the
// environment, OTEL_RESOURCE_ATTRIBUTES), with service.name set to service
// and service.instance.id to the worker's name, the attribute a log store
// uses to tell workers apart.
func Resource(service, worker string) (*resource.Resource, error) {
	return resource.Merge(resource.Default(), resource.NewSchemaless(
		attribute.String("service.name", service),
		attribute.String("service.instance.id", worker),
	))
}

// levelFilter passes records at or above min to next.
type levelFilter struct {
	min  slog.Leveler
	next slog.Handler
}

func (h *levelFilter) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min.Level() && h.next.Enabled(ctx, l)
}

func (h *levelFilter) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < h.min.Level() {
		return nil
	}
	return h.next.Handle(ctx, r)
}

func (h *levelFilter) WithAttrs(as []slog.Attr) slog.Handler {
	return &levelFilter{min: h.min, next: h.next.WithAttrs(as)}
}

func (h *levelFilter) WithGroup(name string) slog.Handler {
	return &levelFilter{min: h.min, next: h.next.WithGroup(name)}
}
