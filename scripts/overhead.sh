#!/usr/bin/env bash
# What introspection costs a dense worker, in % of one core: 1,000 (and
# 10,000) sessions on 20 ms tickers doing a fixed amount of work per frame,
# as separate processes interleaved off, X1, off, X2, …, off (order reversed
# every other round), each X paired with the mean of its two neighbouring
# off runs, CPU from getrusage normalised by the frames done. Prints the
# table BENCHMARKS.md holds (median of the paired differences and their
# spread, with context switches, page faults and GCs per variant).
#
# Usage: scripts/overhead.sh [flags of scripts/overhead]
#   scripts/overhead.sh                       # all variants, 6 rounds (~15 min)
#   scripts/overhead.sh -rounds 3 -variants on,disablecpu
#   scripts/overhead.sh -raw runs.jsonl       # also keep every run's figures
#
# The machine should be otherwise idle: other processes delay the workload's
# timers, and each run's CPU per frame then moves (the pairs absorb slow
# drifts, not bursts). One run by hand, for perf:
#   go build -o /tmp/overhead ./scripts/overhead
#   perf record -e cpu-clock -g /tmp/overhead -child on
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${TMPDIR:-/tmp}/openrtc-overhead
go build -o "$bin" ./scripts/overhead
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')" >&2
"$bin" "$@"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')" >&2
