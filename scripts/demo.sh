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

echo
echo "== the command-line client: a shell consumer for the same queues"
CLI="$PG_BIN/pg_outbox -h $DIR -p $PORT -U postgres -d postgres"
runuser -u postgres -- psql -X -q -h "$DIR" -p "$PORT" -d postgres -c "SELECT outbox.create_queue('demo-cli')" >/dev/null
$CLI -q send demo-cli 'first from the shell'
$CLI -q send demo-cli 'second from the shell' --attr color=green
$CLI queues --prefix demo-cli
$CLI consume demo-cli --wait 0 --exit-when-empty -- \
	sh -c 'printf "   consumed: %s (color %s)\n" "$(cat)" "${OUTBOX_ATTR_COLOR:-none}"'

echo
echo "== the command-line client and state machines: the order workflow, drawn and run"
$CLI sfn graph fulfil --format mermaid | head -12
echo "   ..."
$CLI sfn start fulfil '{"sku": "book", "qty": 1}' --name order-d --wait
$CLI sfn history arn:aws:states:local:000000000000:execution:fulfil:order-d | head -8

cat <<MSG

== The demo cluster is still running.
   connect:  psql -h $DIR -p $PORT -U postgres
   the CLI:  PATH=$PG_BIN:\$PATH pg_outbox -h $DIR -p $PORT -U postgres queues
             PATH=$PG_BIN:\$PATH pg_outbox -h $DIR -p $PORT -U postgres sfn watch ARN
   stop:     runuser -u postgres -- $PG_BIN/pg_ctl -D $DIR/data stop
MSG
