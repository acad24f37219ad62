/*-------------------------------------------------------------------------
 *
 * queue_send.c
 *	  Sending: one message or a batch, standard or FIFO.
 *
 * A send is an INSERT in the caller's transaction, so the message commits
 * or rolls back with the caller's other writes; receivers can only see it
 * after commit, and long-polling receivers are woken at that commit (see
 * queue_wait.c), never for a send that rolled back.
 *
 * Standard queues.  One INSERT through a kept plan; a batch is one INSERT
 * of arrays (unnest), with message numbers taken from the sequence first.
 *
 * FIFO queues.  Three rules, each with its lock:
 *  1. Within a group, message numbers follow commit order.  A send first
 *	   upserts the group's row in outbox.fifo_group, which holds that row's
 *	   lock until commit; a concurrent send to the same group waits for it,
 *	   and only then draws its number.  Groups do not wait for each other.
 *  2. Exactly-once within five minutes: the deduplication id (or the hex
 *	   SHA-256 of the body, which then becomes the message's deduplication
 *	   id, as in SQS) is inserted into outbox.fifo_dedup; a conflicting row
 *	   that has not expired makes the send a duplicate, which succeeds and
 *	   returns the original MessageId and SequenceNumber without enqueuing.
 *	   A concurrent duplicate waits on the unique index for the first
 *	   sender's transaction and then sees its row -- or, if that one rolled
 *	   back, becomes the original itself.
 *  3. No per-message delay (checked in queue_prepare_message).
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/queue/queue_send.c
 *
 *-------------------------------------------------------------------------
 */
#include "pg_outbox.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "core/clock.h"
#include "queue/queue.h"

static SPIPlanPtr insert_plan[2];
static SPIPlanPtr insert_batch_plan[2];
static SPIPlanPtr group_lock_plan;
static SPIPlanPtr dedup_plan;
static SPIPlanPtr dedup_lookup_plan;

static Oid	cached_sender_role = InvalidOid;
static NameData cached_sender_name;

static Datum
sender_name(void)
{
	if (cached_sender_role != outbox_current_caller)
	{
		namestrcpy(&cached_sender_name, GetUserNameFromId(outbox_current_caller, false));
		cached_sender_role = outbox_current_caller;
	}
	return NameGetDatum(&cached_sender_name);
}

/*
 * Draw a message number for an insert into q, announced to the queue's
 * low-water mark first (queue_cursor.c explains why).
 */
static Oid	message_seq_oid = InvalidOid;

/* Forget cached catalog facts (the extension may have been re-created). */
void
queue_send_reset_cache(void)
{
	message_seq_oid = InvalidOid;
}

static int64
next_msg_id(QueueInfo *q)
{
	int64		msg_id;

	if (!OidIsValid(message_seq_oid))
		message_seq_oid = get_relname_relid("message_id_seq", get_namespace_oid(OUTBOX_SCHEMA, false));
	queue_cursor_before_draw(q);
	msg_id = DatumGetInt64(DirectFunctionCall1(nextval_oid, ObjectIdGetDatum(message_seq_oid)));
	queue_cursor_after_draw(q, msg_id);
	return msg_id;
}

static SPIPlanPtr
get_insert_plan(bool unlogged)
{
	if (insert_plan[unlogged] == NULL)
	{
		Oid			argtypes[10] = {INT4OID, INT8OID, TIMESTAMPTZOID, TIMESTAMPTZOID, NAMEOID,
		TEXTOID, JSONBOID, JSONBOID, TEXTOID, TEXTOID};
		char	   *sql = psprintf("INSERT INTO %s (queue_id, msg_id, visible_at, enqueued_at, sent_at, "
								   "sender, body, attributes, system_attributes, group_id, dedup_id) "
								   "VALUES ($1, $2, $3, $4, $4, $5, $6, $7, $8, $9, $10)",
								   QUEUE_TABLE(unlogged));

		insert_plan[unlogged] = outbox_prepare_plan(sql, 10, argtypes);
	}
	return insert_plan[unlogged];
}

/*
 * FIFO: lock the group (rule 1) and claim the deduplication id (rule 2).
 * Returns the message number to use, or the original's with *duplicate.
 */
