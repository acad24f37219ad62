/*-------------------------------------------------------------------------
 *
 * queue_receive.c
 *	  Receiving: standard and FIFO delivery, dead-letter moves, long polls.
 *
 * A receive makes up to N visible messages "in flight": each gets
 * visible_at = now + visibility timeout, receive_count + 1, and a fresh
 * receipt (queue_message.c explains receipt handles).  All of it is one
 * UPDATE in the caller's transaction, so a receive that rolls back leaves
 * the messages exactly as they were.
 *
 * Standard queues.  One statement: the oldest visible, unexpired messages
 * are picked with FOR UPDATE SKIP LOCKED (two receivers never block each
 * other, and never get the same message), and updated in place.  The same
 * statement reports the picked messages whose receive count has reached the
 * RedrivePolicy's maxReceiveCount; those are not delivered but moved to the
 * dead-letter queue (keeping MessageId, body, attributes and SentTimestamp),
 * and the receive goes on to fill its batch from the rest.
 *
 * FIFO queues.  Order within a message group and "one group, one consumer":
 * the first live message of a group (its head) decides for the group.  If
 * the head is in flight or delayed, the group is blocked; so it is if a
 * later message is still in flight after the head became visible again
 * (group_has_message_in_flight).  A receiver scans heads in message order,
 * takes a transaction-scoped lock on each candidate group (try-lock: a
 * group being received by someone else is skipped, never waited for),
 * then locks the group's first messages FOR UPDATE -- which re-reads rows
 * another receiver changed meanwhile -- and delivers them in order up to
 * the first one that is not visible.  Groups
 * are served in the order of their heads, so a backlogged group does not
 * starve groups whose messages came later.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/queue/queue_receive.c
 *
 *-------------------------------------------------------------------------
 */
#include "pg_outbox.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "common/md5.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "core/clock.h"
#include "core/jsonb_util.h"
#include "queue/queue.h"

/* Lock tag class of FIFO group receive locks (advisory uses 1 and 2). */
#define FIFO_GROUP_LOCK_CLASS 0x4F42

/* Columns every delivery query returns, in this order. */
#define DELIVERY_COLUMNS \
	"m.msg_id, m.receipt, m.receive_count, m.body, m.attributes, m.system_attributes, " \
	"m.sent_at, m.first_received_at, m.group_id, m.dedup_id, m.sender"
enum
{
	COL_MSG_ID = 1, COL_RECEIPT, COL_RECEIVE_COUNT, COL_BODY, COL_ATTRIBUTES,
	COL_SYSTEM_ATTRIBUTES, COL_SENT_AT, COL_FIRST_RECEIVED_AT, COL_GROUP_ID,
	COL_DEDUP_ID, COL_SENDER, COL_TO_DLQ
};

static SPIPlanPtr std_receive_plan[2];

/* where the next standard receive of a queue may start, this transaction */
#if PG_VERSION_NUM >= 170000
#define MY_LXID (MyProc->vxid.lxid)
#else
#define MY_LXID (MyProc->lxid)
#endif
static struct
{
	LocalTransactionId lxid;
	int32		queue_id;
	int64		from;
}			resume;
static SPIPlanPtr fifo_scan_plan[2];
static SPIPlanPtr fifo_group_plan[2];
static SPIPlanPtr deliver_plan[2];
static SPIPlanPtr move_plan[2][2];
static SPIPlanPtr attempt_replay_plan[2];

typedef struct ReceiveOutput
{
	QueueInfo  *queue;
	int32		visibility;		/* the receive's visibility timeout */
	Tuplestorestate *store;
	TupleDesc	desc;
	int			delivered;
} ReceiveOutput;

/* ---- building result rows ---- */

