/*-------------------------------------------------------------------------
 *
 * queue_api.c
 *	  The SQL-callable functions of the queue room.
 *
 * Each function is thin: it reads and checks its arguments, opens a "call"
 * (SPI connection, the caller's role noted, the extension owner's rights
 * for table access), looks the queue up, checks the caller's right for the
 * action, and hands over to the room's internal API.  Errors need no
 * cleanup: transaction or subtransaction abort closes SPI and restores the
 * user.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/queue/queue_api.c
 *
 *-------------------------------------------------------------------------
 */
#include "pg_outbox.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
#include "utils/uuid.h"

#include "core/clock.h"
#include "core/security.h"
#include "core/jsonb_util.h"
#include "queue/queue.h"

typedef OutboxCall QueueCall;

#define call_begin(call) outbox_call_begin(call)
#define call_end(call) outbox_call_end(call)

/*
 * Open a call on a queue: begin the call, find the queue (an error if it
 * does not exist), and check that the caller holds "privilege" for
 * "action".  privilege 0 means any right at all (reading attributes).
 */
static QueueInfo *
call_open_queue(QueueCall *call, const char *name, int privilege, const char *action)
{
	QueueInfo  *q;

	call_begin(call);
	q = queue_lookup(name, false);
	if (privilege == 0)
		queue_check_any_right(q, action);
	else
		queue_check_rights(q, privilege, action);
	return q;
}

void
queue_spi_exec(SPIPlanPtr plan, Datum *values, const char *nulls, bool read_only,
			   long count, int expected)
{
	int			rc = SPI_execute_plan(plan, values, nulls, read_only, count);

	if (rc != expected)
		elog(ERROR, "SPI_execute_plan returned %s, expected %s",
			 SPI_result_code_string(rc), SPI_result_code_string(expected));
}

void
outbox_queue_init(void)
{
	queue_catalog_init();
	queue_wait_init();
}

#define text_arg(fcinfo, n, field) outbox_arg_text((fcinfo), (n), (field))
#define check_not_null(fcinfo, n, field) outbox_arg_not_null((fcinfo), (n), (field))

#define JSONB_ARG(n, field)	(check_not_null(fcinfo, (n), (field)), PG_GETARG_JSONB_P(n))
#define ARRAY_ARG(n, field)	(check_not_null(fcinfo, (n), (field)), PG_GETARG_ARRAYTYPE_P(n))
#define INT32_ARG(n, field)	(check_not_null(fcinfo, (n), (field)), PG_GETARG_INT32(n))

/* Set up a materialised set-returning function result. */
static void
srf_begin(FunctionCallInfo fcinfo, Tuplestorestate **store, TupleDesc *desc)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext oldcxt;
	TupleDesc	tupdesc;

	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) ||
		!(rsinfo->allowedModes & SFRM_Materialize))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("set-valued function called in context that cannot accept a set")));
	oldcxt = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
	{
		/* SETOF text and friends */
		tupdesc = CreateTemplateTupleDesc(1);
		TupleDescInitEntry(tupdesc, 1, "result", get_fn_expr_rettype(fcinfo->flinfo), -1, 0);
	}
	tupdesc = BlessTupleDesc(CreateTupleDescCopy(tupdesc));
	*store = tuplestore_begin_heap(true, false, work_mem);
	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setResult = *store;
	rsinfo->setDesc = tupdesc;
	*desc = tupdesc;
	MemoryContextSwitchTo(oldcxt);
}

/* ---- queue management ---- */

PG_FUNCTION_INFO_V1(outbox_create_queue);
Datum
outbox_create_queue(PG_FUNCTION_ARGS)
{
	char	   *name = text_arg(fcinfo, 0, "queue_name");
	Jsonb	   *attributes = PG_ARGISNULL(1) ? NULL : PG_GETARG_JSONB_P(1);
	bool		unlogged = PG_ARGISNULL(2) ? false : PG_GETARG_BOOL(2);
	Jsonb	   *tags = PG_ARGISNULL(3) ? NULL : PG_GETARG_JSONB_P(3);
	QueueCall	call;
	Datum		arn;
	text	   *result;

	call_begin(&call);
	arn = queue_create(name, attributes, unlogged, !PG_ARGISNULL(2), tags);
	result = (text *) SPI_palloc(VARSIZE_ANY(DatumGetPointer(arn)));
	memcpy(result, DatumGetPointer(arn), VARSIZE_ANY(DatumGetPointer(arn)));
	call_end(&call);
	PG_RETURN_TEXT_P(result);
}

