#!/usr/bin/env bash
# test/bench/patterns.sh (make bench-patterns; also the last part of make
# bench): the pattern engine on one backend.  100,000 generated events of
# about 1 KB against 100 exact/prefix rules and 10, 100, 1,000 and 10,000
# rules of mixed operators, through the compiled set, and against the naive
# baseline of evaluating every rule one after another.  Prints events/s,
# microseconds per event (with and without the cost of the scan and call,
# measured with an empty rule set), compile time, and the ratios.  Nothing
# here asserts timings.
set -eu
cd "$(dirname "$0")/../.."
. scripts/lib.sh

[ "$(id -u)" = 0 ] || { echo "run as root (it installs packages and runs the cluster as postgres)"; exit 2; }
if [ -z "${BENCH_CLUSTER_DIR:-}" ]; then
	ensure_packages
	build_install
	DIR=$(mktemp -d /tmp/pg_outbox_pbench.XXXXXX)
	chmod 755 "$DIR"
	PORT=$((55820 + RANDOM % 500))
	trap 'cluster_stop "$DIR/cluster"; rm -rf "$DIR"' EXIT INT TERM
	cluster_start "$DIR/cluster" "$PORT" "shared_buffers = 512MB" "pg_outbox.databases = 'bench'"
else
	DIR=$BENCH_CLUSTER_DIR
	PORT=$BENCH_PORT
fi
PSQL="runuser -u postgres -- $PG_BIN/psql -X -h $DIR/cluster -p $PORT"
$PSQL -q -d postgres -c "DROP DATABASE IF EXISTS bench_patterns" -c "CREATE DATABASE bench_patterns"
echo "== pattern engine: generating 100,000 events and the rule sets, then matching"
$PSQL -q -d bench_patterns -f test/bench/sql/patterns.sql