static char *
epoch_ms(TimestampTz ts)
{
	/* TimestampTz counts microseconds from 2000-01-01 */
	int64		ms = (ts / 1000) + (int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY * 1000;

	return psprintf(INT64_FORMAT, ms);
}

static void
emit_row(ReceiveOutput *out, HeapTuple tup, TupleDesc desc)
{
	Datum		values[11];
	bool		nulls[11];
	bool		isnull;
	int64		msg_id = DatumGetInt64(SPI_getbinval(tup, desc, COL_MSG_ID, &isnull));
	int64		receipt = DatumGetInt64(SPI_getbinval(tup, desc, COL_RECEIPT, &isnull));
	int32		count = DatumGetInt32(SPI_getbinval(tup, desc, COL_RECEIVE_COUNT, &isnull));
	text	   *body = DatumGetTextPP(SPI_getbinval(tup, desc, COL_BODY, &isnull));
	Datum		attributes = SPI_getbinval(tup, desc, COL_ATTRIBUTES, &isnull);
	bool		attributes_null = isnull;
	Datum		sysattrs = SPI_getbinval(tup, desc, COL_SYSTEM_ATTRIBUTES, &isnull);
	bool		sysattrs_null = isnull;
	TimestampTz sent_at = DatumGetTimestampTz(SPI_getbinval(tup, desc, COL_SENT_AT, &isnull));
	TimestampTz first = DatumGetTimestampTz(SPI_getbinval(tup, desc, COL_FIRST_RECEIVED_AT, &isnull));
	char	   *group_id = SPI_getvalue(tup, desc, COL_GROUP_ID);
	char	   *dedup_id = SPI_getvalue(tup, desc, COL_DEDUP_ID);
	char	   *sender = SPI_getvalue(tup, desc, COL_SENDER);
	char		md5[33];
	JsonbParseState *st = NULL;
	QueueInfo  *q = out->queue;
#if PG_VERSION_NUM >= 150000
	const char *md5_errstr = NULL;

	if (!pg_md5_hash(VARDATA_ANY(body), VARSIZE_ANY_EXHDR(body), md5, &md5_errstr))
#else
	if (!pg_md5_hash(VARDATA_ANY(body), VARSIZE_ANY_EXHDR(body), md5))
#endif
		elog(ERROR, "could not compute MD5 digest");

	memset(nulls, false, sizeof(nulls));
	values[0] = UUIDPGetDatum(queue_message_uuid(msg_id));
	values[1] = CStringGetTextDatum(queue_receipt_encode(q->queue_id, msg_id, receipt));
	values[2] = PointerGetDatum(body);
	values[3] = CStringGetTextDatum(md5);
	if (attributes_null)
	{
		nulls[4] = true;
		nulls[5] = true;
	}
	else
	{
		char		amd5[33];

		queue_md5_attributes(DatumGetJsonbP(attributes), amd5);
		values[4] = attributes;
		values[5] = CStringGetTextDatum(amd5);
	}

	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	outbox_jsonb_push_string(&st, "SenderId", sender);
	outbox_jsonb_push_string(&st, "SentTimestamp", epoch_ms(sent_at));
	outbox_jsonb_push_string(&st, "ApproximateReceiveCount", psprintf("%d", count));
	outbox_jsonb_push_string(&st, "ApproximateFirstReceiveTimestamp", epoch_ms(first));
	if (group_id)
		outbox_jsonb_push_string(&st, "MessageGroupId", group_id);
	if (q->is_fifo)
	{
		if (dedup_id)
			outbox_jsonb_push_string(&st, "MessageDeduplicationId", dedup_id);
		outbox_jsonb_push_string(&st, "SequenceNumber", queue_sequence_number(msg_id));
	}
	if (!sysattrs_null)
	{
		Jsonb	   *sj = DatumGetJsonbP(sysattrs);
		JsonbIterator *it = JsonbIteratorInit(&sj->root);
		JsonbValue	v;
		char	   *key;

		while (outbox_jsonb_next_pair(&it, &key, &v))
		{
			if (v.type == jbvString)
				outbox_jsonb_push_string(&st, key, pnstrdup(v.val.string.val, v.val.string.len));
			else if (v.type == jbvBinary && strcmp(key, "AWSTraceHeader") == 0)
			{
				JsonbValue *sv = outbox_jsonb_get(v.val.binary.data, "StringValue");

				if (sv && sv->type == jbvString)
					outbox_jsonb_push_string(&st, key, pnstrdup(sv->val.string.val, sv->val.string.len));
			}
		}
	}
	values[6] = JsonbPGetDatum(JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL)));
	values[7] = TimestampTzGetDatum(sent_at);
	values[8] = Int32GetDatum(count);
	if (group_id)
		values[9] = CStringGetTextDatum(group_id);
	else
		nulls[9] = true;
	if (q->is_fifo)
		values[10] = CStringGetTextDatum(queue_sequence_number(msg_id));
	else
		nulls[10] = true;

	tuplestore_putvalues(out->store, out->desc, values, nulls);
	out->delivered++;
	/* the message was visible; with a visibility timeout it is in flight now */
	if (out->visibility > 0)
		queue_stats_note(q, -1, 1, 0);
}

/*
 * Emit the rows of a delivery query.  The table and count are taken as
 * arguments: emitting may run SPI (a cache reload), which replaces
 * SPI_tuptable and SPI_processed.
 */