PG_FUNCTION_INFO_V1(outbox_delete_queue);
Datum
outbox_delete_queue(PG_FUNCTION_ARGS)
{
	char	   *name = text_arg(fcinfo, 0, "queue_name");
	QueueCall	call;
	QueueInfo  *q;

	q = call_open_queue(&call, name, QUEUE_PRIV_ADMIN, "delete_queue");
	queue_drop(q);
	call_end(&call);
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(outbox_get_queue_attributes);
Datum
outbox_get_queue_attributes(PG_FUNCTION_ARGS)
{
	char	   *name = text_arg(fcinfo, 0, "queue_name");
	ArrayType  *names = ARRAY_ARG(1, "attribute_names");
	QueueCall	call;
	QueueInfo  *q;
	Jsonb	   *attrs;
	Jsonb	   *result;

	q = call_open_queue(&call, name, 0, "get_queue_attributes");
	attrs = queue_get_attributes(q, names);
	result = SPI_palloc(VARSIZE(attrs));
	memcpy(result, attrs, VARSIZE(attrs));
	call_end(&call);
	PG_RETURN_JSONB_P(result);
}

PG_FUNCTION_INFO_V1(outbox_set_queue_attributes);
Datum
outbox_set_queue_attributes(PG_FUNCTION_ARGS)
{
	char	   *name = text_arg(fcinfo, 0, "queue_name");
	Jsonb	   *attributes = JSONB_ARG(1, "attributes");
	QueueCall	call;
	QueueInfo  *q;

	q = call_open_queue(&call, name, QUEUE_PRIV_ADMIN, "set_queue_attributes");
	queue_set_attributes(q, attributes);
	call_end(&call);
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(outbox_list_queues);
Datum
outbox_list_queues(PG_FUNCTION_ARGS)
{
	char	   *prefix = PG_ARGISNULL(0) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(0));
	int32		max_results = PG_ARGISNULL(1) ? 1000 : PG_GETARG_INT32(1);
	Tuplestorestate *store;
	TupleDesc	desc;
	QueueCall	call;
	int			rc;
	uint64		i;
	int			emitted = 0;
	SPITupleTable *names;
	uint64		nnames;

	if (max_results < 1 || max_results > 1000)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid \"max_results\": %d is out of range (1 to 1000)", max_results)));
	srf_begin(fcinfo, &store, &desc);
	call_begin(&call);
	if (prefix)
	{
		Oid			argtypes[1] = {TEXTOID};
		Datum		args[1];

		args[0] = CStringGetTextDatum(prefix);
		rc = SPI_execute_with_args("SELECT queue_name FROM outbox.queue WHERE starts_with(queue_name, $1)"
								   " ORDER BY queue_name COLLATE \"C\"",
								   1, argtypes, args, NULL, true, 0);
	}
	else
		rc = SPI_execute("SELECT queue_name FROM outbox.queue ORDER BY queue_name COLLATE \"C\"", true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(rc));
	names = SPI_tuptable;
	nnames = SPI_processed;
	for (i = 0; i < nnames && emitted < max_results; i++)
	{
		char	   *name = SPI_getvalue(names->vals[i], names->tupdesc, 1);
		QueueInfo  *q = queue_lookup(name, true);

		if (q && queue_has_any_right(q, outbox_current_caller))
		{
			Datum		value = CStringGetTextDatum(name);
			bool		isnull = false;

			tuplestore_putvalues(store, desc, &value, &isnull);
			emitted++;
		}
	}
	call_end(&call);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(outbox_list_dead_letter_source_queues);
Datum
outbox_list_dead_letter_source_queues(PG_FUNCTION_ARGS)
{
	char	   *name = text_arg(fcinfo, 0, "queue_name");
	Tuplestorestate *store;
	TupleDesc	desc;
	QueueCall	call;
	QueueInfo  *q;
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	int			rc;
	uint64		i;

	srf_begin(fcinfo, &store, &desc);
	q = call_open_queue(&call, name, 0, "list_dead_letter_source_queues");
	args[0] = CStringGetTextDatum(q->name);
	rc = SPI_execute_with_args("SELECT queue_name FROM outbox.queue WHERE dead_letter_queue = $1"
							   " ORDER BY queue_name COLLATE \"C\"", 1, argtypes, args, NULL, true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(rc));
	for (i = 0; i < SPI_processed; i++)
	{
		Datum		value = CStringGetTextDatum(SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1));
		bool		isnull = false;

		tuplestore_putvalues(store, desc, &value, &isnull);
	}
	call_end(&call);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(outbox_purge_queue);
