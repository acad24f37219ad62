#!/usr/bin/env bash
# test/bench/topics.sh (make bench-topics; also part of make bench): the cost
# of a publish beside the cost of the sends it replaces.
#
# Topics with 1, 10 and 100 queue subscriptions; with 10 and 100, half of
# them have a filter policy the message does not match, so 1, 5 and 50
# subscriptions receive it (the SNS envelope, ~700 bytes).  Each point is one
# pgbench client running, per transaction:
#
#   publish_N    one outbox.publish to the topic of N subscriptions
#   send_M       M outbox.send_message calls with an envelope-sized body,
#                one to each queue the publish reaches (the same work done
#                by hand)
#   filtered_N   one publish to a topic whose N subscriptions all filter the
#                message out (matching only: the filter evaluation's cost)
#   publish_0    one publish to a topic without subscriptions
#
# Reported: transactions/s, messages delivered/s, the ratio publish/send
# (<= 1 means publishing costs no more than sending by hand) and the filter
# share: (filtered_N - publish_0) / publish_N in time per transaction.
# synchronous_commit is off so the figures show CPU, not the WAL flush that
# both sides pay equally.  Nothing here asserts timings.
set -eu
cd "$(dirname "$0")/../.."
. scripts/lib.sh

SECS=${BENCH_SECONDS:-10}
[ "$(id -u)" = 0 ] || { echo "run as root (it installs packages and runs the cluster as postgres)"; exit 2; }
if [ -z "${BENCH_CLUSTER_DIR:-}" ]; then
	ensure_packages
	build_install
	DIR=$(mktemp -d /tmp/pg_outbox_tbench.XXXXXX)
	chmod 755 "$DIR"
	PORT=$((56320 + RANDOM % 500))
	trap 'cluster_stop "$DIR/cluster"; rm -rf "$DIR"' EXIT INT TERM
	cluster_start "$DIR/cluster" "$PORT" "shared_buffers = 512MB" "max_wal_size = 8GB" \
		"pg_outbox.databases = 'bench'"
else
	DIR=$BENCH_CLUSTER_DIR
	PORT=$BENCH_PORT
fi
PSQL="runuser -u postgres -- $PG_BIN/psql -X -q -At -h $DIR/cluster -p $PORT"
PGBENCH="runuser -u postgres -- env PGOPTIONS=-csynchronous_commit=off $PG_BIN/pgbench -h $DIR/cluster -p $PORT -n"
$PSQL -d postgres -c "DROP DATABASE IF EXISTS bench_topics" -c "CREATE DATABASE bench_topics"

ATTRS='{"kind": {"DataType": "String", "StringValue": "order"}, "region": {"DataType": "String", "StringValue": "eu-west"}}'
MSG='{"type": "OrderPlaced", "order_id": 42, "customer": "c-1234", "total": 118.5, "items": [{"sku": "A-1", "qty": 2}, {"sku": "B-7", "qty": 1}]}'

# topic tN with N subscriptions to queues tN-q1..; the even ones filter the message out
$PSQL -d bench_topics >/dev/null <<SQL
CREATE EXTENSION pg_outbox;
SELECT outbox.create_topic('t0');
SELECT outbox.create_topic('t' || n) FROM unnest(ARRAY[1, 10, 100]) n;
SELECT outbox.create_topic('f100');
SELECT outbox.create_queue('t' || n || '-q' || i) FROM unnest(ARRAY[1, 10, 100]) n, generate_series(1, n) i;
SELECT outbox.create_queue('f100-q' || i) FROM generate_series(1, 100) i;
SELECT outbox.subscribe('t' || n, 'sqs', 't' || n || '-q' || i,
         CASE WHEN n > 1 AND i % 2 = 0 THEN '{"FilterPolicy": {"kind": ["refund"], "region": [{"prefix": "us-"}]}}'
              WHEN n > 1 THEN '{"FilterPolicy": {"kind": ["order"], "region": [{"prefix": "eu-"}]}}'
              ELSE '{}' END::jsonb)
  FROM unnest(ARRAY[1, 10, 100]) n, generate_series(1, n) i;
SELECT outbox.subscribe('f100', 'sqs', 'f100-q' || i, '{"FilterPolicy": {"kind": ["refund"], "region": [{"prefix": "us-"}]}}')
  FROM generate_series(1, 100) i;
SQL
# an envelope as the publish writes it, for the hand-made sends
ENVELOPE=$($PSQL -d bench_topics -c "SELECT outbox.publish('t1', \$m\$$MSG\$m\$, NULL, '$ATTRS')" >/dev/null;
	$PSQL -d bench_topics -c "SELECT body FROM outbox.receive_message('t1-q1', 1)")
echo "== topics: envelope of ${#ENVELOPE} bytes; ${SECS} s per point, 1 client, synchronous_commit off"

script() {	# script NAME: the pgbench script for one point
	local f="$DIR/$1.sql" n
	case $1 in
	publish_*) n=${1#publish_}
		echo "SELECT outbox.publish('t$n', \$m\$$MSG\$m\$, NULL, '$ATTRS');" >"$f" ;;
	filtered_*) echo "SELECT outbox.publish('f100', \$m\$$MSG\$m\$, NULL, '$ATTRS');" >"$f" ;;
	send_*) n=${1#send_}
		{ echo "BEGIN;"
		  for i in $(seq 1 2 $((n == 1 ? 1 : 2 * n))); do
			echo "SELECT outbox.send_message('t$((n == 1 ? 1 : 2 * n))-q$i', \$e\$$ENVELOPE\$e\$);"
		  done
		  echo "COMMIT;"; } >"$f" ;;
	esac
	chmod 644 "$f"
}

declare -A TPS
run() {		# run NAME
	local out
	script "$1"
	$PSQL -d bench_topics -c "SELECT outbox.purge_queue(queue_name) FROM outbox.list_queues()" >/dev/null 2>&1 || true
	$PSQL -d bench_topics -c "VACUUM" >/dev/null
	out=$($PGBENCH -c 1 -T "$SECS" -f "$DIR/$1.sql" bench_topics 2>&1) || { echo "$out" >&2; return 1; }
	TPS[$1]=$(echo "$out" | sed -n 's/^tps = \([0-9.]*\) .*/\1/p')
}

run publish_0
for n in 1 10 100; do
	m=$(( n == 1 ? 1 : n / 2 ))
	run "publish_$n"
	run "send_$m"
	awk -v n="$n" -v m="$m" -v p="${TPS[publish_$n]}" -v s="${TPS[send_$m]}" 'BEGIN {
		printf "  %3d subscriptions, %2d matching: publish %8.0f tx/s (%8.0f msg/s)   %2d sends %8.0f tx/s   publish/sends cost %.2f\n",
			n, m, p, p * m, m, s, s / p }'
done
run filtered_100
awk -v f="${TPS[filtered_100]}" -v z="${TPS[publish_0]}" -v p="${TPS[publish_100]}" 'BEGIN {
	printf "  filter evaluation: 100 policies, none matching %.0f tx/s, no subscriptions %.0f tx/s: %.1f us per publish = %.1f%% of the 100-subscription publish\n",
		f, z, (1e6 / f - 1e6 / z), 100 * (1e6 / f - 1e6 / z) / (1e6 / p) }'
