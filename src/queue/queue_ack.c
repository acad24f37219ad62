/*-------------------------------------------------------------------------
 *
 * queue_ack.c
 *	  What a consumer does with a received message: delete it, change its
 *	  visibility; and purging a whole queue.
 *
 * Receipt-handle rules (shared/reference/sqs.md 4.7, 4.8):
 *  - only the newest handle of a message counts.  On a standard queue a
 *	  delete with a superseded handle succeeds and deletes nothing; deleting
 *	  a message that is already gone succeeds too.
 *  - on a FIFO queue a handle whose visibility timeout has run out is
 *	  refused (the message may be with another consumer already).
 *  - change_message_visibility counts from now, only for a message in
 *	  flight under this handle, and never beyond 12 hours after the receive.
 *
 * A delete that races a receive of the same message (the visibility timeout
 * ran out and someone else received it) waits for that receive's row lock;
 * if the receive commits, the receipt no longer matches and the delete
 * deletes nothing -- the other consumer owns the message now.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/queue/queue_ack.c
 *
 *-------------------------------------------------------------------------
 */
#include "pg_outbox.h"

#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "core/clock.h"
#include "queue/queue.h"

static SPIPlanPtr delete_plan[2];
static SPIPlanPtr fifo_delete_plan[2];
static SPIPlanPtr probe_plan[2];
static SPIPlanPtr visibility_plan[2];

/* The row of a message as far as a handle is concerned. */
typedef struct HandleProbe
{
	bool		exists;
	bool		receipt_matches;
	bool		in_flight;
	TimestampTz received_at;
} HandleProbe;

static HandleProbe
probe_handle(QueueInfo *q, ReceiptHandle *rh, TimestampTz now)
{
	HandleProbe p;
	Datum		values[4];
	bool		isnull;

	if (probe_plan[q->is_unlogged] == NULL)
	{
		Oid			argtypes[4] = {INT4OID, INT8OID, INT8OID, TIMESTAMPTZOID};
		char	   *sql = psprintf("SELECT receipt IS NOT DISTINCT FROM $3, visible_at > $4 AND receipt IS NOT NULL, received_at"
								   " FROM %s WHERE queue_id = $1 AND msg_id = $2",
								   QUEUE_TABLE(q->is_unlogged));

		probe_plan[q->is_unlogged] = outbox_prepare_plan(sql, 4, argtypes);
	}
	values[0] = Int32GetDatum(q->queue_id);
	values[1] = Int64GetDatum(rh->msg_id);
	values[2] = Int64GetDatum(rh->receipt);
	values[3] = TimestampTzGetDatum(now);
	queue_spi_exec(probe_plan[q->is_unlogged], values, NULL, true, 1, SPI_OK_SELECT);

	memset(&p, 0, sizeof(p));
	if (SPI_processed == 0)
		return p;
	p.exists = true;
	p.receipt_matches = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	p.in_flight = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	p.received_at = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull));
	return p;
}

/*
 * Delete by receipt handle.  Returns true if a message was deleted.
 */