Datum
outbox_purge_queue(PG_FUNCTION_ARGS)
{
	char	   *name = text_arg(fcinfo, 0, "queue_name");
	QueueCall	call;
	QueueInfo  *q;
	int64		purged;

	q = call_open_queue(&call, name, QUEUE_PRIV_PURGE, "purge_queue");
	purged = queue_purge(q);
	call_end(&call);
	PG_RETURN_INT64(purged);
}

/* ---- sending ---- */

static Datum
sent_message_datum(FunctionCallInfo fcinfo, QueueInfo *q, OutgoingMessage *msg, SentMessage *sent)
{
	TupleDesc	desc;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	desc = BlessTupleDesc(desc);
	values[0] = UUIDPGetDatum(queue_message_uuid(sent->msg_id));
	if (q->is_fifo)
		values[1] = CStringGetTextDatum(queue_sequence_number(sent->msg_id));
	else
		nulls[1] = true;
	values[2] = CStringGetTextDatum(msg->md5_body);
	if (msg->md5_attributes[0])
		values[3] = CStringGetTextDatum(msg->md5_attributes);
	else
		nulls[3] = true;
	return HeapTupleGetDatum(heap_form_tuple(desc, values, nulls));
}

PG_FUNCTION_INFO_V1(outbox_send_message);
Datum
outbox_send_message(PG_FUNCTION_ARGS)
{
	char	   *name = text_arg(fcinfo, 0, "queue_name");
	OutgoingMessage msg;
	QueueCall	call;
	QueueInfo  *q;
	SentMessage sent;
	int64		size;
	MemoryContext caller_cxt = CurrentMemoryContext;
	Datum		result;
	Oid			body_type = get_fn_expr_argtype(fcinfo->flinfo, 1);

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("\"message_body\" must not be null")));
	memset(&msg, 0, sizeof(msg));
	if (body_type == JSONBOID)
	{
		Jsonb	   *j = PG_GETARG_JSONB_P(1);

		msg.body = cstring_to_text(JsonbToCString(NULL, &j->root, VARSIZE(j)));
	}
	else
		msg.body = PG_GETARG_TEXT_PP(1);
	msg.delay_seconds = PG_ARGISNULL(2) ? -1 : PG_GETARG_INT32(2);
	if (!PG_ARGISNULL(2) && msg.delay_seconds < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid \"delay_seconds\": %d is out of range (0 to %d)", msg.delay_seconds, QUEUE_MAX_DELAY)));
	msg.attributes = PG_ARGISNULL(3) ? NULL : PG_GETARG_JSONB_P(3);
	msg.group_id = PG_ARGISNULL(4) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(4));
	msg.dedup_id = PG_ARGISNULL(5) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(5));
	msg.system_attributes = PG_ARGISNULL(6) ? NULL : PG_GETARG_JSONB_P(6);

	q = call_open_queue(&call, name, QUEUE_PRIV_SEND, "send_message");
	queue_prepare_message(q, &msg, &size);
	sent = queue_send(q, &msg);
	{
		MemoryContext spi_cxt = MemoryContextSwitchTo(caller_cxt);

		result = sent_message_datum(fcinfo, q, &msg, &sent);
		MemoryContextSwitchTo(spi_cxt);
	}
	call_end(&call);
	PG_RETURN_DATUM(result);
}

/* Error context naming the batch entry being validated or sent. */
static void
batch_entry_context(void *arg)
{
	errcontext("batch entry \"%s\"", (const char *) arg);
}

static bool
batch_id_valid(const char *id)
{
	size_t		len = strlen(id);
	size_t		i;

	if (len == 0 || len > QUEUE_NAME_MAX)
		return false;
	for (i = 0; i < len; i++)
	{
		char		c = id[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return false;
	}
	return true;
}

static char *
entry_string(JsonbValue *v, const char *id, const char *key)
{
	if (v->type == jbvString)
		return pnstrdup(v->val.string.val, v->val.string.len);
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid batch entry \"%s\": \"%s\" must be a string", id, key)));
	return NULL;
}

