// Package otelevents sends a worker's introspection events into an
// OpenTelemetry log pipeline: every finding is already a log/slog record,
// so the otelslog bridge (go.opentelemetry.io/contrib/bridges/otelslog)
// set as the introspector's Logger ships them unchanged, as OpenTelemetry
// log records, to any collector and from there to the log store the fleet
// already has.
//
// The recipe, with the OTLP/HTTP exporter (the endpoint and headers come
// from the usual OTEL_EXPORTER_OTLP_* environment variables):
//
//	res, _ := otelevents.Resource("voice", worker)          // service.instance.id = worker
//	exp, _ := otlploghttp.New(ctx)
//	lp := sdklog.NewLoggerProvider(sdklog.WithResource(res),
//		sdklog.WithProcessor(sdklog.NewBatchProcessor(exp)))
//	defer lp.Shutdown(ctx)
//	in, err := introspect.Start(introspect.Options{
//		Worker: worker,
//		Logger: slog.New(otelevents.Handler(lp, nil)), // INFO and up: no per-second samples
//	})
//
// Each record's body is the event name (slow-session, session.start,
// session.end, worker.start, worker.stop, recorder.drop) and its fields are
// the record's attributes (session_id, source, blocked_ms, ongoing,
// stall_id, frame, ...), as in the recording; the resource says which
// worker. To keep the console too, give the introspector
// slog.NewMultiHandler(console, otelevents.Handler(lp, nil)).
package otelevents