static int64
fifo_claim(QueueInfo *q, OutgoingMessage *msg, TimestampTz now, bool *duplicate)
{
	Datum		values[6];
	char	   *dedup;
	int64		msg_id;
	bool		isnull;

	if (group_lock_plan == NULL)
	{
		Oid			argtypes[2] = {INT4OID, TEXTOID};

		group_lock_plan = outbox_prepare_plan("INSERT INTO outbox.fifo_group AS g (queue_id, group_id) VALUES ($1, $2) "
											 "ON CONFLICT (queue_id, group_id) DO UPDATE SET sends = g.sends + 1",
											 2, argtypes);
	}
	if (dedup_plan == NULL)
	{
		Oid			argtypes[6] = {INT4OID, TEXTOID, TEXTOID, INT8OID, TIMESTAMPTZOID, TIMESTAMPTZOID};

		dedup_plan = outbox_prepare_plan("INSERT INTO outbox.fifo_dedup AS d (queue_id, group_key, dedup_id, msg_id, expires_at) "
										"VALUES ($1, $2, $3, $4, $5) "
										"ON CONFLICT (queue_id, group_key, dedup_id) DO UPDATE "
										"SET msg_id = EXCLUDED.msg_id, expires_at = EXCLUDED.expires_at "
										"WHERE d.expires_at <= $6 RETURNING d.msg_id",
										6, argtypes);
	}
	if (dedup_lookup_plan == NULL)
	{
		Oid			argtypes[3] = {INT4OID, TEXTOID, TEXTOID};

		dedup_lookup_plan = outbox_prepare_plan("SELECT msg_id FROM outbox.fifo_dedup "
											   "WHERE queue_id = $1 AND group_key = $2 AND dedup_id = $3",
											   3, argtypes);
	}

	values[0] = Int32GetDatum(q->queue_id);
	values[1] = CStringGetTextDatum(msg->group_id);
	queue_spi_exec(group_lock_plan, values, NULL, false, 0, SPI_OK_INSERT);

	if (msg->dedup_id)
		dedup = msg->dedup_id;
	else
	{
		bytea	   *digest = DatumGetByteaPP(DirectFunctionCall1(sha256_bytea, PointerGetDatum(msg->body)));
		int			len = VARSIZE_ANY_EXHDR(digest);

		dedup = palloc(len * 2 + 1);
		hex_encode(VARDATA_ANY(digest), len, dedup);
		dedup[len * 2] = '\0';
		/* the message keeps it: receives show it as MessageDeduplicationId */
		msg->dedup_id = dedup;
	}

	msg_id = next_msg_id(q);
	values[1] = CStringGetTextDatum(q->dedup_scope_group ? msg->group_id : "");
	values[2] = CStringGetTextDatum(dedup);
	values[3] = Int64GetDatum(msg_id);
	values[4] = TimestampTzGetDatum(now + (int64) QUEUE_DEDUP_WINDOW_SECS * USECS_PER_SEC);
	values[5] = TimestampTzGetDatum(now);
	queue_spi_exec(dedup_plan, values, NULL, false, 0, SPI_OK_INSERT_RETURNING);
	if (SPI_processed == 1)
	{
		*duplicate = false;
		return msg_id;
	}

	queue_spi_exec(dedup_lookup_plan, values, NULL, false, 1, SPI_OK_SELECT);
	if (SPI_processed != 1)
		elog(ERROR, "deduplication entry of queue %d vanished", q->queue_id);
	*duplicate = true;
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/*
 * Send one validated message (queue_prepare_message has run on it).
 */
SentMessage
queue_send(QueueInfo *q, OutgoingMessage *msg)
{
	SentMessage result;
	TimestampTz now = outbox_now();
	int32		delay = msg->delay_seconds >= 0 ? msg->delay_seconds : q->delay_seconds;
	Datum		values[10];
	char		nulls[10];

	result.duplicate = false;
	if (q->is_fifo)
	{
		result.msg_id = fifo_claim(q, msg, now, &result.duplicate);
		if (result.duplicate)
			return result;
	}
	else
		result.msg_id = next_msg_id(q);

	memset(nulls, ' ', sizeof(nulls));
	values[0] = Int32GetDatum(q->queue_id);
	values[1] = Int64GetDatum(result.msg_id);
	values[2] = TimestampTzGetDatum(now + (int64) delay * USECS_PER_SEC);
	values[3] = TimestampTzGetDatum(now);
	values[4] = sender_name();
	values[5] = PointerGetDatum(msg->body);
	values[6] = msg->attributes ? JsonbPGetDatum(msg->attributes) : (Datum) 0;
	nulls[6] = msg->attributes ? ' ' : 'n';
	values[7] = msg->system_attributes ? JsonbPGetDatum(msg->system_attributes) : (Datum) 0;
	nulls[7] = msg->system_attributes ? ' ' : 'n';
	values[8] = msg->group_id ? CStringGetTextDatum(msg->group_id) : (Datum) 0;
	nulls[8] = msg->group_id ? ' ' : 'n';
	values[9] = msg->dedup_id ? CStringGetTextDatum(msg->dedup_id) : (Datum) 0;
	nulls[9] = msg->dedup_id ? ' ' : 'n';
	queue_spi_exec(get_insert_plan(q->is_unlogged), values, nulls, false, 0, SPI_OK_INSERT);

	queue_stats_note(q, delay > 0 ? 0 : 1, 0, delay > 0 ? 1 : 0);
	queue_wake_at_commit(q->queue_id);
	return result;
}

/*
 * Send a batch of validated messages to a standard queue with one INSERT.
 * msg_ids receives the message numbers in entry order.
 */
void
queue_send_batch_standard(QueueInfo *q, OutgoingMessage *msgs, int n, int64 *msg_ids)
{
	TimestampTz now = outbox_now();
	Datum	   *ids = palloc(sizeof(Datum) * n);
	Datum	   *visible = palloc(sizeof(Datum) * n);
	Datum	   *bodies = palloc(sizeof(Datum) * n);
	Datum	   *attrs = palloc(sizeof(Datum) * n);
	Datum	   *sysattrs = palloc(sizeof(Datum) * n);
	Datum	   *groups = palloc(sizeof(Datum) * n);
	bool	   *attr_nulls = palloc(sizeof(bool) * n);
	bool	   *sys_nulls = palloc(sizeof(bool) * n);
	bool	   *group_nulls = palloc(sizeof(bool) * n);
	int			dims[1] = {n};
	int			lbs[1] = {1};
	Datum		values[9];
	int			i;

	if (insert_batch_plan[q->is_unlogged] == NULL)
	{
		Oid			argtypes[9] = {INT4OID, INT8ARRAYOID, TIMESTAMPTZARRAYOID, TIMESTAMPTZOID, NAMEOID,
		TEXTARRAYOID, JSONBARRAYOID, JSONBARRAYOID, TEXTARRAYOID};
		char	   *sql = psprintf("INSERT INTO %s (queue_id, msg_id, visible_at, enqueued_at, sent_at, "
								   "sender, body, attributes, system_attributes, group_id) "
								   "SELECT $1, m.id, m.visible_at, $4, $4, $5, m.body, m.attributes, m.sysattrs, m.grp "
								   "FROM unnest($2, $3, $6, $7, $8, $9) AS m(id, visible_at, body, attributes, sysattrs, grp)",
								   QUEUE_TABLE(q->is_unlogged));

		insert_batch_plan[q->is_unlogged] = outbox_prepare_plan(sql, 9, argtypes);
	}

	for (i = 0; i < n; i++)
	{
		int32		delay = msgs[i].delay_seconds >= 0 ? msgs[i].delay_seconds : q->delay_seconds;

		msg_ids[i] = next_msg_id(q);
		ids[i] = Int64GetDatum(msg_ids[i]);
		visible[i] = TimestampTzGetDatum(now + (int64) delay * USECS_PER_SEC);
		bodies[i] = PointerGetDatum(msgs[i].body);
		attrs[i] = msgs[i].attributes ? JsonbPGetDatum(msgs[i].attributes) : (Datum) 0;
		attr_nulls[i] = msgs[i].attributes == NULL;
		sysattrs[i] = msgs[i].system_attributes ? JsonbPGetDatum(msgs[i].system_attributes) : (Datum) 0;
		sys_nulls[i] = msgs[i].system_attributes == NULL;
		groups[i] = msgs[i].group_id ? CStringGetTextDatum(msgs[i].group_id) : (Datum) 0;
		group_nulls[i] = msgs[i].group_id == NULL;
	}

	values[0] = Int32GetDatum(q->queue_id);
	values[1] = PointerGetDatum(construct_array(ids, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	values[2] = PointerGetDatum(construct_array(visible, n, TIMESTAMPTZOID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	values[3] = TimestampTzGetDatum(now);
	values[4] = sender_name();
	values[5] = PointerGetDatum(construct_array(bodies, n, TEXTOID, -1, false, TYPALIGN_INT));
	values[6] = PointerGetDatum(construct_md_array(attrs, attr_nulls, 1, dims, lbs, JSONBOID, -1, false, TYPALIGN_INT));
	values[7] = PointerGetDatum(construct_md_array(sysattrs, sys_nulls, 1, dims, lbs, JSONBOID, -1, false, TYPALIGN_INT));
	values[8] = PointerGetDatum(construct_md_array(groups, group_nulls, 1, dims, lbs, TEXTOID, -1, false, TYPALIGN_INT));
	queue_spi_exec(insert_batch_plan[q->is_unlogged], values, NULL, false, 0, SPI_OK_INSERT);

	for (i = 0; i < n; i++)
	{
		bool		delayed = (msgs[i].delay_seconds >= 0 ? msgs[i].delay_seconds : q->delay_seconds) > 0;

		queue_stats_note(q, delayed ? 0 : 1, 0, delayed ? 1 : 0);
	}
	queue_wake_at_commit(q->queue_id);
}

/*
 * Send one message to a queue as "role", for another room's deliveries
 * (topic fan-out, rule targets, dead letters).  What the sender cannot help --
 * the queue is gone, the role may not send to it, the message is too
 * large for it -- sets *ok = false and *error instead of raising.  SPI
 * must be connected, as the extension owner.
 */
void
queue_send_as(const char *queue_name, text *body, Jsonb *attributes,
					const char *group_id, const char *dedup_id, Oid role,
					bool *ok, char **error)
{
	QueueInfo  *q = queue_lookup(queue_name, true);
	OutgoingMessage msg;
	int64		size = VARSIZE_ANY_EXHDR(body);
	int64		attr_size = 0;
	Oid			previous = outbox_current_caller;

	*ok = false;
	if (q == NULL)
	{
		*error = psprintf("queue \"%s\" does not exist", queue_name);
		return;
	}
	if (!OidIsValid(role) || !queue_role_has_rights(q, role, QUEUE_PRIV_SEND))
	{
		*error = psprintf("role \"%s\" may not send to queue \"%s\"",
						  OidIsValid(role) ? GetUserNameFromId(role, false) : "(dropped)", queue_name);
		return;
	}
	if (attributes)
		(void) queue_check_message_attributes(attributes, QUEUE_MAX_ATTRIBUTES, &attr_size);
	if (size + attr_size > q->maximum_message_size)
	{
		*error = psprintf("message of %lld bytes is larger than the MaximumMessageSize of queue \"%s\" (%d bytes)",
						  (long long) (size + attr_size), q->name, q->maximum_message_size);
		return;
	}
	if (q->is_fifo && group_id == NULL)
	{
		*error = psprintf("FIFO queue \"%s\" needs a message group id", q->name);
		return;
	}

	memset(&msg, 0, sizeof(msg));
	msg.body = body;
	msg.body_field = "message";
	msg.delay_seconds = -1;
	msg.attributes = attributes;
	msg.group_id = (char *) group_id;
	msg.dedup_id = q->is_fifo ? (char *) dedup_id : NULL;
	outbox_current_caller = role;
	queue_prepare_message(q, &msg, &size);
	(void) queue_send(q, &msg);
	outbox_current_caller = previous;
	*ok = true;
}