/* Parse one entry object of send_message_batch. */
static void
parse_batch_entry(JsonbValue *entry, int index, OutgoingMessage *msg)
{
	JsonbIterator *it;
	JsonbValue	v;
	char	   *key = NULL;
	char	   *id = psprintf("#%d", index + 1);
	bool		have_body = false;

	memset(msg, 0, sizeof(*msg));
	msg->delay_seconds = -1;
	if (entry->type != jbvBinary || !JsonContainerIsObject(entry->val.binary.data))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid batch entry %s: expected a JSON object", id)));

	/* the Id first, so every later error can name the entry by it */
	{
		JsonbValue *idv = outbox_jsonb_get(entry->val.binary.data, "Id");

		if (idv == NULL || idv->type != jbvString)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid batch entry %s: \"Id\" is required", id)));
		id = pnstrdup(idv->val.string.val, idv->val.string.len);
		if (!batch_id_valid(id))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid batch entry id \"%s\": 1 to 80 letters, digits, \"-\" or \"_\" are allowed", id)));
	}
	msg->id = id;

	it = JsonbIteratorInit(entry->val.binary.data);
	while (outbox_jsonb_next_pair(&it, &key, &v))
	{
		if (strcmp(key, "Id") == 0)
			continue;
		else if (strcmp(key, "MessageBody") == 0)
		{
			if (v.type == jbvString)
				msg->body = cstring_to_text_with_len(v.val.string.val, v.val.string.len);
			else
			{
				Jsonb	   *j = JsonbValueToJsonb(&v);

				msg->body = cstring_to_text(JsonbToCString(NULL, &j->root, VARSIZE(j)));
			}
			have_body = true;
		}
		else if (strcmp(key, "DelaySeconds") == 0)
		{
			char	   *s = v.type == jbvNumeric ? outbox_jsonb_scalar_cstring(&v) : entry_string(&v, id, key);
			char	   *end;
			long		d = strtol(s, &end, 10);

			if (*end != '\0' || d < 0 || d > QUEUE_MAX_DELAY)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid batch entry \"%s\": \"DelaySeconds\" must be an integer from 0 to %d", id, QUEUE_MAX_DELAY)));
			msg->delay_seconds = (int32) d;
		}
		else if (strcmp(key, "MessageAttributes") == 0)
			msg->attributes = JsonbValueToJsonb(&v);
		else if (strcmp(key, "MessageSystemAttributes") == 0)
			msg->system_attributes = JsonbValueToJsonb(&v);
		else if (strcmp(key, "MessageGroupId") == 0)
			msg->group_id = entry_string(&v, id, key);
		else if (strcmp(key, "MessageDeduplicationId") == 0)
			msg->dedup_id = entry_string(&v, id, key);
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid batch entry \"%s\": unknown key \"%s\"", id, key),
					 errhint("Entries have Id, MessageBody, DelaySeconds, MessageAttributes, MessageSystemAttributes, MessageGroupId and MessageDeduplicationId.")));
	}
	if (!have_body)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid batch entry \"%s\": \"MessageBody\" is required", id)));
}

static void
check_batch_size(int n)
{
	if (n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a batch must have at least one entry")));
	if (n > outbox_max_send_batch)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("a batch of %d entries is larger than the limit of %d", n, outbox_max_send_batch),
				 errhint("Raise \"pg_outbox.max_send_batch\" or send several batches.")));
}

/*
 * Validate every entry, then send them all: nothing is written unless
 * every entry is good.
 */
static void
send_batch(QueueInfo *q, OutgoingMessage *msgs, int n, Tuplestorestate *store, TupleDesc desc)
{
	int64	   *ids = palloc(sizeof(int64) * n);
	int			i;
	int			j;
	ErrorContextCallback errcb;

	errcb.callback = batch_entry_context;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;
	for (i = 0; i < n; i++)
	{
		int64		size;

		errcb.arg = (void *) msgs[i].id;
		for (j = 0; j < i; j++)
			if (strcmp(msgs[i].id, msgs[j].id) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("batch entry id \"%s\" is used more than once", msgs[i].id)));
		queue_prepare_message(q, &msgs[i], &size);
	}

	if (!q->is_fifo)
		queue_send_batch_standard(q, msgs, n, ids);
	else
	{
		for (i = 0; i < n; i++)
		{
			SentMessage sent;

			errcb.arg = (void *) msgs[i].id;
			sent = queue_send(q, &msgs[i]);
			ids[i] = sent.msg_id;
		}
	}
	error_context_stack = errcb.previous;

	for (i = 0; i < n; i++)
	{
		Datum		values[5];
		bool		nulls[5] = {false, false, false, false, false};

		values[0] = CStringGetTextDatum(msgs[i].id);
		values[1] = UUIDPGetDatum(queue_message_uuid(ids[i]));
		if (q->is_fifo)
			values[2] = CStringGetTextDatum(queue_sequence_number(ids[i]));
		else
			nulls[2] = true;
		values[3] = CStringGetTextDatum(msgs[i].md5_body);
		if (msgs[i].md5_attributes[0])
			values[4] = CStringGetTextDatum(msgs[i].md5_attributes);
		else
			nulls[4] = true;
		tuplestore_putvalues(store, desc, values, nulls);
	}
}

