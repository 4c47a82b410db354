#!/usr/bin/env bash
# Runs the truth harness (internal/truth) on its full scenario and prints
# issue 8's table: figure | measured | goal | met, then what went wrong under
# each figure that missed. It fails nothing: the table is the answer, and
# BENCHMARKS.md keeps the latest one.
#
# The scenario is a worker written as a new user writes one: 200 ordinary
# sessions entering a watched mixer loop and a watched mutex thousands of
# times each (leave both called and deferred), three CPU hogs at known duty
# cycles with child goroutines, a stretch with every core loaded, a worker
# pool, a dispatcher, a goroutine leaker, HTTP sessions behind Middleware, 15
# injected stalls of known session, line and duration, and three scheduler
# stalls of 300 to 540 ms. Its truth is measured beside it: thread CPU clocks,
# getrusage, the wall clock around each block, runtime.Caller at the blocking
# line, /proc/self/statm.
#
# Usage: scripts/truth.sh [flags of internal/truth/cmd/truth]
#   -quick          the test's smaller scenario (about 30 s)
#   -dir DIR        keep the recording (DIR/truth.zst) for openrtc-replay
#   -duration 3m    a longer run
# Takes about two minutes. Run it on a machine as quiet as you can get: the
# truth is measured, so load moves no verdict, but it moves the CPU figures.
set -euo pipefail
cd "$(dirname "$0")/.."

# Keep the recording in a directory of our own unless -dir was given, so that
# the operator's view of it can follow the table.
dir=""
for ((i = 1; i <= $#; i++)); do
	if [ "${!i}" = -dir ]; then
		j=$((i + 1))
		dir=${!j}
	fi
done
args=("$@")
if [ -z "$dir" ]; then
	dir=$(mktemp -d)
	trap 'rm -rf "$dir"' EXIT
	args+=(-dir "$dir")
fi
go run ./internal/truth/cmd/truth "${args[@]}"

# What an operator reads first: the real CLI's post-mortem of the recording.
echo
echo "openrtc-replay summary (its findings):"
go run ./cmd/openrtc-replay summary "$dir/truth.zst" | sed -n '/^findings/,$p'
