#!/usr/bin/env bash
# test/bench/run.sh (make bench): pg_outbox queues beside their peers, in one
# run on one temporary cluster, with ratios.
#
#   physical limits  plain one-row INSERT per transaction, 100-row INSERT,
#                    a hand-written DELETE ... FOR UPDATE SKIP LOCKED queue
#   PgQ              pgq.insert_event, 1 and 100 per transaction
#   pg_outbox        send 1/txn, send 100/txn, receive 1 + delete 1 (two
#                    transactions per message, as SQS), receive 100 + delete
#                    batch, mixed producers and consumers
#   plus             long-poll wake latency (commit -> receiver returns),
#                    a held-xmin soak (a snapshot held open while producers
#                    and consumers run), and the CPU of 50 idle long polls
#
# fsync and synchronous_commit stay on.  Figures print as they come, then a
# summary.  Not part of `make test`; nothing here asserts timings.
#
# The pattern engine's benchmark (test/bench/patterns.sh) and the topics'
# (test/bench/topics.sh) run next, on the same cluster, then the buses', the worker
# runtime's (test/bench/workers.sh) and the state machines' (test/bench/sfn.sh), each on a cluster
# of its own.
#
# Settings (environment): BENCH_SECONDS (10) per point, BENCH_CLIENTS
# ("1 2 4 8"), SOAK_SECONDS (120) with SOAK_EDGE_SECONDS (30) before and
# after, SOAK_CLIENTS (4), LATENCY_ROUNDS (300).
set -eu
cd "$(dirname "$0")/../.."
TOP=$(pwd)
. scripts/lib.sh

SECS=${BENCH_SECONDS:-10}
CLIENTS=${BENCH_CLIENTS:-"1 2 4 8"}
SOAK=${SOAK_SECONDS:-120}
SOAK_CLIENTS=${SOAK_CLIENTS:-4}
SOAK_EDGE=${SOAK_EDGE_SECONDS:-30}
ROUNDS=${LATENCY_ROUNDS:-300}

[ "$(id -u)" = 0 ] || { echo "run as root (it installs packages and runs the cluster as postgres)"; exit 2; }
ensure_packages postgresql-$PG_MAJOR-pgq3
build_install

DIR=$(mktemp -d /tmp/pg_outbox_bench.XXXXXX)
chmod 755 "$DIR"
PORT=$((55320 + RANDOM % 500))
trap 'cluster_stop "$DIR/cluster"; cp "$DIR/cluster/server.log" /tmp/pg_outbox_bench_last.log 2>/dev/null; [ -n "${BENCH_KEEP:-}" ] || rm -rf "$DIR"' EXIT INT TERM
cluster_start "$DIR/cluster" "$PORT" \
	"shared_buffers = 1GB" "max_wal_size = 8GB" "checkpoint_timeout = 30min" \
	"fsync = on" "synchronous_commit = on" "max_connections = 200" \
	"pg_outbox.databases = 'bench'" "autovacuum_naptime = 10s"

