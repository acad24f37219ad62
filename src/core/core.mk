# core: shared memory, the clock, security helpers, the schema itself
OBJS += src/core/shmem.o src/core/clock.o src/core/security.o src/core/cache.o src/core/jsonb_util.o src/core/spi_plan.o src/core/acl.o src/core/json_path.o
INSTALL_PIECES += src/core/core.sql
