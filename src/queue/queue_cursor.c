/*-------------------------------------------------------------------------
 *
 * queue_cursor.c
 *	  The low-water mark of each queue: where receives start scanning.
 *
 * Why.  Messages are rows; a deleted message leaves a dead row and a dead
 * index entry until vacuum removes them, and vacuum cannot remove anything
 * that a long-running transaction might still see.  A receive that scans
 * the queue's index "from the beginning" would, while someone holds an old
 * snapshot, step over every message deleted since -- hundreds of thousands
 * after a couple of minutes at full speed -- and throughput collapses (the
 * well-known death spiral of queues in PostgreSQL).  So each queue keeps a
 * low-water mark L in shared memory with this invariant:
 *
 *	  every message of the queue with msg_id < L is deleted (and committed),
 *	  and no transaction will ever insert one with msg_id < L.
 *
 * Receives scan from L.  The dead entries below L are stepped over once,
 * by the advance that moved L past them, instead of by every receive.
 *
 * Advancing.  A backend (at most every ADVANCE_INTERVAL per queue) computes
 *
 *	  L' = min(S + 1, P, first msg_id >= L of a row its snapshot sees)
 *
 * where, in this order: S is the message sequence's last value, P the
 * lowest "insert intent" any backend has published for the queue, and the
 * snapshot is taken after both.  Every insert publishes its intent before
 * drawing its message number (as "unknown", which blocks advancing) and
 * narrows it to the number right after; intents are cleared when the
 * transaction ends.  The message sequence has no cache, so a number drawn
 * after S was read is greater than S.  A message that is not visible to
 * the advancer's snapshot was therefore either announced before P was read
 * (and P <= its number) or numbered after S was read (and S + 1 <= its
 * number); a visible one is counted by the scan.  L' never passes a live
 * or future message.
 *
 * Inserts with an old number (a dead-letter move, a redrive) announce it,
 * lower L if needed, and bump the queue's generation; an advance that
 * started before such an insert sees the generation change and gives up.
 *
 * Two-phase commit would let a prepared transaction's messages outlive
 * their intent, so a transaction that sent messages cannot be prepared
 * (queue_wait.c refuses it).
 *
 * Without shared_preload_libraries there is no mark: receives scan from 0,
 * correct and slower under a held snapshot.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/queue/queue_cursor.c
 *
 *-------------------------------------------------------------------------
 */
#include "pg_outbox.h"

#include "access/twophase.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/hsearch.h"
#include "utils/timestamp.h"

#include "queue/queue.h"

#define INTENTS_PER_BACKEND 8
#define INTENT_UNKNOWN		0	/* lowest_intent(): someone is drawing a number */
#define ADVANCE_INTERVAL_MS 10

typedef struct InsertIntent
{
	Oid			dboid;
	int32		queue_id;		/* 0: free */
	bool		drawing;		/* between announce and narrow: blocks advances */
	int64		lower;			/* lowest number announced (PG_INT64_MAX: none yet) */
} InsertIntent;

typedef struct BackendIntents
{
	slock_t		mutex;
	bool		overflow;		/* more queues than slots: block every advance in dboid */
	Oid			overflow_dboid;
	InsertIntent intent[INTENTS_PER_BACKEND];
} BackendIntents;

static BackendIntents *all_intents = NULL;
static bool have_intents = false;

static int
intent_slots(void)
{
	return MaxBackends + NUM_AUXILIARY_PROCS + max_prepared_xacts;
}

Size
queue_cursor_shmem_size(void)
{
	return mul_size(intent_slots(), sizeof(BackendIntents));
}

void
queue_cursor_shmem_init(void)
{
	bool		found;
	int			i;

	all_intents = ShmemInitStruct("pg_outbox insert intents",
								  mul_size(intent_slots(), sizeof(BackendIntents)), &found);
	if (!found)
	{
		memset(all_intents, 0, mul_size(intent_slots(), sizeof(BackendIntents)));
		for (i = 0; i < intent_slots(); i++)
			SpinLockInit(&all_intents[i].mutex);
	}
}

