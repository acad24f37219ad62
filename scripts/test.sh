#!/usr/bin/env bash
# scripts/test.sh (make test): every suite of pg_outbox, on clusters of its own.
#
# Installs missing packages, builds with warnings as errors and assertions
# enabled, starts a
# preloaded temporary cluster, runs the pg_regress suites (sql/, expected/)
# and the isolation specs (test/specs, test/expected) against it, then the
# TAP tests (test/t), which start clusters of their own.  Ends with one line
# "N passed, N failed"; exits non-zero on any failure; stops its clusters
# even when a suite fails.
set -u
cd "$(dirname "$0")/.."
TOP=$(pwd)
. scripts/lib.sh

[ "$(id -u)" = 0 ] || { echo "run as root (it installs packages and runs clusters as postgres)"; exit 2; }
ensure_packages
build_install -DUSE_ASSERT_CHECKING || { echo "0 passed, 1 failed"; exit 1; }

WORK=$(mktemp -d /tmp/pg_outbox_test.XXXXXX)
chmod 755 "$WORK"
PORT=${PORT:-54${RANDOM:0:2}}
PORT=$((54320 + RANDOM % 500))
cleanup() { cluster_stop "$WORK/cluster"; [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"; }
trap cleanup EXIT INT TERM

passed=0
failed=0
count() {	# count FILE: pg_regress result lines
	local ok bad
	ok=$(grep -cE '^(ok|test|     ).* \.\.\. ok|^ok [0-9]+ ' "$1" || true)
	bad=$(grep -cE '\.\.\. FAILED|^not ok [0-9]+ ' "$1" || true)
	passed=$((passed + ok)); failed=$((failed + bad))
}

echo "== starting a preloaded cluster on port $PORT"
# The regression databases are not served by the scheduler, so that
# maintenance runs only where a test calls it (deterministic output); the TAP
# tests cover the workers.
cluster_start "$WORK/cluster" "$PORT" "pg_outbox.databases = 'postgres'" || { echo "0 passed, 1 failed"; exit 1; }

REGRESS=$(ls sql/*.sql 2>/dev/null | sed 's#sql/##; s#\.sql$##' | sort)
if [ -n "$REGRESS" ]; then
	echo "== pg_regress"
	mkdir -p "$WORK/regress"
	$PGXS_DIR/src/test/regress/pg_regress --host="$WORK/cluster" --port="$PORT" \
		--user=postgres --inputdir=. --outputdir="$WORK/regress" --bindir=$PG_BIN \
		--dbname=contrib_regression $REGRESS 2>&1 | tee "$WORK/regress.out"
	count "$WORK/regress.out"
	[ -f "$WORK/regress/regression.diffs" ] && cat "$WORK/regress/regression.diffs"
fi

SPECS=$(ls test/specs/*.spec 2>/dev/null | sed 's#test/specs/##; s#\.spec$##' | sort)
if [ -n "$SPECS" ]; then
	echo "== isolation"
	mkdir -p "$WORK/isolation"
	$PGXS_DIR/src/test/isolation/pg_isolation_regress --host="$WORK/cluster" --port="$PORT" \
		--user=postgres --inputdir=test --outputdir="$WORK/isolation" --bindir=$PG_BIN \
		--dbname=isolation_regression $SPECS 2>&1 | tee "$WORK/isolation.out"
	count "$WORK/isolation.out"
	[ -f "$WORK/isolation/regression.diffs" ] && cat "$WORK/isolation/regression.diffs"
fi
if [ "$failed" -gt 0 ] || grep -qE "terminated by signal|PANIC|TRAP:" "$WORK/cluster/server.log"; then
	echo "---- server log (last 60 lines)"
	tail -n 60 "$WORK/cluster/server.log"
fi
cluster_stop "$WORK/cluster"

if ls test/t/*.pl >/dev/null 2>&1; then
	echo "== TAP"
	mkdir -p "$WORK/tap"
	chown postgres:postgres "$WORK/tap"
	(cd "$WORK/tap" && runuser -u postgres -- env PATH="$PG_BIN:$PATH" TESTDIR="$WORK/tap" \
		PG_REGRESS="$PGXS_DIR/src/test/regress/pg_regress" TOP="$TOP" \
		prove -v -I "$PGXS_DIR/src/test/perl" -I "$TOP/test/perl" "$TOP"/test/t/*.pl) 2>&1 | tee "$WORK/tap.out"
	ok=$(grep -cE '^ *ok [0-9]+' "$WORK/tap.out" || true)
	bad=$(grep -cE '^ *not ok [0-9]+' "$WORK/tap.out" || true)
	if ! grep -q '^Result: PASS' "$WORK/tap.out"; then
		[ "$bad" -eq 0 ] && bad=1	# a script that died before its plan
		for f in "$WORK"/tap/tmp_check/log/*.log; do [ -f "$f" ] && { echo "---- $f"; tail -n 40 "$f"; }; done
	fi
	passed=$((passed + ok)); failed=$((failed + bad))
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
