#!/usr/bin/env bash
# Runs every benchmark that backs a figure in BENCHMARKS.md and prints one
# table: size per session-sample against the naive baseline, write cost, seek
# against scan, scan throughput, introspection overhead against no
# introspection, detection latency, and the replay command timings.
#
# Usage: scripts/bench.sh [quick]
#   quick  skips the 24-hour recording and the 10,000-session overhead run.
#
# Each figure is a ratio or is printed beside its baseline measured in the
# same run: the machine may be shared and noisy, so absolute times are upper
# bounds. The raw `go test -bench` output is kept in $OUT (default
# bench-out/).
set -euo pipefail
cd "$(dirname "$0")/.."

quick=${1:-}
out=${OUT:-bench-out}
mkdir -p "$out"
short=()
[ "$quick" = quick ] && short=(-short)

bench() { # package pattern benchtime
	local pkg=$1 pat=$2 bt=$3
	echo "bench: $pkg $pat" >&2
	go test "${short[@]}" -run '^$' -bench "$pat" -benchtime "$bt" -benchmem "$pkg" >"$out/$(echo "$pkg$pat" | tr -c 'A-Za-z0-9' _).txt" 2>&1 || {
		echo "bench: $pkg $pat failed; see $out" >&2
	}
}

bench ./recorder 'Handle$|WriterPerSample|HourOf1000Sessions|Scan$|Seek$|Open$' 1x
bench ./recorder 'Handle$|Scan$|Seek$|Open$' 1s
bench ./sampler 'RSSRead|VitalsRead|GoroutinesBySession|ParseCPUWindow' 1s
bench ./stall 'EnterLeave|DetectionLatency|Capture' 1s
bench . 'FetchSnapshot' 1s
bench . 'Overhead' 1x
bench ./cmd/openrtc-replay/internal/tui 'View' 1s
if [ "$quick" != quick ]; then
	bench ./fold 'StateAt24h|CursorStep|Report24h' 1x
fi

echo >&2
echo "== benchmarks (go test -bench; raw output in $out/)"
printf '%-58s %s\n' "benchmark" "figures"
cat "$out"/*.txt | awk '
	/^Benchmark/ {
		name = $1; sub(/-[0-9]+$/, "", name)
		line = ""
		for (i = 3; i + 1 <= NF; i += 2) line = line sprintf("%s %s  ", $i, $(i + 1))
		printf "%-58s %s\n", name, line
	}'

echo
echo "== size: 1,000 sessions x 1 h at 1 Hz, against the snapshot baseline (fixtures/synth/sizes)"
go run ./fixtures/synth/sizes -sweep 2>&1 | tail -n 25

if [ "$quick" != quick ]; then
	echo
	echo "== openrtc-replay on a day of 1,000 sessions (scripts/bench-replay.sh)"
	scripts/bench-replay.sh 10 2>/dev/null | sed -n '2,$p'
fi
