/*-------------------------------------------------------------------------
 *
 * queue_maint.c
 *	  Housekeeping of the queue room: retention, deduplication windows,
 *	  dead-letter redrive tasks, and the Approximate* counters.
 *
 * queue_run_maintenance() is the queue room's share of "due work": the
 * background worker calls it about once a second in every database with
 * pg_outbox (and a user can call outbox.run_queue_maintenance() where no
 * worker runs).  Each step works in bounded batches so one call stays
 * short, and is safe to run concurrently with itself (SKIP LOCKED, and
 * a redrive task row is locked while a batch of it moves).
 *
 * Retention.  A message past its queue's MessageRetentionPeriod is never
 * delivered (the receive queries filter on enqueued_at) and is deleted
 * here, in whatever state it is, without anyone having to ask: every call
 * looks at the head of each queue (cheap: it starts at the low-water mark),
 * and every FULL_SWEEP_INTERVAL_S a full sweep finds the rest.  The first
 * call in a session (outbox.run_queue_maintenance() by hand) sweeps fully.
 * Raising a queue's MessageRetentionPeriod first deletes what the old one
 * had expired (queue_expire_before), so nothing expired comes back.
 *
 * Counters.  Each queue's Approximate* counters are recounted when due
 * (queue_stats.c), catching up with what time alone changed.
 *
 * Redrive (StartMessageMoveTask).  A task moves the messages that were in
 * the dead-letter queue when it started (msg_id <= last_msg_id) back to the
 * queue each came from (DeadLetterQueueSourceArn) or to the destination
 * given, at most max_per_second per second.  Moved messages keep their
 * MessageId and re-enter as new arrivals: visible now, receive count 0,
 * retention counted from the move.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/queue/queue_maint.c
 *
 *-------------------------------------------------------------------------
 */
#include "pg_outbox.h"

#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "core/clock.h"
#include "queue/queue.h"

#define MAINTENANCE_BATCH 5000
#define HEAD_WINDOW 5000
#define FULL_SWEEP_INTERVAL_S 600
#define MOVE_DEFAULT_RATE 500

/*
 * Counters: [0] visible, [1] in flight, [2] delayed; expired messages are
 * in none of them.  Returns the total.
 */
int64
queue_count_messages(QueueInfo *q, int64 counters[3])
{
	static SPIPlanPtr plan[2];
	Datum		values[4];
	bool		isnull;
	int			i;

	if (plan[q->is_unlogged] == NULL)
	{
		Oid			argtypes[4] = {INT4OID, TIMESTAMPTZOID, TIMESTAMPTZOID, INT8OID};
		char	   *sql = psprintf("SELECT count(*) FILTER (WHERE visible_at <= $2),"
								   " count(*) FILTER (WHERE visible_at > $2 AND receipt IS NOT NULL),"
								   " count(*) FILTER (WHERE visible_at > $2 AND receipt IS NULL)"
								   " FROM %s WHERE queue_id = $1 AND msg_id >= $4 AND enqueued_at > $3",
								   QUEUE_TABLE(q->is_unlogged));

		plan[q->is_unlogged] = outbox_prepare_custom_plan(sql, 4, argtypes);
	}
	values[0] = Int32GetDatum(q->queue_id);
	values[1] = TimestampTzGetDatum(outbox_now());
	values[2] = TimestampTzGetDatum(outbox_now() - (int64) q->retention_seconds * USECS_PER_SEC);
	values[3] = Int64GetDatum(queue_cursor_low(q));
	queue_spi_exec(plan[q->is_unlogged], values, NULL, true, 1, SPI_OK_SELECT);
	for (i = 0; i < 3; i++)
		counters[i] = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, i + 1, &isnull));
	return counters[0] + counters[1] + counters[2];
}

static int64
exec_count(const char *sql, int nargs, Oid *argtypes, Datum *values, int expected)
{
	int			rc = SPI_execute_with_args(sql, nargs, argtypes, values, NULL, false, 0);

	if (rc != expected)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
	return (int64) SPI_processed;
}

/*
 * Retention, the usual way: look at the first HEAD_WINDOW live messages of
 * the queue from its low-water mark (message numbers grow with time, so
 * the oldest messages are there) and delete those past retention.  Rows a
 * receiver has locked are skipped, never waited for.
 */