PSQL="runuser -u postgres -- $PG_BIN/psql -X -q -At -h $DIR/cluster -p $PORT"
PGBENCH="runuser -u postgres -- $PG_BIN/pgbench -h $DIR/cluster -p $PORT -n"
$PSQL -d postgres -c "CREATE DATABASE bench"
$PSQL -d bench >/dev/null <<'SQL'
CREATE EXTENSION pg_outbox;
CREATE EXTENSION pgq;
SELECT pgq.create_queue('bench_pgq');
CREATE TABLE bench_plain (id bigserial PRIMARY KEY, body text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE bench_skq (id bigserial PRIMARY KEY, body text NOT NULL);
CREATE TABLE bench_skq_mixed (id bigserial PRIMARY KEY, body text NOT NULL);
SELECT outbox.create_queue('bench-send');
SELECT outbox.create_queue('bench-consume');
SELECT outbox.create_queue('bench-mixed');
SELECT outbox.create_queue('bench-latency');
SELECT outbox.create_queue('bench-idle');
SQL

gcc -O2 -o "$DIR/wake_latency" test/bench/wake_latency.c -I"$($PG_BIN/pg_config --includedir)" -lpq

declare -A RATE

# point NAME SCRIPT CLIENTS MESSAGES_PER_SCRIPT -> messages per second
point() {
	local name=$1 script=$2 c=$3 per=$4 out tps
	cp "test/bench/sql/$script" "$DIR/$script"
	chmod 644 "$DIR/$script"
	out=$($PGBENCH -c "$c" -j "$c" -T "$SECS" -f "$DIR/$script" bench 2>&1) || { echo "$out" >&2; return 1; }
	tps=$(echo "$out" | sed -n 's/^tps = \([0-9.]*\) .*/\1/p')
	RATE[$name,$c]=$(awk -v t="$tps" -v p="$per" 'BEGIN { printf "%.0f", t * p }')
	printf '  %-24s %2d clients  %10s msg/s\n' "$name" "$c" "${RATE[$name,$c]}"
}

refill() {		# refill QUEUE MESSAGES
	$PSQL -d bench -c "SELECT count(*) FROM generate_series(1, ($2 + 999) / 1000) g,
		LATERAL outbox.send_message_bodies('$1', array_fill('{\"type\": \"OrderPlaced\", \"order_id\": 42}'::text, ARRAY[1000 + 0 * g]))" >/dev/null
}

settle() {
	$PSQL -d bench -c "VACUUM ANALYZE" -c "CHECKPOINT" >/dev/null
}

echo
echo "== throughput (${SECS} s per point, fsync and synchronous_commit on)"
for c in $CLIENTS; do
	settle
	point plain_insert_1 insert_1.sql "$c" 1
	point plain_insert_100 insert_100.sql "$c" 100
	point pgq_insert_1 pgq_1.sql "$c" 1
	point pgq_insert_100 pgq_100.sql "$c" 100
	point outbox_send_1 send_1.sql "$c" 1
	point outbox_send_100 send_100.sql "$c" 100
	$PSQL -d bench -c "TRUNCATE bench_skq; INSERT INTO bench_skq (body) SELECT 'x' FROM generate_series(1, 12000 * $SECS)" >/dev/null
	refill bench-consume $((12000 * SECS))
	settle
	point skip_locked_dequeue skip_locked_1.sql "$c" 1
	point outbox_receive_1_delete receive_1_delete.sql "$c" 1
	refill bench-consume $((90000 * SECS))
	settle
	point outbox_receive_100_delete receive_100_delete.sql "$c" 100
	$PSQL -d bench -c "TRUNCATE bench_plain" >/dev/null
done

best() {	# best NAME -> best rate over client counts
	local name=$1 b=0 c
	for c in $CLIENTS; do
		if [ "${RATE[$name,$c]:-0}" -gt "$b" ]; then b=${RATE[$name,$c]}; fi
	done
	echo "$b"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

echo
echo "== long-poll wake latency (${ROUNDS} rounds: sender COMMIT returns -> receiver has the message)"
read -r P50 P90 P99 PMAX < <(runuser -u postgres -- "$DIR/wake_latency" "host=$DIR/cluster port=$PORT dbname=bench" bench-latency "$ROUNDS")
echo "  p50 ${P50} ms  p90 ${P90} ms  p99 ${P99} ms  max ${PMAX} ms"

echo
echo "== idle cost: 50 sessions long-polling an empty queue for 10 s"
for i in $(seq 1 50); do
	$PSQL -d bench -c "SELECT count(*) FROM outbox.receive_message('bench-idle', 1, 30, 20)" >/dev/null &
done
sleep 3
PIDS=$($PSQL -d bench -c "SELECT string_agg(pid::text, ' ') FROM pg_stat_activity WHERE query LIKE '%bench-idle%' AND pid <> pg_backend_pid()")
ticks() { local s=0 p; for p in $PIDS; do [ -r /proc/$p/stat ] && s=$((s + $(awk '{print $14 + $15}' /proc/$p/stat))); done; echo $s; }
T0=$(ticks); sleep 10; T1=$(ticks)
IDLE_CPU=$(awk -v t=$((T1 - T0)) -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }')
echo "  $(echo $PIDS | wc -w) waiting backends used ${IDLE_CPU} CPU seconds in 10 s"
wait

# soak LABEL SEND_SCRIPT RECEIVE_SCRIPT TABLE
soak() {
	local label=$1 send=$2 recv=$3 table=$4 phase seg secs out tps size holder
	cp "test/bench/sql/$send" "test/bench/sql/$recv" "$DIR/"
	chmod 644 "$DIR/$send" "$DIR/$recv"
	echo "  $label"
	for phase in before during after; do
		if [ "$phase" = during ]; then
			$PSQL -d bench -c "BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM pg_class; SELECT pg_sleep($SOAK); COMMIT;" >/dev/null &
			holder=$!
			sleep 1
			secs=$SOAK
		else
			secs=$SOAK_EDGE
		fi
		seg=0
		while [ "$seg" -lt "$secs" ]; do
			out=$($PGBENCH -c "$SOAK_CLIENTS" -j "$SOAK_CLIENTS" -T 10 -f "$DIR/$send@1" -f "$DIR/$recv@1" bench 2>&1)
			tps=$(echo "$out" | sed -n 's/^tps = \([0-9.]*\) .*/\1/p')
			size=$($PSQL -d bench -c "SELECT pg_size_pretty(pg_total_relation_size('$table'))")
			printf '    %-7s %4ds  %8.0f scripts/s   %s = %s\n' "$phase" "$((seg + 10))" "$tps" "$table" "$size"
			echo "$label $phase $tps" >>"$DIR/soak.txt"
			seg=$((seg + 10))
		done
		if [ "$phase" = during ]; then wait "$holder"; fi
	done
}

echo
echo "== held-xmin soak: ${SOAK_CLIENTS} clients, half sending 1, half receiving up to 10 and deleting;"
echo "   a REPEATABLE READ snapshot is held for ${SOAK} s in the middle"
soak pg_outbox mixed_send.sql mixed_receive.sql outbox.message
soak skip_locked_peer mixed_skip_locked_send.sql mixed_skip_locked_receive.sql bench_skq_mixed

phase_avg() { awk -v l="$1" -v p="$2" '$0 ~ "^"l" "p" " { s += $NF; n++ } END { if (n) printf "%.0f", s / n; else print 0 }' "$DIR/soak.txt"; }

echo
echo "== summary (best over ${CLIENTS// /, } clients)"
printf '  %-34s %12s %12s %8s\n' workload "msg/s" "peer msg/s" ratio
row() { printf '  %-34s %12s %12s %8s\n' "$1" "$2" "$3" "$(ratio "$2" "$3")"; }
row "send 1/txn vs plain INSERT" "$(best outbox_send_1)" "$(best plain_insert_1)"
row "send 100/txn vs 100-row INSERT" "$(best outbox_send_100)" "$(best plain_insert_100)"
row "send 1/txn vs PgQ insert_event" "$(best outbox_send_1)" "$(best pgq_insert_1)"
row "send 100/txn vs PgQ 100/txn" "$(best outbox_send_100)" "$(best pgq_insert_100)"
row "receive 1 + delete vs SKIP LOCKED" "$(best outbox_receive_1_delete)" "$(best skip_locked_dequeue)"
row "receive 1 + delete vs target 3000" "$(best outbox_receive_1_delete)" 3000
row "receive 100 + delete vs target 50000" "$(best outbox_receive_100_delete)" 50000
echo "  long-poll wake latency: p50 ${P50} ms (target <= 1), p99 ${P99} ms (target <= 10)"
echo "  50 idle long polls: ${IDLE_CPU} CPU s in 10 s"
for l in pg_outbox skip_locked_peer; do
	b=$(phase_avg "$l" before); d=$(phase_avg "$l" during); a=$(phase_avg "$l" after)
	echo "  soak, $l: before $b, during $d ($(ratio "$d" "$b")x), after $a scripts/s"
done

echo
BENCH_CLUSTER_DIR=$DIR BENCH_PORT=$PORT bash test/bench/patterns.sh

echo
BENCH_CLUSTER_DIR=$DIR BENCH_PORT=$PORT bash test/bench/topics.sh

echo
bash test/bench/buses.sh

echo
bash test/bench/workers.sh

echo
bash test/bench/sfn.sh

echo
bash test/bench/cli.sh
