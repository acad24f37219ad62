# worker: the launcher, the per-database schedulers and their worker pools,
# function invocations, event source mappings and due items
OBJS += src/worker/launcher.o src/worker/scheduler.o src/worker/pool.o \
	src/worker/invoke.o src/worker/due.o src/worker/mapping.o
INSTALL_PIECES += src/worker/worker.sql