static void
emit_rows(ReceiveOutput *out, SPITupleTable *tuptable, uint64 processed)
{
	uint64		i;

	for (i = 0; i < processed; i++)
		emit_row(out, tuptable->vals[i], tuptable->tupdesc);
}

/* ---- dead-letter moves ---- */

/*
 * Move locked messages of "q" to its dead-letter queue.  The message keeps
 * its number (and so its MessageId), body, attributes and SentTimestamp; it
 * gains DeadLetterQueueSourceArn.  Standard queues keep the original
 * enqueue time for retention; FIFO queues restart it (as SQS does).
 */
static void
move_to_dead_letter_queue(QueueInfo *q, QueueInfo *dlq, int64 *ids, int n)
{
	SPIPlanPtr *plan = &move_plan[q->is_unlogged][dlq->is_unlogged];
	Datum	   *id_datums = palloc(sizeof(Datum) * n);
	Datum		values[7];
	TimestampTz now = outbox_now();
	int			i;

	if (*plan == NULL)
	{
		Oid			argtypes[7] = {INT4OID, INT8ARRAYOID, INT4OID, TIMESTAMPTZOID, BOOLOID, TIMESTAMPTZOID, TEXTOID};
		char	   *sql = psprintf("WITH moved AS (DELETE FROM %s WHERE queue_id = $1 AND msg_id = ANY ($2) RETURNING *) "
								   "INSERT INTO %s (queue_id, msg_id, visible_at, enqueued_at, sent_at, receive_count, "
								   "sender, body, attributes, system_attributes, group_id, dedup_id) "
								   "SELECT $3, msg_id, $4, CASE WHEN $5 THEN $6 ELSE enqueued_at END, sent_at, 0, "
								   "sender, body, attributes, "
								   "coalesce(system_attributes, '{}') || jsonb_build_object('DeadLetterQueueSourceArn', $7), "
								   "group_id, dedup_id FROM moved",
								   QUEUE_TABLE(q->is_unlogged), QUEUE_TABLE(dlq->is_unlogged));

		*plan = outbox_prepare_plan(sql, 7, argtypes);
	}
	for (i = 0; i < n; i++)
	{
		id_datums[i] = Int64GetDatum(ids[i]);
		queue_cursor_insert_old(dlq, ids[i]);
	}
	values[0] = Int32GetDatum(q->queue_id);
	values[1] = PointerGetDatum(construct_array(id_datums, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	values[2] = Int32GetDatum(dlq->queue_id);
	values[3] = TimestampTzGetDatum(now + (int64) dlq->delay_seconds * USECS_PER_SEC);
	values[4] = BoolGetDatum(q->is_fifo);
	values[5] = TimestampTzGetDatum(now);
	values[6] = CStringGetTextDatum(queue_arn(q->name));
	queue_spi_exec(*plan, values, NULL, false, 0, SPI_OK_INSERT);
	queue_stats_note(q, -n, 0, 0);
	queue_stats_note(dlq, dlq->delay_seconds > 0 ? 0 : n, 0, dlq->delay_seconds > 0 ? n : 0);
	queue_wake_at_commit(dlq->queue_id);
}

/*
 * The queue's dead-letter queue and its maxReceiveCount; with none (or a
 * RedrivePolicy naming a queue that was deleted since) messages are never
 * moved.
 */
static QueueInfo *
dead_letter_queue(QueueInfo *q, int32 *max_receive_count)
{
	QueueInfo  *dlq;

	*max_receive_count = PG_INT32_MAX;
	if (q->dead_letter_queue == NULL)
		return NULL;
	dlq = queue_lookup(q->dead_letter_queue, true);
	if (dlq == NULL)
	{
		ereport(WARNING,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("dead-letter queue \"%s\" of queue \"%s\" does not exist; messages stay in the source queue",
						q->dead_letter_queue, q->name),
				 errhint("Fix the queue's RedrivePolicy with outbox.set_queue_attributes.")));
		return NULL;
	}
	*max_receive_count = q->max_receive_count;
	return dlq;
}

/* ---- standard queues ---- */

static int
receive_standard(ReceiveOutput *out, int max, int32 visibility, TimestampTz now)
{
	QueueInfo  *q = out->queue;
	QueueInfo  *dlq;
	int32		max_receive_count;
	SPIPlanPtr *plan = &std_receive_plan[q->is_unlogged];
	int			rounds;
	int			start = out->delivered;
	int64		scan_from;

	if (*plan == NULL)
	{
		Oid			argtypes[8] = {INT4OID, TIMESTAMPTZOID, TIMESTAMPTZOID, INT4OID, TIMESTAMPTZOID, INT8OID, INT4OID, INT8OID};
		const char *t = QUEUE_TABLE(q->is_unlogged);
		char	   *sql = psprintf("WITH c AS ("
								   " SELECT msg_id, receive_count FROM %s"
								   " WHERE queue_id = $1 AND msg_id >= $8 AND visible_at <= $2 AND enqueued_at > $3"
								   " ORDER BY msg_id LIMIT $4 FOR UPDATE SKIP LOCKED), "
								   "u AS ("
								   " UPDATE %s m SET visible_at = $5, receive_count = m.receive_count + 1,"
								   " receipt = $6 # m.msg_id, first_received_at = coalesce(m.first_received_at, $2),"
								   " received_at = $2"
								   " FROM c WHERE m.queue_id = $1 AND m.msg_id = c.msg_id AND c.receive_count < $7"
								   " RETURNING " DELIVERY_COLUMNS ") "
								   "SELECT u.*, false FROM u "
								   "UNION ALL "
								   "SELECT c.msg_id, NULL::bigint, c.receive_count, NULL::text, NULL::jsonb, NULL::jsonb,"
								   " NULL::timestamptz, NULL::timestamptz, NULL::text, NULL::text, NULL::name, true"
								   " FROM c WHERE c.receive_count >= $7",
								   t, t);

		*plan = outbox_prepare_plan(sql, 8, argtypes);
	}

	dlq = dead_letter_queue(q, &max_receive_count);
	queue_cursor_advance(q);
	scan_from = queue_cursor_low(q);

	/*
	 * Within one transaction, resume after the last message an earlier
	 * receive of this queue returned.  What lies below is deleted by this
	 * transaction (still in the index until it commits: a batch consumer
	 * that receives and deletes many batches in one transaction would scan
	 * them all again each time), in flight, or became visible meanwhile --
	 * the last are returned by the next transaction, not this one.
	 */
	if (resume.lxid == MY_LXID && resume.queue_id == q->queue_id && resume.from > scan_from)
		scan_from = resume.from;

	/*
	 * A round that moved messages to the dead-letter queue leaves room:
	 * refill.  The next round starts after the last message this one picked,
	 * or a message just delivered with a visibility timeout of 0 (visible
	 * again at once) would be picked, and returned, a second time.
	 */
	for (rounds = 0; rounds < 10 && out->delivered - start < max; rounds++)
	{
		Datum		values[8];
		int64	   *to_move;
		int			n_move = 0;
		uint64		i;
		SPITupleTable *tuptable;
		uint64		processed;

		values[0] = Int32GetDatum(q->queue_id);
		values[1] = TimestampTzGetDatum(now);
		values[2] = TimestampTzGetDatum(now - (int64) q->retention_seconds * USECS_PER_SEC);
		values[3] = Int32GetDatum(max - (out->delivered - start));
		values[4] = TimestampTzGetDatum(now + (int64) visibility * USECS_PER_SEC);
		values[5] = Int64GetDatum(queue_new_receipt_base());
		values[6] = Int32GetDatum(max_receive_count);
		values[7] = Int64GetDatum(scan_from);
		queue_spi_exec(*plan, values, NULL, false, 0, SPI_OK_SELECT);

		tuptable = SPI_tuptable;
		processed = SPI_processed;
		to_move = palloc(sizeof(int64) * (processed + 1));
		for (i = 0; i < processed; i++)
		{
			bool		isnull;
			HeapTuple	tup = tuptable->vals[i];
			int64		msg_id = DatumGetInt64(SPI_getbinval(tup, tuptable->tupdesc, COL_MSG_ID, &isnull));

			if (msg_id >= scan_from)
				scan_from = msg_id + 1;
			if (DatumGetBool(SPI_getbinval(tup, tuptable->tupdesc, COL_TO_DLQ, &isnull)))
				to_move[n_move++] = DatumGetInt64(SPI_getbinval(tup, tuptable->tupdesc, COL_MSG_ID, &isnull));
			else
				emit_row(out, tup, tuptable->tupdesc);
		}
		if (n_move == 0 || dlq == NULL)
			break;
		move_to_dead_letter_queue(q, dlq, to_move, n_move);
	}
	resume.lxid = MY_LXID;
	resume.queue_id = q->queue_id;
	resume.from = scan_from;
	return out->delivered - start;
}

/* ---- FIFO queues ---- */

static bool
try_lock_group(QueueInfo *q, const char *group_id)
{
	LOCKTAG		tag;
	uint32		h = hash_bytes((const unsigned char *) group_id, strlen(group_id));

	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, (uint32) q->queue_id, h, FIFO_GROUP_LOCK_CLASS);
	return LockAcquire(&tag, ExclusiveLock, false, true) != LOCKACQUIRE_NOT_AVAIL;
}

