# worker: the launcher and the per-database schedulers
OBJS += src/worker/launcher.o src/worker/scheduler.o
