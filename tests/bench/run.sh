#!/usr/bin/env bash
# Runs the client-side cache benchmarks of this module and prints medians and
# ratios. Needs redis-server on PATH (each benchmark starts its own on a free
# loopback port and stops it).
#
#   ./run.sh                  # hits: -count 5; staleness: 2000 samples, -count 3
#   COUNT=10 SAMPLES=5000 ./run.sh
#   OUT=/tmp/results ./run.sh # keep the raw outputs there (default: a temp dir)
#   BENCHTIME=2s ./run.sh     # -benchtime of the hit benchmarks (default 1s)
#   CPUS=2 ./run.sh           # -cpu of the hit benchmarks (default 1,2)
#   POLL=spin ./run.sh        # how the staleness reader waits between reads:
#                             # yield (default), spin, or a duration (20us)
#   CLUSTER=0 ./run.sh        # skip the cluster section (hits and staleness
#                             # on a 3-master Redis Cluster, 1–2 min more)
#
# The raw `go test` outputs are kept in $OUT (hit.txt, staleness.txt,
# cluster-hit.txt, cluster-staleness.txt), in
# the format benchstat reads; if benchstat is on PATH its table is printed
# too.
set -euo pipefail

cd "$(dirname "$0")"
COUNT=${COUNT:-5}
SCOUNT=${SCOUNT:-3}
SAMPLES=${SAMPLES:-2000}
BENCHTIME=${BENCHTIME:-1s}
CPUS=${CPUS:-1,2}
POLL=${POLL:-yield}
CLUSTER=${CLUSTER:-1}
OUT=${OUT:-$(mktemp -d -t rediscache-bench.XXXXXX)}
mkdir -p "$OUT"

echo "# $(date -u +%FT%TZ) $(go version) $(nproc) CPUs, load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# raw outputs in $OUT"

echo
echo "## Local hit, parallel (go test -bench Hit -benchmem -count $COUNT -benchtime $BENCHTIME -cpu $CPUS)"
go test -run '^$' -bench '^BenchmarkHit$' -benchmem -count "$COUNT" -benchtime "$BENCHTIME" -cpu "$CPUS" | tee "$OUT/hit.txt"
echo
awk -v baseline=baseline-rwmutex-map -f summary.awk "$OUT/hit.txt"

echo
echo "## Staleness window (go test -bench Staleness -benchtime ${SAMPLES}x -count $SCOUNT -args -poll=$POLL)"
go test -run '^$' -bench '^BenchmarkStaleness$' -benchtime "${SAMPLES}x" -count "$SCOUNT" -timeout 10m -args -poll="$POLL" | tee "$OUT/staleness.txt"
echo
awk -f summary.awk "$OUT/staleness.txt"

if [ "$CLUSTER" != 0 ]; then
	echo
	echo "## Cluster: local hit, parallel (go test -bench ClusterHit -benchmem -count $COUNT -benchtime $BENCHTIME -cpu $CPUS)"
	go test -run '^$' -bench '^BenchmarkClusterHit$' -benchmem -count "$COUNT" -benchtime "$BENCHTIME" -cpu "$CPUS" | tee "$OUT/cluster-hit.txt"
	echo
	awk -v baseline=baseline-rwmutex-map -f summary.awk "$OUT/cluster-hit.txt"

	echo
	echo "## Cluster: staleness window (go test -bench ClusterStaleness -benchtime ${SAMPLES}x -count $SCOUNT -args -poll=$POLL)"
	go test -run '^$' -bench '^BenchmarkClusterStaleness$' -benchtime "${SAMPLES}x" -count "$SCOUNT" -timeout 10m -args -poll="$POLL" | tee "$OUT/cluster-staleness.txt"
	echo
	awk -f summary.awk "$OUT/cluster-staleness.txt"
fi

if command -v benchstat >/dev/null 2>&1; then
	echo
	for f in hit staleness cluster-hit cluster-staleness; do
		if [ -f "$OUT/$f.txt" ]; then benchstat "$OUT/$f.txt"; fi
	done
fi
echo
echo "# load after the run: $(cut -d' ' -f1-3 /proc/loadavg)"