/* Mark the given messages in flight and emit them, in the given order. */
static void
deliver_ids(ReceiveOutput *out, int64 *ids, int n, int32 visibility, TimestampTz now)
{
	QueueInfo  *q = out->queue;
	SPIPlanPtr *plan = &deliver_plan[q->is_unlogged];
	Datum	   *id_datums;
	Datum		values[5];
	int			k;

	if (n == 0)
		return;
	if (*plan == NULL)
	{
		Oid			argtypes[5] = {INT4OID, INT8ARRAYOID, TIMESTAMPTZOID, TIMESTAMPTZOID, INT8OID};
		char	   *sql = psprintf("WITH u AS (UPDATE %s m SET visible_at = $4, receive_count = m.receive_count + 1,"
								   " receipt = $5 # m.msg_id, first_received_at = coalesce(m.first_received_at, $3),"
								   " received_at = $3"
								   " WHERE m.queue_id = $1 AND m.msg_id = ANY ($2) RETURNING " DELIVERY_COLUMNS ") "
								   "SELECT * FROM u ORDER BY array_position($2, u.msg_id)",
								   QUEUE_TABLE(q->is_unlogged));

		*plan = outbox_prepare_plan(sql, 5, argtypes);
	}
	id_datums = palloc(sizeof(Datum) * n);
	for (k = 0; k < n; k++)
		id_datums[k] = Int64GetDatum(ids[k]);
	values[0] = Int32GetDatum(q->queue_id);
	values[1] = PointerGetDatum(construct_array(id_datums, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	values[2] = TimestampTzGetDatum(now);
	values[3] = TimestampTzGetDatum(now + (int64) visibility * USECS_PER_SEC);
	values[4] = Int64GetDatum(queue_new_receipt_base());
	queue_spi_exec(*plan, values, NULL, false, 0, SPI_OK_SELECT);
	emit_rows(out, SPI_tuptable, SPI_processed);
}

/*
 * Whether a received message of the group is in flight, given the first
 * "window" rows of the group (msg_id, visible, alive, receive_count, in
 * msg_id order) as collect_group read them.  Only if every row of a full
 * window was received before does the rest of the received prefix need a
 * look of its own; that is rare (a long batch partly made visible again).
 */
static bool
group_has_message_in_flight(QueueInfo *q, const char *group_id, SPITupleTable *rows,
							uint64 nrows, int window, TimestampTz now)
{
	uint64		i;
	int64		last = 0;
	Oid			argtypes[5] = {INT4OID, TEXTOID, INT8OID, TIMESTAMPTZOID, TIMESTAMPTZOID};
	Datum		values[5];
	int			rc;

	for (i = 0; i < nrows; i++)
	{
		HeapTuple	tup = rows->vals[i];
		bool		isnull;
		bool		visible = DatumGetBool(SPI_getbinval(tup, rows->tupdesc, 2, &isnull));
		bool		alive = DatumGetBool(SPI_getbinval(tup, rows->tupdesc, 3, &isnull));
		int32		count = DatumGetInt32(SPI_getbinval(tup, rows->tupdesc, 4, &isnull));

		if (!alive)
			continue;
		if (count == 0)
			return false;		/* the end of the received prefix */
		if (!visible)
			return true;
		last = DatumGetInt64(SPI_getbinval(tup, rows->tupdesc, 1, &isnull));
	}
	if (nrows < (uint64) window)
		return false;

	values[0] = Int32GetDatum(q->queue_id);
	values[1] = CStringGetTextDatum(group_id);
	values[2] = Int64GetDatum(last);
	values[3] = TimestampTzGetDatum(now);
	values[4] = TimestampTzGetDatum(now - (int64) q->retention_seconds * USECS_PER_SEC);
	rc = SPI_execute_with_args(psprintf("SELECT 1 FROM %s WHERE queue_id = $1 AND group_id = $2 AND msg_id > $3"
										" AND receive_count > 0 AND visible_at > $4 AND enqueued_at > $5 LIMIT 1",
										QUEUE_TABLE(q->is_unlogged)),
							   5, argtypes, values, NULL, true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
	return SPI_processed > 0;
}

/*
 * Lock group "group_id" and collect its deliverable prefix into ids[].
 * Returns the number collected (at most room).
 */
static int
collect_group(QueueInfo *q, QueueInfo *dlq, int32 max_receive_count, const char *group_id,
			  int room, TimestampTz now, int64 *ids)
{
	SPIPlanPtr *plan = &fifo_group_plan[q->is_unlogged];
	Datum		values[5];
	int64	   *to_move;
	int			n_move = 0;
	int			n = 0;
	uint64		i;
	SPITupleTable *rows;
	uint64		nrows;

	if (!try_lock_group(q, group_id))
		return 0;

	if (*plan == NULL)
	{
		Oid			argtypes[5] = {INT4OID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID, INT4OID};
		char	   *sql = psprintf("SELECT msg_id, visible_at <= $3, enqueued_at > $4, receive_count FROM %s"
								   " WHERE queue_id = $1 AND group_id = $2 ORDER BY msg_id LIMIT $5 FOR UPDATE",
								   QUEUE_TABLE(q->is_unlogged));

		*plan = outbox_prepare_plan(sql, 5, argtypes);
	}
	values[0] = Int32GetDatum(q->queue_id);
	values[1] = CStringGetTextDatum(group_id);
	values[2] = TimestampTzGetDatum(now);
	values[3] = TimestampTzGetDatum(now - (int64) q->retention_seconds * USECS_PER_SEC);
	/* a few extra rows: dead-letter moves and expired heads do not count */
	values[4] = Int32GetDatum(room + 10);
	queue_spi_exec(*plan, values, NULL, false, 0, SPI_OK_SELECT);

	/*
	 * The head decides for the group, but a message after a visible head can
	 * still be in flight: of a batch a1..a3, a2 alone timed out or was made
	 * visible.  The group stays blocked until a3 is done too (SQS edge case:
	 * a2 and a3 go back before a4, and never to two consumers at once).
	 * Messages are received in group order, so such a message is among the
	 * received prefix of the group: look there.
	 */
	rows = SPI_tuptable;
	nrows = SPI_processed;
	if (group_has_message_in_flight(q, group_id, rows, nrows, room + 10, now))
		return 0;

	to_move = palloc(sizeof(int64) * (nrows + 1));
	for (i = 0; i < nrows && n < room; i++)
	{
		HeapTuple	tup = rows->vals[i];
		TupleDesc	desc = rows->tupdesc;
		bool		isnull;
		int64		msg_id = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
		bool		visible = DatumGetBool(SPI_getbinval(tup, desc, 2, &isnull));
		bool		alive = DatumGetBool(SPI_getbinval(tup, desc, 3, &isnull));
		int32		count = DatumGetInt32(SPI_getbinval(tup, desc, 4, &isnull));

		if (!alive)
			continue;			/* past retention: as good as gone */
		if (!visible)
			break;				/* in flight or delayed: the group is blocked here */
		if (dlq && count >= max_receive_count)
		{
			to_move[n_move++] = msg_id;
			continue;			/* moving the head unblocks the group, as in SQS */
		}
		ids[n++] = msg_id;
	}
	if (n_move > 0)
		move_to_dead_letter_queue(q, dlq, to_move, n_move);
	return n;
}

static int
receive_fifo(ReceiveOutput *out, int max, int32 visibility, TimestampTz now)
{
	QueueInfo  *q = out->queue;
	SPIPlanPtr *plan = &fifo_scan_plan[q->is_unlogged];
	QueueInfo  *dlq;
	int32		max_receive_count;
	HTAB	   *seen;
	HASHCTL		ctl;
	int64	   *ids = palloc(sizeof(int64) * max);
	int			n = 0;
	int64		after;
	bool		more = true;

	if (*plan == NULL)
	{
		Oid			argtypes[4] = {INT4OID, TIMESTAMPTZOID, TIMESTAMPTZOID, INT8OID};
		char	   *sql = psprintf("SELECT msg_id, group_id, visible_at <= $2 FROM %s"
								   " WHERE queue_id = $1 AND enqueued_at > $3 AND msg_id > $4"
								   " ORDER BY msg_id LIMIT 1000",
								   QUEUE_TABLE(q->is_unlogged));

		*plan = outbox_prepare_plan(sql, 4, argtypes);
	}
	dlq = dead_letter_queue(q, &max_receive_count);
	queue_cursor_advance(q);
	after = queue_cursor_low(q) - 1;

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = QUEUE_ID_MAX + 1;
	ctl.entrysize = QUEUE_ID_MAX + 1;
	ctl.hcxt = CurrentMemoryContext;
	seen = hash_create("pg_outbox fifo groups", 64, &ctl, HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);

	while (more && n < max)
	{
		Datum		values[4];
		SPITupleTable *tuptable;
		uint64		processed;
		uint64		i;
		char	  **candidates;
		int			ncandidates = 0;
		int			c;

		values[0] = Int32GetDatum(q->queue_id);
		values[1] = TimestampTzGetDatum(now);
		values[2] = TimestampTzGetDatum(now - (int64) q->retention_seconds * USECS_PER_SEC);
		values[3] = Int64GetDatum(after);
		queue_spi_exec(*plan, values, NULL, true, 0, SPI_OK_SELECT);
		tuptable = SPI_tuptable;
		processed = SPI_processed;
		more = (processed == 1000);
		candidates = palloc(sizeof(char *) * (processed + 1));

		for (i = 0; i < processed; i++)
		{
			HeapTuple	tup = tuptable->vals[i];
			bool		isnull;
			char	   *group = SPI_getvalue(tup, tuptable->tupdesc, 2);
			bool		visible = DatumGetBool(SPI_getbinval(tup, tuptable->tupdesc, 3, &isnull));
			bool		found;

			after = DatumGetInt64(SPI_getbinval(tup, tuptable->tupdesc, 1, &isnull));
			if (group == NULL)
				continue;
			hash_search(seen, group, HASH_ENTER, &found);
			if (found)
				continue;		/* not the head of its group */
			if (visible)
				candidates[ncandidates++] = group;
		}

		for (c = 0; c < ncandidates && n < max; c++)
			n += collect_group(q, dlq, max_receive_count, candidates[c], max - n, now, ids + n);
	}
	deliver_ids(out, ids, n, visibility, now);
	return n;
}

/*
 * FIFO ReceiveRequestAttemptId: a retried receive with the same attempt id
 * within five minutes gets the same messages and receipt handles back, as
 * long as all of them are still in flight under those handles.
 */
static bool
replay_attempt(ReceiveOutput *out, const char *attempt_id, TimestampTz now)
{
	QueueInfo  *q = out->queue;
	SPIPlanPtr *plan = &attempt_replay_plan[q->is_unlogged];
	Datum		values[4];
	int			rc;
	Oid			argtypes[3] = {INT4OID, TEXTOID, TIMESTAMPTZOID};
	int			expected;
	bool		isnull;
	Datum		ids;
	Datum		receipts;

	values[0] = Int32GetDatum(q->queue_id);
	values[1] = CStringGetTextDatum(attempt_id);
	values[2] = TimestampTzGetDatum(now);
	rc = SPI_execute_with_args("SELECT msg_ids, receipts FROM outbox.receive_attempt "
							   "WHERE queue_id = $1 AND attempt_id = $2 AND expires_at > $3",
							   3, argtypes, values, NULL, true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
	if (SPI_processed == 0)
		return false;
	ids = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	receipts = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
	expected = ArrayGetNItems(ARR_NDIM(DatumGetArrayTypeP(ids)), ARR_DIMS(DatumGetArrayTypeP(ids)));

	if (*plan == NULL)
	{
		Oid			types[4] = {INT4OID, INT8ARRAYOID, INT8ARRAYOID, TIMESTAMPTZOID};
		char	   *sql = psprintf("SELECT " DELIVERY_COLUMNS " FROM unnest($2, $3) WITH ORDINALITY AS a(id, r, ord)"
								   " JOIN %s m ON m.queue_id = $1 AND m.msg_id = a.id AND m.receipt = a.r"
								   " AND m.visible_at > $4 ORDER BY a.ord",
								   QUEUE_TABLE(q->is_unlogged));

		*plan = outbox_prepare_plan(sql, 4, types);
	}
	values[1] = ids;
	values[2] = receipts;
	values[3] = TimestampTzGetDatum(now);
	queue_spi_exec(*plan, values, NULL, true, 0, SPI_OK_SELECT);
	if ((int) SPI_processed != expected || expected == 0)
		return false;
	emit_rows(out, SPI_tuptable, SPI_processed);
	return true;
}

static void
remember_attempt(ReceiveOutput *out, const char *attempt_id, TimestampTz now, int first_row)
{
	/* The handles just emitted are in the tuplestore; re-read them. */
	QueueInfo  *q = out->queue;
	TupleTableSlot *slot = MakeSingleTupleTableSlot(out->desc, &TTSOpsMinimalTuple);
	Datum	   *ids = palloc(sizeof(Datum) * (out->delivered + 1));
	Datum	   *receipts = palloc(sizeof(Datum) * (out->delivered + 1));
	int			n = 0;
	int			row = 0;
	Oid			argtypes[5] = {INT4OID, TEXTOID, INT8ARRAYOID, INT8ARRAYOID, TIMESTAMPTZOID};
	Datum		values[5];
	int			rc;

	tuplestore_rescan(out->store);
	while (tuplestore_gettupleslot(out->store, true, false, slot))
	{
		bool		isnull;
		char	   *handle;
		ReceiptHandle rh;

		if (row++ < first_row)
			continue;
		handle = TextDatumGetCString(slot_getattr(slot, 2, &isnull));
		queue_receipt_decode(q, handle, &rh);
		ids[n] = Int64GetDatum(rh.msg_id);
		receipts[n] = Int64GetDatum(rh.receipt);
		n++;
	}
	ExecDropSingleTupleTableSlot(slot);
	if (n == 0)
		return;

	values[0] = Int32GetDatum(q->queue_id);
	values[1] = CStringGetTextDatum(attempt_id);
	values[2] = PointerGetDatum(construct_array(ids, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	values[3] = PointerGetDatum(construct_array(receipts, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	values[4] = TimestampTzGetDatum(now + (int64) QUEUE_DEDUP_WINDOW_SECS * USECS_PER_SEC);
	rc = SPI_execute_with_args("INSERT INTO outbox.receive_attempt AS a (queue_id, attempt_id, msg_ids, receipts, expires_at) "
							   "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (queue_id, attempt_id) DO UPDATE "
							   "SET msg_ids = EXCLUDED.msg_ids, receipts = EXCLUDED.receipts, expires_at = EXCLUDED.expires_at",
							   5, argtypes, values, NULL, false, 0);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
}

/*
 * When the next message of the queue that is delayed or in flight becomes
 * visible; 0 if none is.  A long poll sleeps no longer than that.
 */
static TimestampTz
next_due(QueueInfo *q, TimestampTz now)
{
	static SPIPlanPtr plan[2];
	Datum		values[3];
	bool		isnull;
	Datum		d;

	if (plan[q->is_unlogged] == NULL)
	{
		Oid			argtypes[3] = {INT4OID, TIMESTAMPTZOID, INT8OID};
		char	   *sql = psprintf("SELECT min(visible_at) FROM %s WHERE queue_id = $1 AND msg_id >= $3 AND visible_at > $2",
								   QUEUE_TABLE(q->is_unlogged));

		plan[q->is_unlogged] = outbox_prepare_custom_plan(sql, 3, argtypes);
	}
	values[0] = Int32GetDatum(q->queue_id);
	values[1] = TimestampTzGetDatum(now);
	values[2] = Int64GetDatum(queue_cursor_low(q));
	queue_spi_exec(plan[q->is_unlogged], values, NULL, true, 1, SPI_OK_SELECT);
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return isnull ? 0 : DatumGetTimestampTz(d);
}

/*
 * Receive into "store".  Long-polls when req->wait_seconds > 0: returns as
 * soon as at least one message was received, or empty when the time is up.
 */
void
queue_receive(QueueInfo *q, ReceiveRequest *req, Tuplestorestate *store, TupleDesc desc)
{
	ReceiveOutput out;
	TimestampTz now = outbox_now();
	TimestampTz deadline = now + (int64) req->wait_seconds * USECS_PER_SEC;
	TimestampTz due;

	/* message ids need the installation secret: read it before any query */
	(void) queue_installation_secret();

	out.queue = q;
	out.visibility = req->visibility_timeout;
	out.store = store;
	out.desc = desc;
	out.delivered = 0;

	if (req->attempt_id && replay_attempt(&out, req->attempt_id, now))
		return;

	for (;;)
	{
		if (req->wait_seconds > 0)
			queue_wait_begin_attempt(q->queue_id);

		if (q->is_fifo)
			receive_fifo(&out, req->max_messages, req->visibility_timeout, now);
		else
			receive_standard(&out, req->max_messages, req->visibility_timeout, now);

		if (out.delivered > 0 || req->wait_seconds == 0 || now >= deadline)
			break;
		due = next_due(q, now);
		(void) queue_wait_for_message(q->queue_id, (due > 0 && due < deadline) ? due : deadline);
		now = outbox_now();
	}

	if (req->attempt_id && out.delivered > 0)
		remember_attempt(&out, req->attempt_id, now, 0);
}
