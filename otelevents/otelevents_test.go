package otelevents_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	collogs "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	"google.golang.org/protobuf/proto"

	"github.com/openrtc-go/introspect"
	"github.com/openrtc-go/introspect/otelevents"
)

// receiver is an OTLP/HTTP logs endpoint on loopback: what a collector
// receives from the exporter, decoded from the wire.
type receiver struct {
	mu      sync.Mutex
	records []received
}

type received struct {
	resource map[string]string
	body     string
	severity string
	attrs    map[string]string
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(r.Body)
	var req collogs.ExportLogsServiceRequest
	if err != nil || r.URL.Path != "/v1/logs" || proto.Unmarshal(b, &req) != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	for _, rl := range req.GetResourceLogs() {
		res := flatten(rl.GetResource().GetAttributes())
		for _, sl := range rl.GetScopeLogs() {
			for _, lr := range sl.GetLogRecords() {
				rc.records = append(rc.records, received{resource: res, body: lr.GetBody().GetStringValue(),
					severity: lr.GetSeverityText(), attrs: flatten(lr.GetAttributes())})
			}
		}
	}
	rc.mu.Unlock()
	out, _ := proto.Marshal(&collogs.ExportLogsServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.Write(out)
}

func flatten(kvs []*commonpb.KeyValue) map[string]string {
	m := map[string]string{}
	for _, kv := range kvs {
		v := kv.GetValue()
		switch {
		case v.GetStringValue() != "":
			m[kv.GetKey()] = v.GetStringValue()
		case v.GetArrayValue() != nil:
			m[kv.GetKey()] = "[array]"
		default:
			m[kv.GetKey()] = strings.TrimSpace(v.String())
		}
	}
	return m
}

// The recipe end to end: a real introspector whose Logger is the bridge,
// the OpenTelemetry log SDK batching to the OTLP/HTTP exporter, and a
// receiver on loopback. The stall arrives with the attributes that answer
// "which session on which worker", the worker names the resource, and no
// per-second sample crosses the bridge.
func TestRecipeShipsEventsOverOTLP(t *testing.T) {
	rc := &receiver{}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	ctx := context.Background()

	res, err := otelevents.Resource("voice", "voice-17")
	if err != nil {
		t.Fatal(err)
	}
	exp, err := otlploghttp.New(ctx, otlploghttp.WithEndpointURL(srv.URL+"/v1/logs"))
	if err != nil {
		t.Fatal(err)
	}
	lp := sdklog.NewLoggerProvider(sdklog.WithResource(res), sdklog.WithProcessor(sdklog.NewBatchProcessor(exp)))

	in, err := introspect.Start(introspect.Options{
		Worker: "voice-17", Socket: introspect.SocketOff, SampleInterval: 50 * time.Millisecond,
		Logger: slog.New(otelevents.Handler(lp, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	mixer := in.Loop("mixer")
	sctx, end := in.Begin(ctx, "call-blocker", introspect.Agent("voice"))
	leave := mixer.Enter(sctx)
	time.Sleep(300 * time.Millisecond) // holds the mixer: a stall
	leave()
	time.Sleep(200 * time.Millisecond) // samples, which must not cross the bridge
	end(nil)
	if err := in.Close(); err != nil {
		t.Fatal(err)
	}
	if err := lp.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}

	rc.mu.Lock()
	defer rc.mu.Unlock()
	kinds := map[string]int{}
	var stall *received
	for i, r := range rc.records {
		kinds[r.body]++
		if r.resource["service.instance.id"] != "voice-17" || r.resource["service.name"] != "voice" {
			t.Errorf("%s record's resource = %v, want service.instance.id voice-17", r.body, r.resource)
		}
		if r.body == "slow-session" && r.attrs["ongoing"] == "bool_value:false" {
			stall = &rc.records[i]
		}
	}
	if kinds["sample"] != 0 || kinds["keyframe"] != 0 {
		t.Errorf("DEBUG records crossed the bridge: %v", kinds)
	}
	for _, k := range []string{"worker.start", "session.start", "session.end", "worker.stop"} {
		if kinds[k] != 1 {
			t.Errorf("%d %s records, want 1 (all: %v)", kinds[k], k, kinds)
		}
	}
	if stall == nil {
		t.Fatalf("no final slow-session record; received %v", kinds)
	}
	if stall.attrs["session_id"] != "call-blocker" || stall.attrs["source"] != "mixer" || stall.attrs["agent_name"] != "voice" ||
		stall.attrs["stall_id"] == "" || !strings.Contains(stall.attrs["frame"], "otelevents_test.go") || stall.severity != "WARN" {
		t.Errorf("the stall's record: severity %q, attributes %v", stall.severity, stall.attrs)
	}
}
