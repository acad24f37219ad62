#!/usr/bin/env bash
# test/bench/sfn.sh (make bench-sfn; also part of make bench): state machine
# executions.
#
#   starts       start_execution of a 10-state machine, one per transaction
#                (pgbench, 1 and 2 clients), in a database the workers do not
#                serve, so only the start is measured
#   transitions  STANDARD executions of the same machine (Pass, Choice and
#                SQL-function Task states) run by the background workers:
#                N executions started in one transaction, timed until the
#                last one ends; every state entered is one transition, each
#                its own transaction
#   express      start_sync_execution of a 100-Pass-state EXPRESS machine
#                inline (pgbench), transitions per second
#
# The peer is AWS's own default quota: 4,000 state transitions/s and 2,000
# StartExecution/s per account (the issue's targets), shown as ratios.
# synchronous_commit is off for the clients and the workers (each step is
# a commit; the figures show CPU).  Nothing here asserts timings.
set -eu
cd "$(dirname "$0")/../.."
. scripts/lib.sh

SECS=${BENCH_SECONDS:-10}
EXECUTIONS=${BENCH_EXECUTIONS:-10000}
[ "$(id -u)" = 0 ] || { echo "run as root (it installs packages and runs the cluster as postgres)"; exit 2; }
if [ -z "${BENCH_CLUSTER_DIR:-}" ]; then
	ensure_packages
	build_install
	DIR=$(mktemp -d /tmp/pg_outbox_sbench.XXXXXX)
	chmod 755 "$DIR"
	PORT=$((57320 + RANDOM % 500))
	trap 'cluster_stop "$DIR/cluster"; rm -rf "$DIR"' EXIT INT TERM
	cluster_start "$DIR/cluster" "$PORT" "shared_buffers = 512MB" "max_wal_size = 8GB" \
		"pg_outbox.databases = 'bench_sfn'" "synchronous_commit = off" "pg_outbox.max_workers = ${BENCH_WORKERS:-2}"
else
	DIR=$BENCH_CLUSTER_DIR
	PORT=$BENCH_PORT
fi
PSQL="runuser -u postgres -- $PG_BIN/psql -X -q -At -h $DIR/cluster -p $PORT"
PGBENCH="runuser -u postgres -- env PGOPTIONS=-csynchronous_commit=off $PG_BIN/pgbench -h $DIR/cluster -p $PORT -n"

MACHINE='{"StartAt": "S1", "States": {
  "S1": {"Type": "Pass", "Parameters": {"n.$": "$.n", "tag": "bench"}, "Next": "S2"},
  "S2": {"Type": "Task", "Resource": "function:public.bench_step", "Next": "S3"},
  "S3": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericGreaterThan": 0, "Next": "S4"}], "Default": "S10"},
  "S4": {"Type": "Pass", "Next": "S5"},
  "S5": {"Type": "Task", "Resource": "function:public.bench_step", "Next": "S6"},
  "S6": {"Type": "Choice", "Choices": [{"Variable": "$.tag", "StringEquals": "bench", "Next": "S7"}], "Default": "S10"},
  "S7": {"Type": "Pass", "ResultPath": "$.seen", "Result": true, "Next": "S8"},
  "S8": {"Type": "Task", "Resource": "function:public.bench_step", "Next": "S9"},
  "S9": {"Type": "Pass", "OutputPath": "$.n", "Next": "S10"},
  "S10": {"Type": "Succeed"}}}'

setup_db() {	# setup_db DB
	$PSQL -d postgres -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1"
	$PSQL -d "$1" >/dev/null <<SQL
CREATE EXTENSION pg_outbox;
CREATE FUNCTION public.bench_step(p jsonb) RETURNS jsonb LANGUAGE sql
  AS \$\$ SELECT p || jsonb_build_object('n', (p->>'n')::int + 1) \$\$;
SELECT outbox.create_state_machine('m10', '$MACHINE');
SELECT outbox.create_state_machine('x100', jsonb_build_object('StartAt', 'P1', 'States',
  (SELECT jsonb_object_agg('P' || i, CASE WHEN i < 100 THEN jsonb_build_object('Type', 'Pass', 'Next', 'P' || (i + 1))
                                         ELSE jsonb_build_object('Type', 'Pass', 'End', true) END)
     FROM generate_series(1, 100) i)), 'EXPRESS');
SQL
}

setup_db bench_sfn_starts	# not served by the workers
setup_db bench_sfn
echo "SELECT outbox.start_execution('m10', '{\"n\": 1}');" >"$DIR/start.sql"
echo "SELECT outbox.start_sync_execution('x100', '{\"n\": 1}') ->> 'status';" >"$DIR/express.sql"
chmod 644 "$DIR"/*.sql

echo "== state machines (synchronous_commit off, ${SECS} s per point)"
declare -A STARTS
for c in 1 2; do
	out=$($PGBENCH -c "$c" -j "$c" -T "$SECS" -f "$DIR/start.sql" bench_sfn_starts 2>&1) || { echo "$out" >&2; exit 1; }
	STARTS[$c]=$(echo "$out" | sed -n 's/^tps = \([0-9.]*\) .*/\1/p' | awk '{ printf "%.0f", $1 }')
	printf '  start_execution: %6s starts/s (%d client%s)\n' "${STARTS[$c]}" "$c" "$([ "$c" = 1 ] || echo s)"
done

# transitions: N executions in one transaction, then wait for the workers
t0=$(date +%s.%N)
$PSQL -d bench_sfn -c "SELECT count(outbox.start_execution('m10', jsonb_build_object('n', i))) FROM generate_series(1, $EXECUTIONS) i" >/dev/null
while :; do
	left=$($PSQL -d bench_sfn -c "SELECT count(*) FROM outbox.execution WHERE status = 'RUNNING'")
	[ "$left" = 0 ] && break
	sleep 0.2
done
t1=$(date +%s.%N)
read -r transitions failed <<<"$($PSQL -d bench_sfn -F ' ' -c "SELECT (SELECT count(*) FROM outbox.execution_event WHERE type LIKE '%StateEntered'), (SELECT count(*) FROM outbox.execution WHERE status <> 'SUCCEEDED')")"
TPS=$(awk -v n="$transitions" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')
printf '  STANDARD: %d executions, %d transitions in %.1f s: %s transitions/s (%d not SUCCEEDED)\n' \
	"$EXECUTIONS" "$transitions" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" "$TPS" "$failed"

out=$($PGBENCH -c 1 -T "$SECS" -f "$DIR/express.sql" bench_sfn_starts 2>&1) || { echo "$out" >&2; exit 1; }
XTPS=$(echo "$out" | sed -n 's/^tps = \([0-9.]*\) .*/\1/p')
XT=$(awk -v t="$XTPS" 'BEGIN { printf "%.0f", t * 100 }')
printf '  EXPRESS start_sync_execution, 100 Pass states: %s executions/s = %s transitions/s (1 client)\n' \
	"$(awk -v t="$XTPS" 'BEGIN { printf "%.0f", t }')" "$XT"

echo "  ratios to the targets: transitions $(awk -v t="$TPS" 'BEGIN { printf "%.2f", t / 4000 }') (4,000/s)," \
	"starts $(awk -v t="${STARTS[1]}" 'BEGIN { printf "%.2f", t / 2000 }') (2,000/s, 1 client)," \
	"express $(awk -v t="$XT" 'BEGIN { printf "%.2f", t / 100000 }') (100,000/s)"
