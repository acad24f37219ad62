/*-------------------------------------------------------------------------
 *
 * queue_stats.c
 *	  The Approximate* counters of get_queue_attributes, answered in O(1).
 *
 * Each queue's shared entry (queue_shared.c) holds three counters: visible,
 * in flight, delayed.  They move two ways:
 *
 *  - deltas: a send, first receive, delete, dead-letter move or redrive
 *	  notes its effect in a backend-local list; the list is applied to the
 *	  shared counters when the transaction commits and dropped when it
 *	  aborts, so a rolled-back send is never counted.
 *
 *  - recounts: transitions that happen by time alone (a delay runs out, a
 *	  visibility timeout expires, retention removes a message) have no event
 *	  to count.  So the counters are recounted exactly once they are older
 *	  than max(COUNT_MIN_INTERVAL_MS, COUNT_COST_FACTOR x the time the last
 *	  count took): by the scheduler's maintenance, or by the read that finds
 *	  them due.  Counting a queue therefore costs at most about 1/20 of the
 *	  time, however deep the queue, and every other read is O(1).  Ages are
 *	  measured on the pg_outbox clock (tests move it).  A purge asks for a
 *	  recount at its commit.
 *
 * Delta rules: a send adds a visible (or delayed) message; a receive with a
 * visibility timeout takes visible messages in flight (with timeout 0 they
 * stay visible); a delete removes an in-flight or a visible message, as the
 * row says; change_message_visibility(0) returns one to visible; dead-letter
 * moves and redrives move visible messages between queues.  What they get
 * wrong (a message re-received after its timeout ran out is counted in
 * flight twice) lasts until the next recount.
 *
 * Without shared_preload_libraries every read counts.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/queue/queue_stats.c
 *
 *-------------------------------------------------------------------------
 */
#include "pg_outbox.h"

#include "access/xact.h"
#include "utils/timestamp.h"

#include "core/clock.h"

#include "queue/queue.h"

#define MAX_PENDING_QUEUES	16
#define COUNT_MIN_INTERVAL_MS 100
#define COUNT_COST_FACTOR	20

typedef struct PendingCounts
{
	QueueShared *entry;
	int64		delta[3];		/* visible, in flight, delayed */
	bool		recount;
} PendingCounts;

static PendingCounts pending[MAX_PENDING_QUEUES];
static int	n_pending = 0;

void
queue_stats_note(QueueInfo *q, int64 visible, int64 in_flight, int64 delayed)
{
	QueueShared *entry = queue_shared_get(q);
	int			i;

	if (entry == NULL)
		return;
	for (i = 0; i < n_pending; i++)
		if (pending[i].entry == entry)
			break;
	if (i == n_pending)
	{
		if (n_pending == MAX_PENDING_QUEUES)
			return;				/* the next recount will catch up */
		memset(&pending[i], 0, sizeof(PendingCounts));
		pending[i].entry = entry;
		n_pending++;
	}
	pending[i].delta[0] += visible;
	pending[i].delta[1] += in_flight;
	pending[i].delta[2] += delayed;
}

void
queue_stats_note_recount(QueueInfo *q)
{
	queue_stats_note(q, 0, 0, 0);
	if (n_pending > 0 && pending[n_pending - 1].entry == queue_shared_get(q))
		pending[n_pending - 1].recount = true;
	else
	{
		int			i;

		for (i = 0; i < n_pending; i++)
			if (pending[i].entry == queue_shared_get(q))
				pending[i].recount = true;
	}
}

void
queue_stats_at_xact_end(bool commit)
{
	int			i;

	if (commit)
	{
		for (i = 0; i < n_pending; i++)
		{
			QueueShared *e = pending[i].entry;

			SpinLockAcquire(&e->mutex);
			e->counters.visible += pending[i].delta[0];
			e->counters.in_flight += pending[i].delta[1];
			e->counters.delayed += pending[i].delta[2];
			if (pending[i].recount)
				e->counters.counted_at = 0;
			SpinLockRelease(&e->mutex);
		}
	}
	n_pending = 0;
}

static void
count_and_store(QueueInfo *q, QueueShared *e, int64 counters[3])
{
	TimestampTz start = GetCurrentTimestamp();

	queue_count_messages(q, counters);

	/*
	 * A transaction that wrote sees its own uncommitted changes: its count
	 * is right for itself but must not become everyone's.
	 */
	if (e && !TransactionIdIsValid(GetTopTransactionIdIfAny()))
	{
		SpinLockAcquire(&e->mutex);
		e->counters.visible = counters[0];
		e->counters.in_flight = counters[1];
		e->counters.delayed = counters[2];
		e->counters.counted_at = outbox_now();
		e->counters.count_cost_us = GetCurrentTimestamp() - start;
		SpinLockRelease(&e->mutex);
	}
}

/* Are counters last counted at counted_at, at that cost, due for a recount? */
static bool
recount_due(TimestampTz counted_at, int64 cost_us)
{
	int64		interval_ms = Max(COUNT_MIN_INTERVAL_MS, Min(cost_us / 1000 * COUNT_COST_FACTOR, 3600 * 1000));

	return counted_at == 0 || outbox_now() - counted_at >= interval_ms * 1000;
}

/* The counters for get_queue_attributes: visible, in flight, delayed. */
void
queue_stats_read(QueueInfo *q, int64 counters[3])
{
	QueueShared *e = queue_shared_get(q);
	bool		fresh = false;

	if (e)
	{
		SpinLockAcquire(&e->mutex);
		if (!recount_due(e->counters.counted_at, e->counters.count_cost_us))
		{
			counters[0] = Max(e->counters.visible, 0);
			counters[1] = Max(e->counters.in_flight, 0);
			counters[2] = Max(e->counters.delayed, 0);
			fresh = true;
		}
		SpinLockRelease(&e->mutex);
	}
	if (!fresh)
		count_and_store(q, e, counters);
}

/* Maintenance: recount the queue if its counters are due. */
void
queue_stats_refresh(QueueInfo *q)
{
	QueueShared *e = queue_shared_get(q);
	bool		due;
	int64		counters[3];

	if (e == NULL)
		return;
	SpinLockAcquire(&e->mutex);
	due = recount_due(e->counters.counted_at, e->counters.count_cost_us);
	SpinLockRelease(&e->mutex);
	if (due)
		count_and_store(q, e, counters);
}
