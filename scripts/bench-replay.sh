#!/usr/bin/env bash
# Benchmarks of openrtc-replay as an operator runs it, on a generated
# 24-hour recording of 1,000 sessions (fixtures/synth, made once into a
# temporary directory, never committed):
#
#   - `top --once --at T` as a whole process, start to exit, at random
#     moments, beside the baseline `zstdcat REC | jq` reading to the same
#     moment, in the same run;
#   - `summary` and `sessions` over the whole day, in MB/s of decompressed
#     JSON, wall clock and CPU (user+sys).
#
# Usage: scripts/bench-replay.sh [moments] [runs]   (default 10 moments, 5 runs)
# summary and sessions are timed `runs` times each, alternating, and the
# median is printed. BASE_BIN=/path/to/an/older/openrtc-replay also times
# that binary's summary in the same alternation, on the same recording, so
# a change is measured against what it replaces in one run.
# Needs zstd, jq and GNU time (/usr/bin/time). OPENRTC_BENCH_DIR moves the
# recording (default $TMPDIR/openrtc-bench, shared with the Go benchmarks in
# fold/bench_replay_test.go).
set -euo pipefail
cd "$(dirname "$0")/.."

moments=${1:-10}
runs=${2:-5}
dir=${OPENRTC_BENCH_DIR:-${TMPDIR:-/tmp}/openrtc-bench}
rec=$dir/synth-1000x24h0m0s-seed1.zst
bin=$dir/openrtc-replay
mkdir -p "$dir"

for tool in zstdcat jq /usr/bin/time; do
	command -v "$tool" >/dev/null || { echo "bench-replay: needs $tool" >&2; exit 2; }
done

if [ ! -f "$rec" ]; then
	echo "generating $rec (1,000 sessions, 24 h; once)..." >&2
	go run ./fixtures/synth/synthrec -o "$rec.tmp" -sessions 1000 -duration 24h -seed 1 >&2
	mv "$rec.tmp" "$rec"
fi
go build -o "$bin" ./cmd/openrtc-replay

raw=$(zstdcat "$rec" | wc -c)
first=$("$bin" verify --json "$rec" | jq -r '.[0].first')
last=$("$bin" verify --json "$rec" | jq -r '.[0].last')
t0=$(date -u -d "$first" +%s)
t1=$(date -u -d "$last" +%s)

now() { date +%s%N; }
ms() { echo "scale=1; ($2 - $1) / 1000000" | bc; }

# median and 90th percentile of a list of numbers on stdin
stats() { sort -n | awk '{a[NR]=$1} END {m=a[int((NR+1)/2)]; p=a[int(NR*0.9+0.999)]; printf "%s %s", m, p}'; }

ours=()
base=()
cpu=()
for i in $(seq 1 "$moments"); do
	# Reproducible pseudo-random moments (Knuth's multiplicative hash), which
	# also fall anywhere within a keyframe interval.
	off=$(( (i * 2654435761 + 40503) % (t1 - t0) ))
	at=$(date -u -d "@$((t0 + off))" +%Y-%m-%dT%H:%M:%SZ)
	a=$(now)
	/usr/bin/time -f "%U %S" -o "$dir/time.out" "$bin" top --once --at "$at" "$rec" >/dev/null
	b=$(now)
	ours+=("$(ms "$a" "$b")")
	cpu+=("$(awk '{printf "%.1f", ($1 + $2) * 1000}' "$dir/time.out")")
	a=$(now)
	# The baseline reads to the same moment and stops there (zstdcat then
	# dies of SIGPIPE, which is the point).
	zstdcat "$rec" 2>/dev/null | jq -cn --arg t "$at" 'first(inputs | select(.time > $t))' >/dev/null || true
	b=$(now)
	base+=("$(ms "$a" "$b")")
done

read -r om op <<<"$(printf '%s\n' "${ours[@]}" | stats)"
read -r cm cp <<<"$(printf '%s\n' "${cpu[@]}" | stats)"
read -r bm bp <<<"$(printf '%s\n' "${base[@]}" | stats)"

scan() { # command → "wall_s cpu_s"
	local a b
	a=$(now)
	/usr/bin/time -f "%U %S" -o "$dir/time.out" "$bin" "$@" "$rec" >/dev/null
	b=$(now)
	echo "$(echo "scale=3; ($b - $a) / 1000000000" | bc) $(awk '{print $1 + $2}' "$dir/time.out")"
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
sws=() scs=() ews=() ecs=() bws=() bcs=()
for i in $(seq 1 "$runs"); do
	read -r w c <<<"$(scan summary)"; sws+=("$w"); scs+=("$c")
	if [ -n "${BASE_BIN:-}" ]; then
		read -r w c <<<"$(bin=$BASE_BIN scan summary)"; bws+=("$w"); bcs+=("$c")
	fi
	read -r w c <<<"$(scan sessions)"; ews+=("$w"); ecs+=("$c")
done
sw=$(printf '%s\n' "${sws[@]}" | median) sc=$(printf '%s\n' "${scs[@]}" | median)
ew=$(printf '%s\n' "${ews[@]}" | median) ec=$(printf '%s\n' "${ecs[@]}" | median)
mbps() { echo "scale=1; $raw / 1000000 / $1" | bc; }
range() { # list of seconds → "min-max MB/s"
	local lo hi
	lo=$(printf '%s\n' "$@" | sort -n | tail -1) hi=$(printf '%s\n' "$@" | sort -n | head -1)
	echo "$(mbps "$lo")-$(mbps "$hi")"
}

printf '\nopenrtc-replay on %s: %s compressed, %s MB of JSON, %s to %s, load %s\n\n' \
	"$(basename "$rec")" "$(du -h "$rec" | cut -f1)" "$((raw / 1000000))" "$first" "$last" "$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"
printf '%-44s %12s %12s\n' "measure ($moments random moments)" "median" "p90"
printf '%-44s %10s ms %10s ms\n' "top --once --at T, whole process (wall)" "$om" "$op"
printf '%-44s %10s ms %10s ms\n' "top --once --at T, whole process (cpu)" "$cm" "$cp"
printf '%-44s %10s ms %10s ms\n' "baseline: zstdcat | jq to T (wall)" "$bm" "$bp"
printf '%-44s %12s\n' "baseline / ours (median)" "$(echo "scale=1; $bm / $om" | bc)x"
printf '\n%-44s %12s %12s   %s\n' "whole day (median of $runs runs)" "wall" "cpu" "wall, all runs"
printf '%-44s %9s MB/s %9s MB/s   %s\n' "summary" "$(mbps "$sw")" "$(mbps "$sc")" "$(range "${sws[@]}")"
if [ -n "${BASE_BIN:-}" ]; then
	bw=$(printf '%s\n' "${bws[@]}" | median) bc_=$(printf '%s\n' "${bcs[@]}" | median)
	printf '%-44s %9s MB/s %9s MB/s   %s\n' "summary, BASE_BIN (alternating)" "$(mbps "$bw")" "$(mbps "$bc_")" "$(range "${bws[@]}")"
fi
printf '%-44s %9s MB/s %9s MB/s   %s\n' "sessions" "$(mbps "$ew")" "$(mbps "$ec")" "$(range "${ews[@]}")"