int64
queue_cursor_low(QueueInfo *q)
{
	QueueShared *mark = queue_shared_get(q);
	int64		low;

	if (mark == NULL)
		return 0;
	SpinLockAcquire(&mark->mutex);
	low = mark->low;
	SpinLockRelease(&mark->mutex);
	return low;
}

static BackendIntents *
my_intents(void)
{
	if (all_intents == NULL || MyProc == NULL)
		return NULL;
	return &all_intents[MyProc->pgprocno];
}

/*
 * Publish this transaction's insert intent for a queue: "drawing" announces
 * a number about to be drawn; otherwise msg_id narrows the lowest number.
 */
static void
publish_intent(QueueInfo *q, bool drawing, int64 msg_id)
{
	BackendIntents *mine = my_intents();
	InsertIntent *in = NULL;
	int			i;

	if (mine == NULL)
		return;
	SpinLockAcquire(&mine->mutex);
	for (i = 0; i < INTENTS_PER_BACKEND; i++)
	{
		if (mine->intent[i].queue_id == q->queue_id && mine->intent[i].dboid == MyDatabaseId)
		{
			in = &mine->intent[i];
			break;
		}
		if (mine->intent[i].queue_id == 0 && in == NULL)
			in = &mine->intent[i];
	}
	if (in && in->queue_id == 0)
	{
		in->dboid = MyDatabaseId;
		in->queue_id = q->queue_id;
		in->drawing = false;
		in->lower = PG_INT64_MAX;
	}
	if (in == NULL)
	{
		/* no slot left: block every advance in this database until we end */
		mine->overflow = true;
		mine->overflow_dboid = MyDatabaseId;
	}
	else if (drawing)
		in->drawing = true;
	else
	{
		if (msg_id < in->lower)
			in->lower = msg_id;
		in->drawing = false;
	}
	SpinLockRelease(&mine->mutex);
	have_intents = true;
}

/*
 * Keep a message number for an insert into q: announce, draw, narrow.
 * (The caller draws from the sequence between the two calls.)
 */
void
queue_cursor_before_draw(QueueInfo *q)
{
	publish_intent(q, true, 0);
}

void
queue_cursor_after_draw(QueueInfo *q, int64 msg_id)
{
	publish_intent(q, false, msg_id);
}

/*
 * Announce an insert of an existing (old) number into q, and make sure the
 * mark is not above it.
 */
void
queue_cursor_insert_old(QueueInfo *q, int64 msg_id)
{
	QueueShared *mark;

	publish_intent(q, false, msg_id);
	mark = queue_shared_get(q);
	if (mark == NULL)
		return;
	SpinLockAcquire(&mark->mutex);
	if (mark->low > msg_id)
		mark->low = msg_id;
	mark->generation++;
	SpinLockRelease(&mark->mutex);
}

/* End of transaction: withdraw every intent of this backend. */
void
queue_cursor_at_xact_end(void)
{
	BackendIntents *mine;

	if (!have_intents)
		return;
	mine = my_intents();
	if (mine)
	{
		SpinLockAcquire(&mine->mutex);
		memset(mine->intent, 0, sizeof(mine->intent));
		mine->overflow = false;
		SpinLockRelease(&mine->mutex);
	}
	have_intents = false;
}

bool
queue_cursor_has_intents(void)
{
	return have_intents;
}