static int64
expire_queue_head(QueueInfo *q, TimestampTz now)
{
	static SPIPlanPtr plan[2];
	Datum		values[4];

	if (plan[q->is_unlogged] == NULL)
	{
		Oid			argtypes[4] = {INT4OID, INT8OID, INT4OID, TIMESTAMPTZOID};
		const char *t = QUEUE_TABLE(q->is_unlogged);
		char	   *sql = psprintf("WITH w AS (SELECT msg_id FROM %s WHERE queue_id = $1 AND msg_id >= $2"
								   " ORDER BY msg_id LIMIT $3),"
								   " e AS (SELECT x.msg_id FROM %s x JOIN w ON x.queue_id = $1 AND x.msg_id = w.msg_id"
								   " WHERE x.enqueued_at <= $4 FOR UPDATE OF x SKIP LOCKED)"
								   " DELETE FROM %s m USING e WHERE m.queue_id = $1 AND m.msg_id = e.msg_id",
								   t, t, t);

		plan[q->is_unlogged] = outbox_prepare_custom_plan(sql, 4, argtypes);
	}
	values[0] = Int32GetDatum(q->queue_id);
	values[1] = Int64GetDatum(queue_cursor_low(q));
	values[2] = Int32GetDatum(HEAD_WINDOW);
	values[3] = TimestampTzGetDatum(now - (int64) q->retention_seconds * USECS_PER_SEC);
	queue_spi_exec(plan[q->is_unlogged], values, NULL, false, 0, SPI_OK_DELETE);
	if (SPI_processed > 0)
		queue_stats_note_recount(q);
	return (int64) SPI_processed;
}

/*
 * Delete every message of q enqueued at or before "before", waiting for
 * rows a receiver holds.  set_queue_attributes calls it before it raises
 * MessageRetentionPeriod, so that a message already past the old period
 * stays expired (receives filter on the current period, and would
 * otherwise deliver it again).
 */
int64
queue_expire_before(QueueInfo *q, TimestampTz before)
{
	Oid			argtypes[2] = {INT4OID, TIMESTAMPTZOID};
	Datum		values[2];
	int			rc;

	values[0] = Int32GetDatum(q->queue_id);
	values[1] = TimestampTzGetDatum(before);
	rc = SPI_execute_with_args(psprintf("DELETE FROM %s WHERE queue_id = $1 AND enqueued_at <= $2",
										QUEUE_TABLE(q->is_unlogged)),
							   2, argtypes, values, NULL, false, 0);
	if (rc != SPI_OK_DELETE)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
	if (SPI_processed > 0)
		queue_stats_note_recount(q);
	return (int64) SPI_processed;
}

/*
 * Retention, the thorough way (every FULL_SWEEP_INTERVAL_S): every expired
 * message wherever it is (a redriven message keeps its old number but not
 * its age, so the head is not always the oldest), and the orphans of queues
 * deleted while a send was in progress.
 */
static int64
expire_messages(const char *table, TimestampTz now)
{
	Oid			argtypes[2] = {TIMESTAMPTZOID, INT4OID};
	Datum		values[2];
	char	   *sql;

	/* messages past retention, and orphans of queues deleted meanwhile */
	sql = psprintf("DELETE FROM %s m WHERE (m.queue_id, m.msg_id) IN ("
				   " SELECT x.queue_id, x.msg_id FROM %s x LEFT JOIN outbox.queue q USING (queue_id)"
				   " WHERE q.queue_id IS NULL OR x.enqueued_at <= $1 - make_interval(secs => q.retention_seconds)"
				   " LIMIT $2 FOR UPDATE OF x SKIP LOCKED)",
				   table, table);
	values[0] = TimestampTzGetDatum(now);
	values[1] = Int32GetDatum(MAINTENANCE_BATCH);
	return exec_count(sql, 2, argtypes, values, SPI_OK_DELETE);
}

