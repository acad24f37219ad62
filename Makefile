# Makefile for pg_outbox (PGXS)
#
# The two commands a newcomer needs:
#   make demo   install missing packages, build, start a throw-away cluster, run the demo
#   make test   install missing packages, build with -Werror, run every suite
# Both work before any PostgreSQL development package is installed: the PGXS include
# below is skipped until pg_config can answer, and the scripts install what is missing.

EXTENSION  = pg_outbox
EXTVERSION = 0.1.0

.PHONY: demo test bench bench-patterns bench-workers bench-cli bench-topics bench-buses bench-sfn fuzz checkver
.DEFAULT_GOAL := all

demo:
	bash scripts/demo.sh

test:
	bash scripts/test.sh

bench:
	bash test/bench/run.sh

bench-patterns:
	bash test/bench/patterns.sh

bench-workers:
	bash test/bench/workers.sh

bench-cli:
	bash test/bench/cli.sh

bench-topics:
	bash test/bench/topics.sh

bench-sfn:
	bash test/bench/sfn.sh

bench-buses:
	bash test/bench/buses.sh

fuzz:
	bash test/fuzz/run.sh

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
ifneq ($(wildcard $(PGXS)),)

MODULE_big = pg_outbox

# Each room lists its own objects and install-script pieces; the order of the
# pieces is the order of the install script.
OBJS = src/pg_outbox.o
INSTALL_PIECES =
include src/core/core.mk
include src/queue/queue.mk
include src/pattern/pattern.mk
include src/worker/worker.mk
include src/topic/topic.mk
include src/bus/bus.mk
include src/sfn/sfn.mk

DATA = $(wildcard src/upgrade/$(EXTENSION)--*.sql)
DATA_built = $(EXTENSION)--$(EXTVERSION).sql
EXTRA_CLEAN = $(EXTENSION)--$(EXTVERSION).sql src/sfn/sfn_errcodes.h

PG_CPPFLAGS = -I$(srcdir)/src
# Rebuild objects when a header changes (shared-memory layouts and the
# interpreter's structs live in headers).  PGXS's own "autodepend" is reset
# by Makefile.global on servers built without --enable-depend (Debian's), so
# the compiler writes a .d file beside each object and we include them.
PG_CFLAGS = $(OUTBOX_CFLAGS) -MMD -MP

# Suites; scripts/test.sh runs them against its own preloaded cluster.
REGRESS = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql)))
ISOLATION = $(patsubst test/specs/%.spec,%,$(sort $(wildcard test/specs/*.spec)))

include $(PGXS)

-include $(OBJS:.o=.d)
EXTRA_CLEAN += $(OBJS:.o=.d)

# The command-line client (src/cli): libpq and json-c, installed beside
# psql in $(bindir).
CLI = src/cli/pg_outbox
CLI_SRCS = $(wildcard src/cli/*.c)
EXTRA_CLEAN += $(CLI)

$(CLI): $(CLI_SRCS) src/cli/cli.h
	$(CC) -O2 -g -Wall $(OUTBOX_CFLAGS) -I$(shell $(PG_CONFIG) --includedir) \
		$(shell pkg-config --cflags json-c) -o $@ $(CLI_SRCS) \
		-L$(shell $(PG_CONFIG) --libdir) -lpq $(shell pkg-config --libs json-c)

all: $(CLI)
install: install-cli
.PHONY: install-cli
install-cli: $(CLI)
	$(INSTALL_PROGRAM) $(CLI) '$(DESTDIR)$(bindir)/pg_outbox'

$(EXTENSION)--$(EXTVERSION).sql: $(INSTALL_PIECES) Makefile
	( printf -- '-- %s--%s.sql: generated from src/*/*.sql by the Makefile; edit those.\n\n' $(EXTENSION) $(EXTVERSION); \
	  printf -- '\\echo Use "CREATE EXTENSION $(EXTENSION)" to load this file. \\quit\n\n'; \
	  for f in $(INSTALL_PIECES); do printf -- '\n-- ---- %s\n' $$f; cat $$f; done ) > $@

all: checkver

# The control file, META.json and this Makefile must agree on the version.
checkver:
	@ctl=$$(sed -n "s/^default_version *= *'\(.*\)'/\1/p" $(EXTENSION).control); \
	meta=$$(sed -n 's/^ *"version" *: *"\(.*\)".*/\1/p' META.json | head -n 1); \
	if [ "$$ctl" != "$(EXTVERSION)" ] || [ "$$meta" != "$(EXTVERSION)" ]; then \
	  echo "version mismatch: Makefile $(EXTVERSION), control $$ctl, META.json $$meta" >&2; exit 1; fi

endif