PG_FUNCTION_INFO_V1(outbox_send_message_batch);
Datum
outbox_send_message_batch(PG_FUNCTION_ARGS)
{
	char	   *name = text_arg(fcinfo, 0, "queue_name");
	Jsonb	   *entries = JSONB_ARG(1, "entries");
	Tuplestorestate *store;
	TupleDesc	desc;
	QueueCall	call;
	QueueInfo  *q;
	OutgoingMessage *msgs;
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	int			n;
	int			i = 0;

	if (!JB_ROOT_IS_ARRAY(entries) || JB_ROOT_IS_SCALAR(entries))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid \"entries\": expected a JSON array of entry objects")));
	n = JB_ROOT_COUNT(entries);
	check_batch_size(n);
	msgs = palloc(sizeof(OutgoingMessage) * n);
	it = JsonbIteratorInit(&entries->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_ELEM)
		{
			parse_batch_entry(&v, i, &msgs[i]);
			i++;
		}
	}

	srf_begin(fcinfo, &store, &desc);
	q = call_open_queue(&call, name, QUEUE_PRIV_SEND, "send_message_batch");
	send_batch(q, msgs, n, store, desc);
	call_end(&call);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(outbox_send_message_bodies);
Datum
outbox_send_message_bodies(PG_FUNCTION_ARGS)
{
	char	   *name = text_arg(fcinfo, 0, "queue_name");
	ArrayType  *bodies;
	char	   *group_id = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));
	Tuplestorestate *store;
	TupleDesc	desc;
	QueueCall	call;
	QueueInfo  *q;
	OutgoingMessage *msgs;
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int			i;

	bodies = ARRAY_ARG(1, "message_bodies");
	deconstruct_array(bodies, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	check_batch_size(n);
	msgs = palloc0(sizeof(OutgoingMessage) * n);
	for (i = 0; i < n; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("invalid \"message_bodies\": element %d is null", i + 1)));
		msgs[i].id = psprintf("%d", i + 1);
		msgs[i].body_field = psprintf("message_bodies[%d]", i + 1);
		msgs[i].body = DatumGetTextPP(elems[i]);
		msgs[i].delay_seconds = -1;
		msgs[i].group_id = group_id;
	}

	srf_begin(fcinfo, &store, &desc);
	q = call_open_queue(&call, name, QUEUE_PRIV_SEND, "send_message_bodies");
	if (q->is_fifo && q->content_based_dedup == false)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("missing \"message_deduplication_id\": FIFO queue \"%s\" has no ContentBasedDeduplication", q->name),
				 errhint("Use send_message_batch, whose entries can carry MessageDeduplicationId.")));
	send_batch(q, msgs, n, store, desc);
	call_end(&call);
	return (Datum) 0;
}

/* ---- receiving ---- */

