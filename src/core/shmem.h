/*-------------------------------------------------------------------------
 *
 * shmem.h
 *	  The one shared-memory segment of pg_outbox.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/core/shmem.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef OUTBOX_SHMEM_H
#define OUTBOX_SHMEM_H

#include "port/atomics.h"
#include "storage/condition_variable.h"
#include "storage/spin.h"

#include "worker/worker.h"

/*
 * Long-poll receivers sleep on one of these condition variables, chosen by
 * hashing (database, queue).  A collision only costs a spurious wake-up.
 */
#define OUTBOX_WAIT_BUCKETS 256

typedef struct OutboxSharedState
{
	/* test clock: microseconds added to the real time by outbox_now() */
	pg_atomic_uint64 clock_offset_us;
	ConditionVariable queue_wake[OUTBOX_WAIT_BUCKETS];
	pg_atomic_uint64 queue_generation[OUTBOX_WAIT_BUCKETS];

	/* background workers: see src/worker/launcher.c */
	pid_t		launcher_pid;
	slock_t		scheduler_lock;
	OutboxSchedulerSlot schedulers[FLEXIBLE_ARRAY_MEMBER];	/* pg_outbox.max_databases */
} OutboxSharedState;

/* NULL unless loaded through shared_preload_libraries */
extern OutboxSharedState *OutboxShared;

extern void outbox_shmem_install_hooks(void);

#endif							/* OUTBOX_SHMEM_H */