/* Move one batch of one redrive task; returns messages moved. */
static int64
advance_move_task(QueueInfo *src, const char *destination, int64 last_msg_id,
				  int64 next_msg_id, int rate, TimestampTz now, char **failure)
{
	Oid			argtypes[5] = {INT4OID, INT8OID, INT8OID, INT4OID, TEXTOID};
	Datum		values[5];
	char		nulls[5] = {' ', ' ', ' ', ' ', ' '};
	int64		moved = 0;
	uint64		i;
	int			rc;
	SPITupleTable *targets;
	uint64		ntargets;

	/* the queues the next batch goes to */
	values[0] = Int32GetDatum(src->queue_id);
	values[1] = Int64GetDatum(next_msg_id);
	values[2] = Int64GetDatum(last_msg_id);
	values[3] = Int32GetDatum(rate);
	values[4] = destination ? CStringGetTextDatum(destination) : (Datum) 0;
	nulls[4] = destination ? ' ' : 'n';
	rc = SPI_execute_with_args(psprintf("SELECT DISTINCT coalesce($5, system_attributes->>'DeadLetterQueueSourceArn') FROM"
										" (SELECT system_attributes FROM %s WHERE queue_id = $1 AND msg_id >= $2 AND msg_id <= $3"
										" ORDER BY msg_id LIMIT $4) b",
										QUEUE_TABLE(src->is_unlogged)),
							   5, argtypes, values, nulls, true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
	targets = SPI_tuptable;
	ntargets = SPI_processed;

	for (i = 0; i < ntargets; i++)
	{
		char	   *target = SPI_getvalue(targets->vals[i], targets->tupdesc, 1);
		QueueInfo  *dst;
		Oid			mtypes[6] = {INT4OID, INT8OID, INT8OID, INT4OID, INT4OID, TIMESTAMPTZOID};
		Datum		mvalues[6];
		char	   *sql;

		if (target == NULL)
		{
			*failure = pstrdup("a message in the dead-letter queue does not say which queue it came from");
			return moved;
		}
		dst = queue_lookup(queue_name_from_arn(target), true);
		if (dst == NULL)
		{
			*failure = psprintf("destination queue \"%s\" does not exist", queue_name_from_arn(target));
			return moved;
		}
		/* moved messages keep their (old) numbers */
		queue_cursor_insert_old(dst, next_msg_id);
		sql = psprintf("WITH b AS (SELECT msg_id FROM %s WHERE queue_id = $1 AND msg_id >= $2 AND msg_id <= $3"
					   " AND (%s) ORDER BY msg_id LIMIT $4 FOR UPDATE SKIP LOCKED),"
					   " moved AS (DELETE FROM %s m USING b WHERE m.queue_id = $1 AND m.msg_id = b.msg_id RETURNING m.*)"
					   " INSERT INTO %s (queue_id, msg_id, visible_at, enqueued_at, sent_at, receive_count, sender,"
					   " body, attributes, system_attributes, group_id, dedup_id)"
					   " SELECT $5, msg_id, $6, $6, sent_at, 0, sender, body, attributes,"
					   " nullif(system_attributes - 'DeadLetterQueueSourceArn', '{}'), group_id, dedup_id FROM moved",
					   QUEUE_TABLE(src->is_unlogged),
					   destination ? "true" : "system_attributes->>'DeadLetterQueueSourceArn' = $7",
					   QUEUE_TABLE(src->is_unlogged), QUEUE_TABLE(dst->is_unlogged));
		mvalues[0] = Int32GetDatum(src->queue_id);
		mvalues[1] = Int64GetDatum(next_msg_id);
		mvalues[2] = Int64GetDatum(last_msg_id);
		mvalues[3] = Int32GetDatum(rate);
		mvalues[4] = Int32GetDatum(dst->queue_id);
		mvalues[5] = TimestampTzGetDatum(now);
		if (destination)
			rc = SPI_execute_with_args(sql, 6, mtypes, mvalues, NULL, false, 0);
		else
		{
			Oid			t7[7] = {INT4OID, INT8OID, INT8OID, INT4OID, INT4OID, TIMESTAMPTZOID, TEXTOID};
			Datum		v7[7];

			memcpy(v7, mvalues, sizeof(mvalues));
			v7[6] = CStringGetTextDatum(target);
			rc = SPI_execute_with_args(sql, 7, t7, v7, NULL, false, 0);
		}
		if (rc != SPI_OK_INSERT)
			elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
		moved += SPI_processed;
		queue_stats_note(src, -(int64) SPI_processed, 0, 0);
		queue_stats_note(dst, (int64) SPI_processed, 0, 0);
		queue_wake_at_commit(dst->queue_id);
	}
	return moved;
}

static int64
run_move_tasks(TimestampTz now)
{
	int			rc;
	uint64		i;
	int64		total = 0;
	SPITupleTable *tasks;
	uint64		ntasks;

	rc = SPI_execute("SELECT task_handle, source_queue, destination_queue, coalesce(max_per_second, 0),"
					 " last_msg_id, next_msg_id FROM outbox.message_move_task"
					 " WHERE status IN ('RUNNING', 'CANCELLING') ORDER BY started_at FOR UPDATE SKIP LOCKED",
					 false, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(rc));
	tasks = SPI_tuptable;
	ntasks = SPI_processed;

	for (i = 0; i < ntasks; i++)
	{
		HeapTuple	tup = tasks->vals[i];
		TupleDesc	desc = tasks->tupdesc;
		bool		isnull;
		Datum		handle = SPI_getbinval(tup, desc, 1, &isnull);
		char	   *source = SPI_getvalue(tup, desc, 2);
		char	   *destination = SPI_getvalue(tup, desc, 3);
		int			rate = DatumGetInt32(SPI_getbinval(tup, desc, 4, &isnull));
		int64		last_msg_id = DatumGetInt64(SPI_getbinval(tup, desc, 5, &isnull));
		int64		next_msg_id = DatumGetInt64(SPI_getbinval(tup, desc, 6, &isnull));
		QueueInfo  *src = queue_lookup(source, true);
		char	   *failure = NULL;
		int64		moved = 0;
		const char *status = "RUNNING";
		Oid			argtypes[5] = {UUIDOID, TEXTOID, INT8OID, TEXTOID, TIMESTAMPTZOID};
		Datum		values[5];
		char		nulls[5] = {' ', ' ', ' ', ' ', ' '};

		if (rate <= 0)
			rate = MOVE_DEFAULT_RATE;
		if (src == NULL)
			failure = psprintf("source queue \"%s\" does not exist", source);
		else
			moved = advance_move_task(src, destination, last_msg_id, next_msg_id, rate, now, &failure);

		if (failure)
			status = "FAILED";
		else if (src)
		{
			/* anything left of what was there at the start? */
			Oid			t[3] = {INT4OID, INT8OID, INT8OID};
			Datum		v[3];

			v[0] = Int32GetDatum(src->queue_id);
			v[1] = Int64GetDatum(next_msg_id);
			v[2] = Int64GetDatum(last_msg_id);
			rc = SPI_execute_with_args(psprintf("SELECT 1 FROM %s WHERE queue_id = $1 AND msg_id >= $2 AND msg_id <= $3 LIMIT 1",
												QUEUE_TABLE(src->is_unlogged)),
									   3, t, v, NULL, false, 1);
			if (rc != SPI_OK_SELECT)
				elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
			if (SPI_processed == 0)
				status = "COMPLETED";
		}

		values[0] = handle;
		values[1] = CStringGetTextDatum(status);
		values[2] = Int64GetDatum(moved);
		values[3] = failure ? CStringGetTextDatum(failure) : (Datum) 0;
		nulls[3] = failure ? ' ' : 'n';
		values[4] = TimestampTzGetDatum(now);
		rc = SPI_execute_with_args("UPDATE outbox.message_move_task SET moved = moved + $3,"
								   " status = CASE WHEN status = 'CANCELLING' THEN 'CANCELLED' ELSE $2 END,"
								   " failure_reason = $4,"
								   " finished_at = CASE WHEN $2 <> 'RUNNING' OR status = 'CANCELLING' THEN $5 END"
								   " WHERE task_handle = $1",
								   5, argtypes, values, nulls, false, 0);
		if (rc != SPI_OK_UPDATE)
			elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
		total += moved;
	}
	return total;
}

/* Per queue: retention at the head, and counters when due (queue_stats.c). */
static int64
per_queue_maintenance(TimestampTz now, TimestampTz stop)
{
	int64		total = 0;
	int			rc;
	uint64		i;
	SPITupleTable *names;
	uint64		n;

	rc = SPI_execute("SELECT queue_name FROM outbox.queue ORDER BY queue_id", true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(rc));
	names = SPI_tuptable;
	n = SPI_processed;
	for (i = 0; i < n && GetCurrentTimestamp() < stop; i++)
	{
		QueueInfo  *q = queue_lookup(SPI_getvalue(names->vals[i], names->tupdesc, 1), true);
		int64		n;

		if (q == NULL)
			continue;
		do
		{
			n = expire_queue_head(q, now);
			total += n;
		} while (n > 0 && GetCurrentTimestamp() < stop);
		queue_stats_refresh(q);
	}
	return total;
}

int64
queue_run_maintenance(double max_seconds)
{
	static TimestampTz last_full_sweep = 0;
	TimestampTz now = outbox_now();
	TimestampTz stop = GetCurrentTimestamp() + (int64) (max_seconds * USECS_PER_SEC);
	int64		total = 0;
	int64		n;
	Oid			argtypes[1] = {TIMESTAMPTZOID};
	Datum		values[1];

	total += per_queue_maintenance(now, stop);

	if (last_full_sweep == 0 || now - last_full_sweep >= (int64) FULL_SWEEP_INTERVAL_S * USECS_PER_SEC)
	{
		do
		{
			n = expire_messages("outbox.message", now) + expire_messages("outbox.message_unlogged", now);
			total += n;
		} while (n >= MAINTENANCE_BATCH && GetCurrentTimestamp() < stop);
		last_full_sweep = now;
	}

	values[0] = TimestampTzGetDatum(now);
	total += exec_count("DELETE FROM outbox.fifo_dedup WHERE expires_at <= $1", 1, argtypes, values, SPI_OK_DELETE);
	total += exec_count("DELETE FROM outbox.receive_attempt WHERE expires_at <= $1", 1, argtypes, values, SPI_OK_DELETE);
	total += run_move_tasks(now);
	return total;
}