PG_FUNCTION_INFO_V1(outbox_receive_message);
Datum
outbox_receive_message(PG_FUNCTION_ARGS)
{
	char	   *name = text_arg(fcinfo, 0, "queue_name");
	Tuplestorestate *store;
	TupleDesc	desc;
	QueueCall	call;
	QueueInfo  *q;
	ReceiveRequest req;

	memset(&req, 0, sizeof(req));
	req.max_messages = PG_ARGISNULL(1) ? 1 : PG_GETARG_INT32(1);
	if (req.max_messages < 1 || req.max_messages > outbox_max_receive_batch)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid \"max_number_of_messages\": %d is out of range (1 to %d)",
						req.max_messages, outbox_max_receive_batch),
				 errhint("The upper limit is \"pg_outbox.max_receive_batch\".")));
	if (!PG_ARGISNULL(2))
	{
		req.visibility_timeout = PG_GETARG_INT32(2);
		if (req.visibility_timeout < 0 || req.visibility_timeout > QUEUE_MAX_VISIBILITY)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid \"visibility_timeout\": %d is out of range (0 to %d)",
							req.visibility_timeout, QUEUE_MAX_VISIBILITY)));
	}
	if (!PG_ARGISNULL(3))
	{
		req.wait_seconds = PG_GETARG_INT32(3);
		if (req.wait_seconds < 0 || req.wait_seconds > QUEUE_MAX_WAIT)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid \"wait_time_seconds\": %d is out of range (0 to %d)",
							req.wait_seconds, QUEUE_MAX_WAIT)));
	}
	if (!PG_ARGISNULL(4))
	{
		req.attempt_id = text_to_cstring(PG_GETARG_TEXT_PP(4));
		queue_check_id_chars(req.attempt_id, "receive_request_attempt_id");
	}

	srf_begin(fcinfo, &store, &desc);
	q = call_open_queue(&call, name, QUEUE_PRIV_RECEIVE, "receive_message");
	if (PG_ARGISNULL(2))
		req.visibility_timeout = q->visibility_timeout;
	if (PG_ARGISNULL(3))
		req.wait_seconds = q->receive_wait_seconds;
	if (req.attempt_id && !q->is_fifo)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid \"receive_request_attempt_id\": standard queue \"%s\" does not take one", q->name),
				 errhint("Receive request attempt ids are for FIFO queues.")));
	queue_receive(q, &req, store, desc);
	call_end(&call);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(outbox_delete_message);
Datum
outbox_delete_message(PG_FUNCTION_ARGS)
{
	char	   *name = text_arg(fcinfo, 0, "queue_name");
	char	   *handle = text_arg(fcinfo, 1, "receipt_handle");
	QueueCall	call;
	QueueInfo  *q;

	q = call_open_queue(&call, name, QUEUE_PRIV_DELETE, "delete_message");
	(void) queue_delete_message(q, handle);
	call_end(&call);
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(outbox_delete_message_batch);
Datum
outbox_delete_message_batch(PG_FUNCTION_ARGS)
{
	char	   *name = text_arg(fcinfo, 0, "queue_name");
	ArrayType  *handles = ARRAY_ARG(1, "receipt_handles");
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int			i;
	int			deleted = 0;
	QueueCall	call;
	QueueInfo  *q;

	deconstruct_array(handles, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	for (i = 0; i < n; i++)
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("invalid \"receipt_handles\": element %d is null", i + 1)));
	q = call_open_queue(&call, name, QUEUE_PRIV_DELETE, "delete_message_batch");
	{
		char	  **texts = palloc(sizeof(char *) * Max(n, 1));

		for (i = 0; i < n; i++)
			texts[i] = TextDatumGetCString(elems[i]);
		deleted = queue_delete_messages(q, texts, n);
	}
	call_end(&call);
	PG_RETURN_INT32(deleted);
}

PG_FUNCTION_INFO_V1(outbox_change_message_visibility);
Datum
outbox_change_message_visibility(PG_FUNCTION_ARGS)
{
	char	   *name = text_arg(fcinfo, 0, "queue_name");
	char	   *handle = text_arg(fcinfo, 1, "receipt_handle");
	int32		timeout = INT32_ARG(2, "visibility_timeout");
	QueueCall	call;
	QueueInfo  *q;

	q = call_open_queue(&call, name, QUEUE_PRIV_RECEIVE, "change_message_visibility");
	queue_change_visibility(q, handle, timeout);
	call_end(&call);
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(outbox_change_message_visibility_batch);
Datum
outbox_change_message_visibility_batch(PG_FUNCTION_ARGS)
{
	char	   *name = text_arg(fcinfo, 0, "queue_name");
	ArrayType  *handles = ARRAY_ARG(1, "receipt_handles");
	int32		timeout = INT32_ARG(2, "visibility_timeout");
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int			i;
	QueueCall	call;
	QueueInfo  *q;

	deconstruct_array(handles, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	q = call_open_queue(&call, name, QUEUE_PRIV_RECEIVE, "change_message_visibility_batch");
	for (i = 0; i < n; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("invalid \"receipt_handles\": element %d is null", i + 1)));
		queue_change_visibility(q, TextDatumGetCString(elems[i]), timeout);
	}
	call_end(&call);
	PG_RETURN_VOID();
}

/* ---- rights ---- */

