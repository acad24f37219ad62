#!/usr/bin/env bash
# test/bench/cli.sh (make bench-cli; also part of make bench): pg_outbox
# consume beside the ceiling set by the machine.
#
#   spawn ceiling   how many times per second this machine can start and
#                   reap /bin/true, with 4 running at once (the bound for
#                   any one-process-per-message consumer)
#   consume         pg_outbox consume --concurrency 4 -- true over 5,000
#                   queued messages: messages/s, and the ratio to the ceiling
#   consume --batch 100,000 messages as JSON lines to one awk process that
#                   acknowledges each by its MessageId: messages/s
#
# Nothing here asserts timings.  BENCH_CLI_MESSAGES (5000).
set -eu
cd "$(dirname "$0")/../.."
. scripts/lib.sh

N=${BENCH_CLI_MESSAGES:-5000}
[ "$(id -u)" = 0 ] || { echo "run as root (it installs packages and runs the cluster as postgres)"; exit 2; }
ensure_packages
build_install

DIR=$(mktemp -d /tmp/pg_outbox_cbench.XXXXXX)
chmod 755 "$DIR"
PORT=$((57320 + RANDOM % 500))
trap 'cluster_stop "$DIR/cluster"; rm -rf "$DIR"' EXIT INT TERM
cluster_start "$DIR/cluster" "$PORT" "pg_outbox.databases = 'none'"
CLI="$PG_BIN/pg_outbox -h $DIR/cluster -p $PORT -U postgres -d postgres"
runuser -u postgres -- $PG_BIN/psql -X -q -h "$DIR/cluster" -p "$PORT" -d postgres -c "CREATE EXTENSION pg_outbox" \
	-c "SELECT outbox.create_queue('cli')" >/dev/null

# the ceiling: 4 parallel loops of /bin/true
start=$(date +%s.%N)
for w in 1 2 3 4; do ( for i in $(seq 1 $((N / 4))); do /bin/true; done ) & done
wait
end=$(date +%s.%N)
CEIL=$(awk -v n="$N" -v s="$start" -v e="$end" 'BEGIN { printf "%.0f", n / (e - s) }')

for c in $(seq 1 $((N / 1000))); do
	echo "SELECT count(*) FROM outbox.send_message_bodies('cli', (SELECT array_agg('m$c-' || g) FROM generate_series(1, 1000) AS g));"
done | runuser -u postgres -- $PG_BIN/psql -X -q -h "$DIR/cluster" -p "$PORT" -d postgres >/dev/null
start=$(date +%s.%N)
$CLI -q consume cli --concurrency 4 --wait 0 --exit-when-empty -- true
end=$(date +%s.%N)
RATE=$(awk -v n="$N" -v s="$start" -v e="$end" 'BEGIN { printf "%.0f", n / (e - s) }')

BN=100000
for c in $(seq 1 $((BN / 1000))); do
	echo "SELECT count(*) FROM outbox.send_message_bodies('cli', (SELECT array_agg('b$c-' || g) FROM generate_series(1, 1000) AS g));"
done | runuser -u postgres -- $PG_BIN/psql -X -q -h "$DIR/cluster" -p "$PORT" -d postgres >/dev/null
start=$(date +%s.%N)
$CLI -q consume cli --batch --wait 0 --exit-when-empty -- awk -F'"MessageId":"' '{ split($2, a, "\""); print a[1]; fflush() }'
end=$(date +%s.%N)
BRATE=$(awk -v n="$BN" -v s="$start" -v e="$end" 'BEGIN { printf "%.0f", n / (e - s) }')

echo "== summary"
echo "  /bin/true, 4 at a time (the ceiling):  $CEIL starts/s"
echo "  pg_outbox consume --concurrency 4:     $RATE messages/s ($(awk -v a="$RATE" -v b="$CEIL" 'BEGIN { printf "%.2f", a / b }')x the ceiling; target 2000)"
echo "  pg_outbox consume --batch (awk):       $BRATE messages/s (target 20000)"
