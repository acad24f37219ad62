# scripts/lib.sh: shared by demo.sh, test.sh and the benchmarks.
#
# ensure_packages   installs what is missing (apt-get update first)
# build_install     builds with the project's warning flags and installs
# cluster_start DIR PORT [extra conf lines]   a throw-away cluster as user postgres
# cluster_stop DIR
#
# initdb and postgres refuse to run as root, so clusters run as "postgres".

PG_MAJOR=${PG_MAJOR:-15}
PG_BIN=/usr/lib/postgresql/$PG_MAJOR/bin
PGXS_DIR=/usr/lib/postgresql/$PG_MAJOR/lib/pgxs
OUTBOX_WARNINGS="-Wall -Wextra -Werror -Wno-unused-parameter -Wno-sign-compare -Wno-missing-field-initializers"

as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

ensure_packages() {
	local wanted="postgresql-$PG_MAJOR postgresql-server-dev-$PG_MAJOR postgresql-client-$PG_MAJOR
		libpq-dev libjson-c-dev libipc-run-perl make gcc pkg-config $*"
	local missing=""
	for p in $wanted; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
	done
	if [ -n "$missing" ]; then
		echo "== installing:$missing"
		as_root apt-get update -qq
		# the Debian postgresql package would start a cluster on 5432; we do not need it
		as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
	fi
}

# build_install [extra CFLAGS]: the test command passes -DUSE_ASSERT_CHECKING,
# which works against Debian's (non-assert) server: ExceptionalCondition is
# always there.
build_install() {
	local cflags="$OUTBOX_WARNINGS ${1:-}"
	echo "== building pg_outbox (warnings are errors${1:+; $1})"
	# one build at a time in this tree (helpers and suites may run side by side)
	(
		flock 9
		make -s clean >/dev/null 2>&1 || true
		make -s PG_CONFIG=$PG_BIN/pg_config OUTBOX_CFLAGS="$cflags" &&
		as_root make -s PG_CONFIG=$PG_BIN/pg_config OUTBOX_CFLAGS="$cflags" install >/dev/null
	) 9>/tmp/pg_outbox_build.lock
}

cluster_start() {
	local dir=$1 port=$2
	shift 2
	mkdir -p "$dir"
	chown postgres:postgres "$dir" 2>/dev/null || true
	chmod 700 "$dir"
	runuser -u postgres -- $PG_BIN/initdb -D "$dir/data" -A trust -U postgres --no-sync >"$dir/initdb.log" 2>&1 \
		|| { cat "$dir/initdb.log"; return 1; }
	cat >>"$dir/data/postgresql.conf" <<CONF
port = $port
listen_addresses = ''
unix_socket_directories = '$dir'
shared_preload_libraries = 'pg_outbox'
max_connections = 120
CONF
	for line in "$@"; do echo "$line" >>"$dir/data/postgresql.conf"; done
	runuser -u postgres -- $PG_BIN/pg_ctl -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null \
		|| { cat "$dir/server.log"; return 1; }
}

cluster_stop() {
	local dir=$1
	# a stale pid file (the server is already gone) must not stop a "set -e" caller
	if [ -f "$dir/data/postmaster.pid" ]; then
		runuser -u postgres -- $PG_BIN/pg_ctl -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
	fi
	return 0
}