static Datum
grant_or_revoke(FunctionCallInfo fcinfo, bool is_grant)
{
	char	   *name = text_arg(fcinfo, 0, "queue_name");
	int			privileges = queue_parse_privileges(ARRAY_ARG(1, "privileges"));
	char	   *grantee = text_arg(fcinfo, 2, "grantee");
	QueueCall	call;
	QueueInfo  *q;

	q = call_open_queue(&call, name, QUEUE_PRIV_ADMIN, is_grant ? "grant_queue" : "revoke_queue");
	queue_grant(q, privileges, grantee, is_grant);
	call_end(&call);
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(outbox_grant_queue);
Datum
outbox_grant_queue(PG_FUNCTION_ARGS)
{
	return grant_or_revoke(fcinfo, true);
}

PG_FUNCTION_INFO_V1(outbox_revoke_queue);
Datum
outbox_revoke_queue(PG_FUNCTION_ARGS)
{
	return grant_or_revoke(fcinfo, false);
}

/* ---- redrive tasks ---- */

PG_FUNCTION_INFO_V1(outbox_start_message_move_task);
Datum
outbox_start_message_move_task(PG_FUNCTION_ARGS)
{
	char	   *source_arn = text_arg(fcinfo, 0, "source_arn");
	char	   *destination_arn = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	int32		rate = PG_ARGISNULL(2) ? 0 : PG_GETARG_INT32(2);
	QueueCall	call;
	QueueInfo  *src;
	QueueInfo  *dst = NULL;
	pg_uuid_t  *handle = palloc(sizeof(pg_uuid_t));
	Oid			argtypes[8] = {UUIDOID, TEXTOID, TEXTOID, INT4OID, TIMESTAMPTZOID, NAMEOID, INT4OID, TEXTOID};
	Datum		values[8];
	char		nulls[8] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};
	int			rc;
	pg_uuid_t  *result;

	if (!PG_ARGISNULL(2) && (rate < 1 || rate > 500))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid \"max_number_of_messages_per_second\": %d is out of range (1 to 500)", rate)));
	if (!pg_strong_random(handle->data, UUID_LEN))
		elog(ERROR, "could not generate a random task handle");
	handle->data[6] = (handle->data[6] & 0x0F) | 0x40;
	handle->data[8] = (handle->data[8] & 0x3F) | 0x80;

	call_begin(&call);
	src = queue_lookup_by_arn(source_arn, "source_arn", false);
	queue_check_rights(src, QUEUE_PRIV_ADMIN, "start_message_move_task");
	if (destination_arn)
	{
		dst = queue_lookup_by_arn(destination_arn, "destination_arn", false);
		queue_check_rights(dst, QUEUE_PRIV_SEND, "start_message_move_task");
	}

	values[0] = UUIDPGetDatum(handle);
	values[1] = CStringGetTextDatum(src->name);
	values[2] = dst ? CStringGetTextDatum(dst->name) : (Datum) 0;
	nulls[2] = dst ? ' ' : 'n';
	values[3] = Int32GetDatum(rate);
	nulls[3] = rate > 0 ? ' ' : 'n';
	values[4] = TimestampTzGetDatum(outbox_now());
	values[5] = DirectFunctionCall1(namein, CStringGetDatum(GetUserNameFromId(outbox_current_caller, false)));
	values[6] = Int32GetDatum(src->queue_id);
	values[7] = CStringGetTextDatum(QUEUE_TABLE(src->is_unlogged));

	/* the source must be some queue's dead-letter queue */
	rc = SPI_execute_with_args("SELECT 1 FROM outbox.queue WHERE dead_letter_queue = $2", 8, argtypes, values, nulls, true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("queue \"%s\" is not the dead-letter queue of any queue", src->name),
				 errdetail("Message move tasks redrive messages out of a dead-letter queue.")));
	rc = SPI_execute_with_args("SELECT 1 FROM outbox.message_move_task WHERE source_queue = $2 AND status IN ('RUNNING', 'CANCELLING')"
							   " FOR UPDATE", 8, argtypes, values, nulls, false, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
	if (SPI_processed > 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("a message move task is already running for queue \"%s\"", src->name),
				 errhint("Wait for it to finish, or cancel it with outbox.cancel_message_move_task.")));

	rc = SPI_execute_with_args(psprintf("INSERT INTO outbox.message_move_task (task_handle, source_queue, destination_queue,"
										" max_per_second, status, to_move, last_msg_id, started_at, owner)"
										" SELECT $1, $2, $3, $4, 'RUNNING', count(*), coalesce(max(msg_id), 0), $5, $6"
										" FROM %s WHERE queue_id = $7 AND $8 IS NOT NULL",
										QUEUE_TABLE(src->is_unlogged)),
							   8, argtypes, values, nulls, false, 0);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));

	result = SPI_palloc(sizeof(pg_uuid_t));
	memcpy(result, handle, sizeof(pg_uuid_t));
	call_end(&call);
	PG_RETURN_UUID_P(result);
}

