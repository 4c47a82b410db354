package otelevents_test

import (
	"context"
	"log"
	"log/slog"

	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/openrtc-go/introspect"
	"github.com/openrtc-go/introspect/otelevents"
)

// The worker's findings go to the collector named by
// OTEL_EXPORTER_OTLP_ENDPOINT, as OpenTelemetry log records of the
// resource service.instance.id=voice-17.
func Example() {
	ctx := context.Background()
	res, err := otelevents.Resource("voice", "voice-17")
	if err != nil {
		log.Fatal(err)
	}
	exp, err := otlploghttp.New(ctx)
	if err != nil {
		log.Fatal(err)
	}
	lp := sdklog.NewLoggerProvider(sdklog.WithResource(res), sdklog.WithProcessor(sdklog.NewBatchProcessor(exp)))
	defer lp.Shutdown(ctx)

	in, err := introspect.Start(introspect.Options{
		Worker: "voice-17",
		Logger: slog.New(otelevents.Handler(lp, nil)),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer in.Close()
}