bool
queue_delete_message(QueueInfo *q, const char *handle)
{
	ReceiptHandle rh;
	TimestampTz now = outbox_now();
	Datum		values[4];
	SPIPlanPtr	plan;
	HandleProbe p;

	queue_receipt_decode(q, handle, &rh);

	if (!q->is_fifo)
	{
		if (delete_plan[q->is_unlogged] == NULL)
		{
			Oid			argtypes[4] = {INT4OID, INT8OID, INT8OID, TIMESTAMPTZOID};
			char	   *sql = psprintf("DELETE FROM %s WHERE queue_id = $1 AND msg_id = $2 AND receipt = $3"
									   " RETURNING visible_at > $4",
									   QUEUE_TABLE(q->is_unlogged));

			delete_plan[q->is_unlogged] = outbox_prepare_plan(sql, 4, argtypes);
		}
		plan = delete_plan[q->is_unlogged];
	}
	else
	{
		if (fifo_delete_plan[q->is_unlogged] == NULL)
		{
			Oid			argtypes[4] = {INT4OID, INT8OID, INT8OID, TIMESTAMPTZOID};
			char	   *sql = psprintf("DELETE FROM %s WHERE queue_id = $1 AND msg_id = $2 AND receipt = $3"
									   " AND visible_at > $4 RETURNING true",
									   QUEUE_TABLE(q->is_unlogged));

			fifo_delete_plan[q->is_unlogged] = outbox_prepare_plan(sql, 4, argtypes);
		}
		plan = fifo_delete_plan[q->is_unlogged];
	}
	values[0] = Int32GetDatum(q->queue_id);
	values[1] = Int64GetDatum(rh.msg_id);
	values[2] = Int64GetDatum(rh.receipt);
	values[3] = TimestampTzGetDatum(now);
	queue_spi_exec(plan, values, NULL, false, 0, SPI_OK_DELETE_RETURNING);
	if (SPI_processed == 1)
	{
		bool		isnull;
		bool		in_flight = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));

		queue_stats_note(q, in_flight ? 0 : -1, in_flight ? -1 : 0, 0);
		return true;
	}
	if (!q->is_fifo)
		return false;

	/* FIFO: refuse a handle whose visibility timeout ran out. */
	p = probe_handle(q, &rh, now);
	if (p.exists && p.receipt_matches && !p.in_flight)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("receipt handle has expired for a message of FIFO queue \"%s\"", q->name),
				 errdetail("The visibility timeout ran out, so the message may already be with another consumer."),
				 errhint("Receive the message again, or extend its visibility timeout before it runs out.")));
	return false;
}

/*
 * Delete several messages; returns how many were deleted.  Every handle is
 * checked first, so a bad one deletes nothing.  On a standard queue the
 * deletes are one statement; a FIFO queue checks each handle's expiry.
 */
int
queue_delete_messages(QueueInfo *q, char **handles, int n)
{
	static SPIPlanPtr plan[2];
	ReceiptHandle *rh;
	Datum	   *ids;
	Datum	   *receipts;
	Datum		values[4];
	int			deleted = 0;
	int			i;
	uint64		k;
	int64		in_flight = 0;

	if (n == 0)
		return 0;
	if (q->is_fifo)
	{
		for (i = 0; i < n; i++)
		{
			ReceiptHandle check;

			queue_receipt_decode(q, handles[i], &check);
		}
		for (i = 0; i < n; i++)
			if (queue_delete_message(q, handles[i]))
				deleted++;
		return deleted;
	}

	rh = palloc(sizeof(ReceiptHandle) * n);
	ids = palloc(sizeof(Datum) * n);
	receipts = palloc(sizeof(Datum) * n);
	for (i = 0; i < n; i++)
	{
		queue_receipt_decode(q, handles[i], &rh[i]);
		ids[i] = Int64GetDatum(rh[i].msg_id);
		receipts[i] = Int64GetDatum(rh[i].receipt);
	}
	if (plan[q->is_unlogged] == NULL)
	{
		Oid			argtypes[4] = {INT4OID, INT8ARRAYOID, INT8ARRAYOID, TIMESTAMPTZOID};
		char	   *sql = psprintf("DELETE FROM %s m USING unnest($2, $3) AS h(msg_id, receipt)"
								   " WHERE m.queue_id = $1 AND m.msg_id = h.msg_id AND m.receipt = h.receipt"
								   " RETURNING m.visible_at > $4",
								   QUEUE_TABLE(q->is_unlogged));

		plan[q->is_unlogged] = outbox_prepare_plan(sql, 4, argtypes);
	}
	values[0] = Int32GetDatum(q->queue_id);
	values[1] = PointerGetDatum(construct_array(ids, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	values[2] = PointerGetDatum(construct_array(receipts, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	values[3] = TimestampTzGetDatum(outbox_now());
	queue_spi_exec(plan[q->is_unlogged], values, NULL, false, 0, SPI_OK_DELETE_RETURNING);
	for (k = 0; k < SPI_processed; k++)
	{
		bool		isnull;

		if (DatumGetBool(SPI_getbinval(SPI_tuptable->vals[k], SPI_tuptable->tupdesc, 1, &isnull)))
			in_flight++;
	}
	queue_stats_note(q, -((int64) SPI_processed - in_flight), -in_flight, 0);
	return (int) SPI_processed;
}

void
queue_change_visibility(QueueInfo *q, const char *handle, int32 timeout)
{
	ReceiptHandle rh;
	TimestampTz now = outbox_now();
	Datum		values[5];
	HandleProbe p;

	if (timeout < 0 || timeout > QUEUE_MAX_VISIBILITY)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid \"visibility_timeout\": %d is out of range (0 to %d)", timeout, QUEUE_MAX_VISIBILITY)));
	queue_receipt_decode(q, handle, &rh);

	if (visibility_plan[q->is_unlogged] == NULL)
	{
		Oid			argtypes[5] = {INT4OID, INT8OID, INT8OID, TIMESTAMPTZOID, TIMESTAMPTZOID};
		char	   *sql = psprintf("UPDATE %s SET visible_at = $5 WHERE queue_id = $1 AND msg_id = $2 AND receipt = $3"
								   " AND visible_at > $4 AND $5 <= received_at + interval '12 hours'",
								   QUEUE_TABLE(q->is_unlogged));

		visibility_plan[q->is_unlogged] = outbox_prepare_plan(sql, 5, argtypes);
	}
	values[0] = Int32GetDatum(q->queue_id);
	values[1] = Int64GetDatum(rh.msg_id);
	values[2] = Int64GetDatum(rh.receipt);
	values[3] = TimestampTzGetDatum(now);
	values[4] = TimestampTzGetDatum(now + (int64) timeout * USECS_PER_SEC);
	queue_spi_exec(visibility_plan[q->is_unlogged], values, NULL, false, 0, SPI_OK_UPDATE);
	if (SPI_processed == 1)
	{
		if (timeout == 0)
		{
			queue_stats_note(q, 1, -1, 0);
			queue_wake_at_commit(q->queue_id);
		}
		return;
	}

	p = probe_handle(q, &rh, now);
	if (p.exists && p.receipt_matches && p.in_flight)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid \"visibility_timeout\": a message may stay in flight at most 12 hours after it was received"),
				 errdetail("The message was received at %s.", timestamptz_to_str(p.received_at))));
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("message is not in flight in queue \"%s\"", q->name),
			 errdetail("%s", !p.exists ? "The message was deleted or moved." :
					   !p.receipt_matches ? "The message was received again since; only the newest receipt handle counts." :
					   "Its visibility timeout already ran out.")));
}