PG_FUNCTION_INFO_V1(outbox_list_message_move_tasks);
Datum
outbox_list_message_move_tasks(PG_FUNCTION_ARGS)
{
	char	   *source_arn = text_arg(fcinfo, 0, "source_arn");
	int32		max_results = INT32_ARG(1, "max_results");
	Tuplestorestate *store;
	TupleDesc	desc;
	QueueCall	call;
	QueueInfo  *src;
	Oid			argtypes[3] = {TEXTOID, INT4OID, TEXTOID};
	Datum		args[3];
	int			rc;
	uint64		i;

	if (max_results < 1 || max_results > 10)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid \"max_results\": %d is out of range (1 to 10)", max_results)));
	srf_begin(fcinfo, &store, &desc);
	call_begin(&call);
	src = queue_lookup_by_arn(source_arn, "source_arn", false);
	queue_check_rights(src, QUEUE_PRIV_ADMIN, "list_message_move_tasks");
	args[0] = CStringGetTextDatum(src->name);
	args[1] = Int32GetDatum(max_results);
	args[2] = CStringGetTextDatum(queue_arn(""));
	rc = SPI_execute_with_args("SELECT CASE WHEN status = 'RUNNING' THEN task_handle END, status,"
							   " $3 || source_queue, $3 || destination_queue, max_per_second, moved, to_move,"
							   " failure_reason, started_at"
							   " FROM outbox.message_move_task WHERE source_queue = $1"
							   " ORDER BY started_at DESC LIMIT $2",
							   3, argtypes, args, NULL, true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
	for (i = 0; i < SPI_processed; i++)
	{
		Datum		values[9];
		bool		nulls[9];
		int			c;

		for (c = 0; c < 9; c++)
			values[c] = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, c + 1, &nulls[c]);
		tuplestore_putvalues(store, desc, values, nulls);
	}
	call_end(&call);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(outbox_cancel_message_move_task);
Datum
outbox_cancel_message_move_task(PG_FUNCTION_ARGS)
{
	pg_uuid_t  *handle = (check_not_null(fcinfo, 0, "task_handle"), PG_GETARG_UUID_P(0));
	QueueCall	call;
	QueueInfo  *src;
	Oid			argtypes[2] = {UUIDOID, TIMESTAMPTZOID};
	Datum		args[2];
	int			rc;
	bool		isnull;
	int64		moved;
	char	   *source;

	call_begin(&call);
	args[0] = UUIDPGetDatum(handle);
	args[1] = TimestampTzGetDatum(outbox_now());
	rc = SPI_execute_with_args("SELECT source_queue FROM outbox.message_move_task WHERE task_handle = $1 AND status = 'RUNNING'"
							   " FOR UPDATE", 1, argtypes, args, NULL, false, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("no running message move task has handle \"%s\"",
						DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum(handle))))));
	source = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	src = queue_lookup(source, true);
	if (src)
		queue_check_rights(src, QUEUE_PRIV_ADMIN, "cancel_message_move_task");
	rc = SPI_execute_with_args("UPDATE outbox.message_move_task SET status = 'CANCELLED', finished_at = $2"
							   " WHERE task_handle = $1 RETURNING moved", 2, argtypes, args, NULL, false, 0);
	if (rc != SPI_OK_UPDATE_RETURNING)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
	moved = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	call_end(&call);
	PG_RETURN_INT64(moved);
}

/* ---- maintenance ---- */

PG_FUNCTION_INFO_V1(outbox_run_queue_maintenance);
Datum
outbox_run_queue_maintenance(PG_FUNCTION_ARGS)
{
	double		max_seconds = PG_ARGISNULL(0) ? 1.0 : PG_GETARG_FLOAT8(0);
	QueueCall	call;
	int64		n;

	call_begin(&call);
	n = queue_run_maintenance(max_seconds);
	call_end(&call);
	PG_RETURN_INT64(n);
}
