#!/usr/bin/env bash
# test/fuzz/run.sh (make fuzz): the long random-input run of the pattern
# engine, outside the test command.  FUZZ_ITERATIONS (default 100000) calls
# with a random seed (FUZZ_SEED to repeat one) on a throw-away cluster built
# with assertions; prints the seed, the outcome counts, any unexpected
# error and the slowest call.  Exits non-zero on an unexpected error or a
# crash.
set -u
cd "$(dirname "$0")/../.."
. scripts/lib.sh

[ "$(id -u)" = 0 ] || { echo "run as root (it installs packages and runs clusters as postgres)"; exit 2; }
ensure_packages
build_install -DUSE_ASSERT_CHECKING || exit 1

WORK=$(mktemp -d /tmp/pg_outbox_fuzz.XXXXXX)
chmod 755 "$WORK"
PORT=$((55320 + RANDOM % 500))
trap 'cluster_stop "$WORK/cluster"; rm -rf "$WORK"' EXIT INT TERM
cluster_start "$WORK/cluster" "$PORT" "pg_outbox.databases = 'postgres'" || exit 1

ITER=${FUZZ_ITERATIONS:-100000}
SEED=${FUZZ_SEED:-0.$RANDOM$RANDOM}
echo "== pattern fuzz: $ITER calls, seed $SEED"
runuser -u postgres -- $PG_BIN/psql -X -q -v ON_ERROR_STOP=1 -h "$WORK/cluster" -p "$PORT" -d postgres <<SQL
SET client_min_messages = warning;
CREATE EXTENSION pg_outbox;
\set seed $SEED
SET fz.iterations = $ITER;
\i test/fuzz/pattern_fuzz.sql
\pset footer off
SELECT kind, sqlstate, count(*) FROM fz_log GROUP BY 1, 2 ORDER BY 1, 2;
SELECT current_setting('fz.slowest') AS slowest_call;
SELECT sqlstate, message, input FROM fz_log WHERE kind = 'unexpected' LIMIT 20;
DO \$\$ BEGIN
  IF EXISTS (SELECT FROM fz_log WHERE kind = 'unexpected') THEN RAISE EXCEPTION 'unexpected outcomes'; END IF;
END \$\$;
SQL
status=$?
[ $status = 0 ] && echo "fuzz: no unexpected outcome" || { echo "fuzz: FAILED (seed $SEED)"; tail -n 50 "$WORK/cluster/server.log"; }
exit $status
