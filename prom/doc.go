// Package prom exports a worker's introspection as Prometheus metrics: a
// [prometheus.Collector] fed by the same events the introspector logs and
// records, so the metrics, the console and the recording never disagree.
//
// The series are per worker, never per session: a session id as a label
// would make every call a new series. Sessions are counted by agent (and by
// tenant, with [Options.Tenant]); the session that stalled the others is
// named where Prometheus can keep it without cost, in the exemplar of the
// stall-duration histogram's bucket, with the stall's id to find it in the
// recording or the log.
//
// Wire it in with introspect.Options.Observers and register it on the
// worker's registry, or serve [Collector.Handler]:
//
//	metrics := prom.New(prom.Options{})
//	in, err := introspect.Start(introspect.Options{Observers: []introspect.Observer{metrics}})
//	...
//	http.Handle("/metrics", metrics.Handler())
//
// Exemplars travel only in the OpenMetrics exposition format: a handler of
// your own needs promhttp.HandlerOpts{EnableOpenMetrics: true}, and
// Prometheus stores them with --enable-feature=exemplar-storage.
//
// The example alerting rules in rules/ (a stall rate, a sustained scheduler
// lag, session goroutine growth) are checked by promtool in the tests.
package prom
