/*-------------------------------------------------------------------------
 *
 * shmem.c
 *	  Shared memory of pg_outbox: requested and initialised the PG15 way.
 *
 * The segment holds the test clock offset, the condition variables that
 * long-polling receivers sleep on, and the scheduler slots of the launcher
 * (sized by pg_outbox.max_databases).  shmem_request_hook reserves the space,
 * shmem_startup_hook creates or attaches to it under AddinShmemInitLock and
 * initialises it only the first time (!found).  Both hooks call the hook
 * that was installed before them first.
 *
 * Nothing here is required for correctness of the synchronous API: without
 * shared_preload_libraries OutboxShared stays NULL and callers fall back
 * (long polling then re-checks on a short timer instead of being woken).
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/core/shmem.c
 *
 *-------------------------------------------------------------------------
 */
#include "pg_outbox.h"

#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"

#include "core/shmem.h"
#include "queue/queue.h"

OutboxSharedState *OutboxShared = NULL;

#if PG_VERSION_NUM >= 150000
static shmem_request_hook_type prev_shmem_request_hook = NULL;
#endif
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static Size
outbox_shmem_size(void)
{
	return MAXALIGN(add_size(offsetof(OutboxSharedState, schedulers),
							 mul_size(sizeof(OutboxSchedulerSlot), outbox_max_databases)));
}

static Size
outbox_total_shmem_size(void)
{
	return add_size(outbox_shmem_size(), queue_shared_shmem_size());
}

#if PG_VERSION_NUM >= 150000
static void
outbox_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();

	RequestAddinShmemSpace(outbox_total_shmem_size());
}
#endif

static void
outbox_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	OutboxShared = ShmemInitStruct("pg_outbox", outbox_shmem_size(), &found);
	if (!found)
	{
		int			i;

		memset(OutboxShared, 0, outbox_shmem_size());
		pg_atomic_init_u64(&OutboxShared->clock_offset_us, 0);
		SpinLockInit(&OutboxShared->scheduler_lock);
		for (i = 0; i < OUTBOX_WAIT_BUCKETS; i++)
		{
			ConditionVariableInit(&OutboxShared->queue_wake[i]);
			pg_atomic_init_u64(&OutboxShared->queue_generation[i], 0);
		}
		for (i = 0; i < outbox_max_databases; i++)
		{
			OutboxSchedulerSlot *slot = &OutboxShared->schedulers[i];

			pg_atomic_init_u32(&slot->wake_on_send, 0);
			for (int c = 0; c < 3; c++)
				pg_atomic_init_u64(&slot->counters[c], 0);
		}
	}
	queue_shared_shmem_init();
	LWLockRelease(AddinShmemInitLock);
}

void
outbox_shmem_install_hooks(void)
{
#if PG_VERSION_NUM >= 150000
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = outbox_shmem_request;
#else
	RequestAddinShmemSpace(outbox_total_shmem_size());
#endif
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = outbox_shmem_startup;
}