/* P: the lowest intent published for the queue, or -1 if none. */
static int64
lowest_intent(QueueInfo *q)
{
	int64		lowest = -1;
	int			b;
	int			i;

	for (b = 0; b < intent_slots(); b++)
	{
		BackendIntents *bi = &all_intents[b];

		SpinLockAcquire(&bi->mutex);
		if (bi->overflow && bi->overflow_dboid == MyDatabaseId)
			lowest = INTENT_UNKNOWN;
		for (i = 0; i < INTENTS_PER_BACKEND; i++)
		{
			InsertIntent *in = &bi->intent[i];

			if (in->queue_id != q->queue_id || in->dboid != MyDatabaseId)
				continue;
			if (in->drawing)
				lowest = INTENT_UNKNOWN;
			else if (in->lower != PG_INT64_MAX && (lowest < 0 || in->lower < lowest))
				lowest = in->lower;
		}
		SpinLockRelease(&bi->mutex);
		if (lowest == INTENT_UNKNOWN)
			break;
	}
	return lowest;
}

/*
 * Move the mark of q forward if it can go (see the file header).  Cheap
 * when it cannot: a backend tries at most every ADVANCE_INTERVAL_MS per
 * queue it receives from.
 */
void
queue_cursor_advance(QueueInfo *q)
{
	static SPIPlanPtr first_plan[2];
	static SPIPlanPtr seq_plan;
	static int32 last_queue = 0;
	static TimestampTz last_try = 0;
	QueueShared *mark;
	TimestampTz now = GetCurrentTimestamp();
	uint64		generation;
	int64		low;
	int64		last_value;
	int64		lowest;
	int64		candidate;
	Datum		values[2];
	bool		isnull;

	/*
	 * The scan below must see every committed row and nothing this
	 * transaction changed (a row it deleted would look gone, yet come back
	 * if it rolls back): so only in READ COMMITTED, before this transaction
	 * wrote anything.
	 */
	if (IsolationUsesXactSnapshot() || TransactionIdIsValid(GetTopTransactionIdIfAny()))
		return;
	if (q->queue_id == last_queue && !TimestampDifferenceExceeds(last_try, now, ADVANCE_INTERVAL_MS))
		return;
	mark = queue_shared_get(q);
	if (mark == NULL)
		return;
	last_queue = q->queue_id;
	last_try = now;

	SpinLockAcquire(&mark->mutex);
	generation = mark->generation;
	low = mark->low;
	SpinLockRelease(&mark->mutex);

	/*
	 * S: the last number handed out.  A sequence never drawn from holds the
	 * first number to hand out, with is_called false.
	 */
	if (seq_plan == NULL)
		seq_plan = outbox_prepare_plan("SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END"
									  " FROM outbox.message_id_seq", 0, NULL);
	queue_spi_exec(seq_plan, NULL, NULL, true, 1, SPI_OK_SELECT);
	last_value = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));

	/* P */
	lowest = lowest_intent(q);
	if (lowest == INTENT_UNKNOWN)
		return;
	candidate = last_value + 1;
	if (lowest > 0 && lowest < candidate)
		candidate = lowest;
	if (candidate <= low)
		return;

	/* the first row at or after L that a new snapshot sees */
	if (first_plan[q->is_unlogged] == NULL)
	{
		Oid			argtypes[2] = {INT4OID, INT8OID};
		char	   *sql = psprintf("SELECT msg_id FROM %s WHERE queue_id = $1 AND msg_id >= $2"
								   " ORDER BY msg_id LIMIT 1", QUEUE_TABLE(q->is_unlogged));

		first_plan[q->is_unlogged] = outbox_prepare_plan(sql, 2, argtypes);
	}
	values[0] = Int32GetDatum(q->queue_id);
	values[1] = Int64GetDatum(low);
	/* read_only = false: a fresh snapshot, taken after S and P were read */
	queue_spi_exec(first_plan[q->is_unlogged], values, NULL, false, 1, SPI_OK_SELECT);
	if (SPI_processed == 1)
	{
		int64		first = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));

		if (first < candidate)
			candidate = first;
	}

	SpinLockAcquire(&mark->mutex);
	if (mark->generation == generation && candidate > mark->low)
		mark->low = candidate;
	SpinLockRelease(&mark->mutex);
}
