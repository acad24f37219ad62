/*-------------------------------------------------------------------------
 *
 * queue_wait.c
 *	  Long polling: receivers sleep until a sender's transaction commits.
 *
 * Protocol.  Shared memory holds OUTBOX_WAIT_BUCKETS condition variables,
 * each with a generation counter; a queue maps to bucket hash(db, queue).
 *
 *	 sender:   send_message notes the queue in a backend-local list.  At
 *			   XACT_EVENT_COMMIT the transaction callback bumps each noted
 *			   bucket's generation and broadcasts its condition variable.
 *			   An aborted transaction clears the list: nobody wakes for a
 *			   message that was never committed, and nobody wakes before
 *			   the message is visible (PostgreSQL's launcher wakes the
 *			   logical replication launcher the same way).
 *
 *	 receiver: reads the generation, tries to receive; if nothing is there
 *			   and the generation has not moved, sleeps on the condition
 *			   variable until woken, until the next delayed or in-flight
 *			   message of the queue is due, or until its wait time is up.
 *			   Reading the generation first closes the window between "found
 *			   nothing" and "went to sleep".
 *
 * A sleeping receiver must not hold back the xmin horizon (a long poll of
 * 20 s in a busy database would stop vacuum of every table for 20 s).  In
 * READ COMMITTED every query of the receive takes a new snapshot; the only
 * one held while sleeping is the calling statement's, which the receive
 * does not use again.  So before sleeping we clear MyProc->xmin, as
 * SnapshotResetXmin would if that snapshot were gone; the next snapshot
 * sets it again.  The result rows are built from the receive's own
 * snapshots.  REPEATABLE READ and SERIALIZABLE transactions keep one
 * snapshot for their whole life, so long polling is refused there.
 *
 * Without shared_preload_libraries there is no shared memory: the
 * receiver then re-checks every 50 ms instead of being woken.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/queue/queue_wait.c
 *
 *-------------------------------------------------------------------------
 */
#include "pg_outbox.h"

#include "access/xact.h"
#include "common/hashfn.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/proc.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "core/clock.h"
#include "core/shmem.h"
#include "queue/queue.h"
#include "worker/worker.h"

#define MAX_PENDING_WAKEUPS 16

/* queues sent to by the current transaction; -1 = too many, wake all */
static int32 pending_wakeups[MAX_PENDING_WAKEUPS];
static int	n_pending_wakeups = 0;

/* Generation counters live beside the condition variables. */
static pg_atomic_uint64 *bucket_generation(int bucket);

static inline int
wake_bucket(int32 queue_id)
{
	uint32		key[2];

	key[0] = MyDatabaseId;
	key[1] = (uint32) queue_id;
	return (int) (hash_bytes((const unsigned char *) key, sizeof(key)) % OUTBOX_WAIT_BUCKETS);
}

static pg_atomic_uint64 *
bucket_generation(int bucket)
{
	return &OutboxShared->queue_generation[bucket];
}

static void
wake_bucket_now(int bucket)
{
	pg_atomic_fetch_add_u64(bucket_generation(bucket), 1);
	ConditionVariableBroadcast(&OutboxShared->queue_wake[bucket]);
}

static void
queue_xact_callback(XactEvent event, void *arg)
{
	int			i;

	if (event == XACT_EVENT_PRE_PREPARE && queue_cursor_has_intents())
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot prepare a transaction that sent pg_outbox messages")));
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT ||
		event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
	{
		queue_cursor_at_xact_end();
		queue_stats_at_xact_end(event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT);
	}

	if (n_pending_wakeups == 0)
		return;
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
			if (OutboxShared == NULL)
				break;
			if (n_pending_wakeups < 0)
			{
				for (i = 0; i < OUTBOX_WAIT_BUCKETS; i++)
					wake_bucket_now(i);
			}
			else
			{
				for (i = 0; i < n_pending_wakeups; i++)
					wake_bucket_now(wake_bucket(pending_wakeups[i]));
			}
			n_pending_wakeups = 0;
			/* event source mappings of this database consume at commit too */
			outbox_worker_notify_send();
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			/* a prepared transaction commits elsewhere; waiters re-check on their timer */
			n_pending_wakeups = 0;
			break;
		default:
			break;
	}
}

void
queue_wait_init(void)
{
	RegisterXactCallback(queue_xact_callback, NULL);
}

/* Note that the current transaction made messages of this queue receivable. */
void
queue_wake_at_commit(int32 queue_id)
{
	int			i;

	if (n_pending_wakeups < 0)
		return;
	for (i = 0; i < n_pending_wakeups; i++)
		if (pending_wakeups[i] == queue_id)
			return;
	if (n_pending_wakeups == MAX_PENDING_WAKEUPS)
		n_pending_wakeups = -1;
	else
		pending_wakeups[n_pending_wakeups++] = queue_id;
}

/* State of one long poll, between attempts. */
static uint64 wait_generation;

/*
 * Called before each receive attempt of a long poll: remember the bucket's
 * generation, so a commit during the attempt is not slept through.
 */
void
queue_wait_begin_attempt(int32 queue_id)
{
	if (OutboxShared)
		wait_generation = pg_atomic_read_u64(bucket_generation(wake_bucket(queue_id)));
}

/*
 * Sleep until a commit may have made a message of the queue receivable, or
 * until "until".  Returns false when "until" has passed.
 */
bool
queue_wait_for_message(int32 queue_id, TimestampTz until)
{
	TimestampTz now = outbox_now();
	long		timeout_ms;

	if (now >= until)
		return false;
	timeout_ms = (long) ((until - now + 999) / 1000);

	if (IsolationUsesXactSnapshot())
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("long polling is not possible in a %s transaction",
						IsolationIsSerializable() ? "SERIALIZABLE" : "REPEATABLE READ"),
				 errdetail("The transaction's snapshot would never show a message sent after it started."),
				 errhint("Receive with wait_time_seconds => 0, or long-poll in a READ COMMITTED transaction.")));

	/* Do not hold back the xmin horizon while asleep (see file header). */
	InvalidateCatalogSnapshot();
	MyProc->xmin = InvalidTransactionId;

	if (OutboxShared == NULL)
	{
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 Min(timeout_ms, 50), PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		return true;
	}
	else
	{
		int			bucket = wake_bucket(queue_id);
		ConditionVariable *cv = &OutboxShared->queue_wake[bucket];

		ConditionVariablePrepareToSleep(cv);
		if (pg_atomic_read_u64(bucket_generation(bucket)) == wait_generation)
			(void) ConditionVariableTimedSleep(cv, timeout_ms, PG_WAIT_EXTENSION);
		ConditionVariableCancelSleep();
		CHECK_FOR_INTERRUPTS();
	}
	return true;
}
