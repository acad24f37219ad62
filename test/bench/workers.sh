#!/usr/bin/env bash
# test/bench/workers.sh (make bench-workers; also part of make bench): the
# worker runtime end to end on a preloaded cluster.
#
#   drain        200,000 queued messages consumed by an event source mapping
#                (batch size 100, the function inserts one row per batch):
#                messages/s from enabling the mapping to the empty queue
#   stream       producers sending 100-message batches with pgbench while the
#                mapping consumes: messages/s consumed
#   latency      one message every 20 ms (pgbench -R 50): commit of the send
#                -> the function starts, p50 and p99
#   idle         CPU seconds used in 10 s by the schedulers of 10 databases
#                with the extension and nothing to do
#
# Nothing here asserts timings.  BENCH_DRAIN (200000), BENCH_SECONDS (10).
set -eu
cd "$(dirname "$0")/../.."
. scripts/lib.sh

DRAIN=${BENCH_DRAIN:-200000}
SECS=${BENCH_SECONDS:-10}
[ "$(id -u)" = 0 ] || { echo "run as root (it installs packages and runs the cluster as postgres)"; exit 2; }
ensure_packages
build_install

DIR=$(mktemp -d /tmp/pg_outbox_wbench.XXXXXX)
chmod 755 "$DIR"
PORT=$((56320 + RANDOM % 500))
trap 'cluster_stop "$DIR/cluster"; rm -rf "$DIR"' EXIT INT TERM
cluster_start "$DIR/cluster" "$PORT" "shared_buffers = 512MB" "max_wal_size = 4GB" \
	"max_worker_processes = 40" "pg_outbox.max_workers = ${BENCH_WORKERS:-2}" \
	"pg_outbox.launcher_interval = '500ms'" "pg_outbox.restart_interval = '1s'"
PSQL="runuser -u postgres -- $PG_BIN/psql -X -q -At -v ON_ERROR_STOP=1 -h $DIR/cluster -p $PORT"
PGBENCH="runuser -u postgres -- $PG_BIN/pgbench -h $DIR/cluster -p $PORT -n"

$PSQL -d postgres -c "CREATE DATABASE wb"
$PSQL -d wb >/dev/null <<'SQL'
CREATE EXTENSION pg_outbox;
CREATE TABLE sink (n int, at timestamptz);
CREATE FUNCTION consume(e jsonb) RETURNS void LANGUAGE sql AS
  $$ INSERT INTO sink VALUES (jsonb_array_length(e -> 'Records'), clock_timestamp()) $$;
CREATE TABLE lat (ms float8);
CREATE FUNCTION measure(e jsonb) RETURNS void LANGUAGE sql AS
  $$ INSERT INTO lat SELECT extract(epoch FROM clock_timestamp() - (r ->> 'body')::timestamptz) * 1000
       FROM jsonb_array_elements(e -> 'Records') AS r $$;
SELECT outbox.create_queue('drain');
SELECT outbox.create_queue('lat');
SELECT outbox.create_event_source_mapping('drain', 'consume(jsonb)', batch_size => 100,
       maximum_batching_window_seconds => 1, enabled => false);
SELECT outbox.create_event_source_mapping('lat', 'measure(jsonb)', batch_size => 10);
SQL

echo "== drain: $DRAIN queued messages, batch size 100, pg_outbox.max_workers = ${BENCH_WORKERS:-2}"
for c in $(seq 1 $((DRAIN / 1000))); do
	echo "SELECT count(*) FROM outbox.send_message_bodies('drain', (SELECT array_agg('message $c-' || g) FROM generate_series(1, 1000) AS g));"
done | $PSQL -d wb >/dev/null
UUID=$($PSQL -d wb -c "SELECT m ->> 'UUID' FROM outbox.list_event_source_mappings('drain') AS m")
$PSQL -d wb -c "CHECKPOINT"
START=$($PSQL -d wb -c "SELECT outbox.update_event_source_mapping('$UUID', enabled => true) IS NOT NULL; SELECT clock_timestamp()" | tail -1)
deadline=$(( $(date +%s) + 600 ))
while [ "$($PSQL -d wb -c "SELECT coalesce(sum(n), 0) >= $DRAIN FROM sink")" != t ]; do
	[ "$(date +%s)" -lt "$deadline" ] || { echo "  drain did not finish in 600 s"; break; }
	sleep 0.5
