#!/usr/bin/env bash
# scripts/demo.sh (make demo): the pg_outbox demo on a cluster of its own.
#
# Installs missing packages, builds and installs pg_outbox, starts a
# temporary cluster (as user postgres, with shared_preload_libraries =
# 'pg_outbox') and runs scripts/demo.sql against it.  The cluster keeps
# running afterwards so you can connect and play; the last lines say how to
# connect and how to stop it.
set -eu
cd "$(dirname "$0")/.."
. scripts/lib.sh

[ "$(id -u)" = 0 ] || { echo "run as root (it installs packages and runs the cluster as postgres)"; exit 2; }
ensure_packages
build_install

DIR=${DEMO_DIR:-/tmp/pg_outbox_demo}
PORT=${DEMO_PORT:-5433}
cluster_stop "$DIR"
rm -rf "$DIR"
echo "== starting a cluster in $DIR on port $PORT"
cluster_start "$DIR" "$PORT"

runuser -u postgres -- psql -X -q -h "$DIR" -p "$PORT" -d postgres -f scripts/demo.sql

cat <<MSG

== The demo cluster is still running.
   connect:  psql -h $DIR -p $PORT -U postgres
   stop:     runuser -u postgres -- $PG_BIN/pg_ctl -D $DIR/data stop
MSG
