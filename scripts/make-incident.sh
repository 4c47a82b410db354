#!/bin/sh
# make-incident.sh records fixtures/incident.zst, the bundled incident that
# `openrtc-replay` opens when given no input, and refreshes the copy the
# binary embeds (cmd/openrtc-replay/bundled/incident.zst).
#
# It runs the demo worker for 2 minutes: 120 well-behaved sessions (2% of
# them replaced every second) for the first 30 seconds, then the three
# culprits join: call-blocker holds the shared mixer loop for 400ms every 3s,
# call-cpuhog burns 80% of a core, call-leaker leaks a goroutine and 256 KiB
# every 200ms. The recording stops with every session still live.
#
# Run it from anywhere, on a machine as quiet as you can find (a loaded
# machine adds scheduler stalls and thins the CPU profile); then run
# `go test ./runbook/` and commit both files.
set -eu
cd "$(dirname "$0")/.."

tmp=fixtures/incident.new.zst
log=fixtures/incident.new.log
trap 'rm -f "$tmp" "$log"' EXIT
# The console (stall warnings, --quiet) goes to a log shown only on failure.
go run ./cmd/densitydemo \
	--sessions 120 --culprits-after 30s \
	--blocker --cpu-hog --leak \
	--duration 2m --socket off --quiet \
	--record "$tmp" 2>"$log" || { tail -n 20 "$log" >&2; exit 1; }
mv "$tmp" fixtures/incident.zst
go generate ./cmd/openrtc-replay
ls -l fixtures/incident.zst