done
SECS_DRAIN=$($PSQL -d wb -c "SELECT round(extract(epoch FROM max(at) - '$START'::timestamptz)::numeric, 2) FROM sink")
DRAIN_RATE=$($PSQL -d wb -c "SELECT round(sum(n) / extract(epoch FROM max(at) - '$START'::timestamptz)) FROM sink")
echo "  drained in $SECS_DRAIN s (enable -> last batch): $DRAIN_RATE messages/s"

echo "== stream: 4 pgbench clients sending 100-message batches for ${SECS} s while the mapping consumes"
$PSQL -d wb -c "TRUNCATE sink"
cat > "$DIR/send100.sql" <<'SQL'
SELECT count(*) FROM outbox.send_message_bodies('drain', (SELECT array_agg('m' || g) FROM generate_series(1, 100) AS g));
SQL
chmod 644 "$DIR/send100.sql"
$PGBENCH -c 4 -j 2 -T "$SECS" -f "$DIR/send100.sql" wb > "$DIR/stream.txt" 2>&1
sent=$(( $(awk '/number of transactions actually processed/ { print $NF }' "$DIR/stream.txt" | cut -d/ -f1) * 100 ))
sleep 2
consumed=$($PSQL -d wb -c "SELECT coalesce(sum(n), 0) FROM sink")
left=$($PSQL -d wb -c "SELECT (outbox.get_queue_attributes('drain') ->> 'ApproximateNumberOfMessages')")
STREAM_RATE=$(( consumed / (SECS + 2) ))
echo "  sent $sent, consumed $consumed within ${SECS} s + 2 s ($STREAM_RATE messages/s consumed; $left still queued)"

# the latency test starts on an idle pool
$PSQL -d wb -c "SELECT outbox.update_event_source_mapping('$UUID', enabled => false) IS NOT NULL" >/dev/null
$PSQL -d wb -c "SELECT outbox.purge_queue('drain')" >/dev/null
sleep 1
echo "== latency: one message every 20 ms for ${SECS} s, send commit -> function start"
cat > "$DIR/lat.sql" <<'SQL'
SELECT outbox.send_message('lat', clock_timestamp()::text);
SQL
chmod 644 "$DIR/lat.sql"
$PGBENCH -c 1 -R 50 -T "$SECS" -f "$DIR/lat.sql" wb > /dev/null 2>&1
sleep 1
LAT=$($PSQL -d wb -c "SELECT count(*) || ' messages, p50 ' || round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 2)
                             || ' ms, p99 ' || round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::numeric, 2) || ' ms'
                        FROM lat")
echo "  $LAT"

echo "== idle: 10 databases with the extension and nothing to do"
for i in $(seq 1 10); do
	$PSQL -d postgres -c "CREATE DATABASE idle$i"
	$PSQL -d "idle$i" -c "CREATE EXTENSION pg_outbox"
done
sleep 5
pids=$($PSQL -d postgres -c "SELECT string_agg(pid::text, ' ') FROM pg_stat_activity WHERE backend_type IN ('pg_outbox scheduler', 'pg_outbox launcher') AND (datname IS NULL OR datname LIKE 'idle%')")
ticks() { local t=0; for p in $pids; do [ -r /proc/$p/stat ] && t=$((t + $(awk '{ print $14 + $15 }' /proc/$p/stat))); done; echo $t; }
t0=$(ticks); sleep 10; t1=$(ticks)
HZ=$(getconf CLK_TCK)
IDLE=$(awk -v a="$t0" -v b="$t1" -v hz="$HZ" 'BEGIN { printf "%.2f", (b - a) / hz }')
echo "  $(echo $pids | wc -w) processes (launcher + 10 schedulers): $IDLE CPU s in 10 s"

echo
echo "== summary"
echo "  mapping drain, batch 100:        $DRAIN_RATE messages/s (target >= 20000)"
echo "  mapping under 4 producers:       $STREAM_RATE messages/s consumed"
echo "  latency send commit -> function: $LAT (target p50 <= 5 ms)"
echo "  10 idle databases:               $IDLE CPU s in 10 s (target ~ 0)"
