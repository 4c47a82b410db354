package prom_test

import (
	"log"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/openrtc-go/introspect"
	"github.com/openrtc-go/introspect/prom"
)

// The collector is an observer of the introspector's events; serve it on
// its own handler, or register it beside the worker's other metrics.
func Example() {
	metrics := prom.New(prom.Options{})
	in, err := introspect.Start(introspect.Options{
		Worker:    "voice-worker",
		Observers: []introspect.Observer{metrics},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer in.Close()

	http.Handle("/metrics", metrics.Handler())
	// or, on the worker's own registry (exemplars need OpenMetrics):
	reg := prometheus.NewRegistry()
	reg.MustRegister(metrics)
	http.Handle("/all-metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{EnableOpenMetrics: true}))
}
