#!/usr/bin/env bash
# test/bench/buses.sh (make bench-buses; also part of make bench): put_events
# against buses of 10, 100 and 1,000 rules.
#
# Each rule matches one "kind" of order event ({"source", "detail-type"
# prefix, "detail.kind", "detail.amount" numeric}) and sends it to a queue;
# the events' kinds are drawn from 100 times as many values as there are
# rules, so about 1% of events match one rule.  Each pgbench transaction is
# one put_events call of 10 entries whose Detail is a ~150-byte JSON string,
# as EventBridge clients send it.  Reported: events/s for 1 and 2 clients,
# microseconds per event, and the cost per event at 1,000 rules over the
# cost at 10.  synchronous_commit is off so the figures show CPU (each
# call is one commit either way).  Nothing here asserts timings.
set -eu
cd "$(dirname "$0")/../.."
. scripts/lib.sh

SECS=${BENCH_SECONDS:-10}
[ "$(id -u)" = 0 ] || { echo "run as root (it installs packages and runs the cluster as postgres)"; exit 2; }
if [ -z "${BENCH_CLUSTER_DIR:-}" ]; then
	ensure_packages
	build_install
	DIR=$(mktemp -d /tmp/pg_outbox_bbench.XXXXXX)
	chmod 755 "$DIR"
	PORT=$((56820 + RANDOM % 500))
	trap 'cluster_stop "$DIR/cluster"; rm -rf "$DIR"' EXIT INT TERM
	cluster_start "$DIR/cluster" "$PORT" "shared_buffers = 512MB" "max_wal_size = 8GB" \
		"pg_outbox.databases = 'bench'" "pg_outbox.max_rules_per_bus = 2000"
else
	DIR=$BENCH_CLUSTER_DIR
	PORT=$BENCH_PORT
fi
PSQL="runuser -u postgres -- $PG_BIN/psql -X -q -At -h $DIR/cluster -p $PORT"
PGBENCH="runuser -u postgres -- env PGOPTIONS=-csynchronous_commit=off $PG_BIN/pgbench -h $DIR/cluster -p $PORT -n"
$PSQL -d postgres -c "DROP DATABASE IF EXISTS bench_buses" -c "CREATE DATABASE bench_buses"
$PSQL -d bench_buses -c "CREATE EXTENSION pg_outbox" -c "SET pg_outbox.max_rules_per_bus = 2000" >/dev/null 2>&1 || true
$PSQL -d bench_buses -c "ALTER DATABASE bench_buses SET pg_outbox.max_rules_per_bus = 2000" >/dev/null

setup_bus() {	# setup_bus N: bus bN with N rules, each with one queue target
	local n=$1
	$PSQL -d bench_buses >/dev/null <<SQL
SELECT outbox.create_event_bus('b$n');
SELECT outbox.create_queue('b$n-matched');
SELECT outbox.put_rule('r' || i, 'b$n', jsonb_build_object(
         'source', jsonb_build_array('app.orders'),
         'detail-type', jsonb_build_array(jsonb_build_object('prefix', 'Order')),
         'detail', jsonb_build_object('kind', jsonb_build_array('k' || i),
                                      'amount', jsonb_build_array(jsonb_build_object('numeric', jsonb_build_array('>', 0))))))
  FROM generate_series(0, $n - 1) i;
SELECT outbox.put_targets('r' || i, '[{"Id": "q", "Arn": "arn:aws:sqs:local:000000000000:b$n-matched"}]', 'b$n')
  FROM generate_series(0, $n - 1) i;
SQL
	{
		for e in $(seq 1 10); do echo "\\set k$e random(0, $((n * 100 - 1)))"; done
		printf "SELECT count(*) FROM outbox.put_events(jsonb_build_array("
		for e in $(seq 1 10); do
			[ "$e" -gt 1 ] && printf ", "
			printf "jsonb_build_object('EventBusName', 'b%s', 'Source', 'app.orders', 'DetailType', 'OrderPlaced', 'Detail', format('{\"kind\": \"k%%s\", \"amount\": 42.5, \"customer\": \"c-1234\", \"items\": [{\"sku\": \"A-1\", \"qty\": 2}, {\"sku\": \"B-7\", \"qty\": 1}]}', :k%s))" "$n" "$e"
		done
		echo "));"
	} >"$DIR/put_$n.sql"
	chmod 644 "$DIR/put_$n.sql"
}

declare -A EPS
echo "== event buses: put_events of 10 entries, ${SECS} s per point, synchronous_commit off"
for n in 10 100 1000; do
	setup_bus "$n"
	$PGBENCH -c 1 -T 2 -f "$DIR/put_$n.sql" bench_buses >/dev/null 2>&1	# warm-up
	for c in 1 2; do
		out=$($PGBENCH -c "$c" -j "$c" -T "$SECS" -f "$DIR/put_$n.sql" bench_buses 2>&1) || { echo "$out" >&2; exit 1; }
		tps=$(echo "$out" | sed -n 's/^tps = \([0-9.]*\) .*/\1/p')
		EPS[$n,$c]=$(awk -v t="$tps" 'BEGIN { printf "%.0f", t * 10 }')
	done
	matched=$($PSQL -d bench_buses -c "SELECT (outbox.get_queue_attributes('b$n-matched') ->> 'ApproximateNumberOfMessages')")
	printf '  %5d rules: %8s events/s (1 client, %.1f us/event), %8s events/s (2 clients); %s events matched\n' \
		"$n" "${EPS[$n,1]}" "$(awk -v e="${EPS[$n,1]}" 'BEGIN { print 1e6 / e }')" "${EPS[$n,2]}" "$matched"
done
awk -v a="${EPS[10,1]}" -v b="${EPS[1000,1]}" 'BEGIN {
	printf "  cost per event at 1,000 rules / at 10 rules: %.2f (1 client)\n", a / b }'
