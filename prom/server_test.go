package prom_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// tool returns the path of a Prometheus binary. Without it the test skips
// on a developer's machine and fails in CI, whose .ci/run installs it.
func tool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is not installed; .ci/run installs it (apt-get install prometheus)", name)
	}
	t.Skipf("%s is not installed: apt-get install prometheus (CI installs it and runs this test)", name)
	return ""
}

func TestRulesCheck(t *testing.T) {
	promtool := tool(t, "promtool")
	for _, args := range [][]string{
		{"check", "rules", "rules/openrtc.rules.yml"},
		{"test", "rules", "rules/openrtc.rules.test.yml"},
	} {
		out, err := exec.Command(promtool, args...).CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// TestPrometheusScrapesDemoWorker runs the demo worker with its culprits and
// a real Prometheus server scraping it on loopback, then asks Prometheus'
// HTTP API what an operator would: do stalls rise, does the exemplar name
// the session that blocked the mixer, does the example alert fire.
func TestPrometheusScrapesDemoWorker(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Prometheus server and a demo worker")
	}
	promBin := tool(t, "prometheus")
	dir := t.TempDir()

	demo := filepath.Join(dir, "densitydemo")
	if out, err := exec.Command("go", "build", "-o", demo, "../cmd/densitydemo").CombinedOutput(); err != nil {
		t.Fatalf("building the demo worker: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	worker := exec.CommandContext(ctx, demo, "--sessions", "30", "--blocker", "--block-every", "1s", "--leak",
		"--metrics", "127.0.0.1:0", "--socket", "off", "--quiet")
	stderr, _ := worker.StderrPipe()
	if err := worker.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = worker.Process.Kill(); _ = worker.Wait() }()
	target := metricsAddr(t, stderr)

	// The example rules, with their "for:" shortened so that a test of
	// seconds sees them fire; the expressions are the shipped ones.
	rules, err := os.ReadFile("rules/openrtc.rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	fast := regexp.MustCompile(`(?m)^(\s+for:) \S+$`).ReplaceAll(rules, []byte("$1 0s"))
	if err := os.WriteFile(filepath.Join(dir, "rules.yml"), fast, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [rules.yml]
scrape_configs:
  - job_name: densitydemo
    static_configs: [{targets: ["%s"]}]
`, target)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	api := "127.0.0.1:" + freePort(t)
	server := exec.Command(promBin,
		"--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+api,
		"--enable-feature=exemplar-storage",
	)
	plog, err := os.Create(filepath.Join(dir, "prometheus.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer plog.Close()
	server.Stdout, server.Stderr = plog, plog
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = server.Process.Signal(os.Interrupt)
		err := server.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(plog.Name())
			t.Logf("prometheus (%v) log:\n%s", err, b)
		}
	}()

	q := func(path string, params url.Values) json.RawMessage {
		resp, err := http.Get("http://" + api + path + "?" + params.Encode())
		if err != nil {
			return nil
		}
		defer resp.Body.Close()
		var r struct {
			Status string          `json:"status"`
			Data   json.RawMessage `json:"data"`
		}
		if json.NewDecoder(resp.Body).Decode(&r) != nil || r.Status != "success" {
			return nil
		}
		return r.Data
	}
	stalls := func() float64 {
		var v struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		}
		data := q("/api/v1/query", url.Values{"query": {`sum(openrtc_stalls_total{source="mixer"})`}})
		if json.Unmarshal(data, &v) != nil || len(v.Result) == 0 {
			return -1
		}
		s, _ := v.Result[0].Value[1].(string)
		var f float64
		fmt.Sscan(s, &f)
		return f
	}
	until := func(what string, ok func() bool) {
		t.Helper()
		for ctx.Err() == nil {
			if ok() {
				return
			}
			time.Sleep(500 * time.Millisecond)
		}
		targets, _ := json.Marshal(q("/api/v1/targets", nil))
		t.Fatalf("timed out waiting for %s; targets: %s", what, targets)
	}

	var first float64
	until("a first stall in Prometheus", func() bool { first = stalls(); return first >= 1 })
	until("the stall counter to rise", func() bool { return stalls() > first })

	until("an exemplar naming call-blocker", func() bool {
		var sets []struct {
			Exemplars []struct {
				Labels map[string]string `json:"labels"`
				Value  string            `json:"value"`
			} `json:"exemplars"`
		}
		now := time.Now()
		data := q("/api/v1/query_exemplars", url.Values{
			"query": {`openrtc_stall_duration_seconds_bucket{source="mixer"}`},
			"start": {fmt.Sprint(now.Add(-10 * time.Minute).Unix())}, "end": {fmt.Sprint(now.Unix())},
		})
		if json.Unmarshal(data, &sets) != nil {
			return false
		}
		for _, s := range sets {
			for _, e := range s.Exemplars {
				if e.Labels["session_id"] == "call-blocker" && e.Labels["stall_id"] != "" {
					return true
				}
			}
		}
		return false
	})

	until("the OpenRTCStalls alert to fire", func() bool {
		var r struct {
			Alerts []struct {
				Labels map[string]string `json:"labels"`
				State  string            `json:"state"`
			} `json:"alerts"`
		}
		if json.Unmarshal(q("/api/v1/alerts", nil), &r) != nil {
			return false
		}
		for _, a := range r.Alerts {
			if a.Labels["alertname"] == "OpenRTCStalls" && a.Labels["source"] == "mixer" && a.State == "firing" {
				return true
			}
		}
		return false
	})
}

// metricsAddr reads the demo worker's stderr until it says where it serves
// its metrics, then keeps draining it.
func metricsAddr(t *testing.T, r io.Reader) string {
	t.Helper()
	sc := bufio.NewScanner(r)
	found := make(chan string, 1)
	go func() {
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "densitydemo: metrics: http://"); ok {
				found <- strings.TrimSuffix(a, "/metrics")
			}
		}
	}()
	select {
	case a := <-found:
		return a
	case <-time.After(30 * time.Second):
		t.Fatal("the demo worker did not say where it serves its metrics")
		return ""
	}
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}