/*
 * Delete every message sent before the call: everything the statement's
 * snapshot sees, which includes messages this transaction sent earlier but
 * not those it sends later.  At most one purge per queue every
 * pg_outbox.purge_interval seconds (SQS: 60).
 */
int64
queue_purge(QueueInfo *q)
{
	Oid			argtypes[2] = {INT4OID, TIMESTAMPTZOID};
	Datum		values[2];
	TimestampTz now = outbox_now();
	int			rc;
	int64		purged;
	char	   *sql;

	if (outbox_purge_interval > 0 && q->purged_at != 0 &&
		now < q->purged_at + (int64) outbox_purge_interval * USECS_PER_SEC)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_IN_USE),
				 errmsg("queue \"%s\" was purged less than %d seconds ago", q->name, outbox_purge_interval),
				 errdetail("The last purge was at %s.", timestamptz_to_str(q->purged_at)),
				 errhint("Wait, or lower \"pg_outbox.purge_interval\".")));

	values[0] = Int32GetDatum(q->queue_id);
	values[1] = TimestampTzGetDatum(now);
	sql = psprintf("DELETE FROM %s WHERE queue_id = $1", QUEUE_TABLE(q->is_unlogged));
	rc = SPI_execute_with_args(sql, 1, argtypes, values, NULL, false, 0);
	if (rc != SPI_OK_DELETE)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
	purged = (int64) SPI_processed;
	queue_stats_note_recount(q);

	rc = SPI_execute_with_args("UPDATE outbox.queue SET purged_at = $2 WHERE queue_id = $1",
							   2, argtypes, values, NULL, false, 0);
	if (rc != SPI_OK_UPDATE)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
	CommandCounterIncrement();
	return purged;
}
