/*-------------------------------------------------------------------------
 *
 * mapping.c
 *	  Event source mappings: queues whose messages the workers pass to a
 *	  function in batches, as Lambda polls SQS.
 *
 * One batch, in the worker's transaction:
 *
 *   receive up to batch_size messages (as the mapping's role, so the
 *   queue's own rights apply)  ->  call the function with
 *   {"Records": [...]} (Lambda's SQS event)  ->  delete the messages that
 *   succeeded  ->  commit
 *
 * The function's writes and the deletes commit together: a message whose
 * processing committed is gone, and one whose processing failed or rolled
 * back stays in flight until its visibility timeout, then is received
 * again (and redriven to the dead-letter queue after maxReceiveCount), as
 * with Lambda.  With ReportBatchItemFailures the function may return
 * {"batchItemFailures": [{"itemIdentifier": "<messageId>"}, ...]}; those
 * messages stay and the rest are deleted.  A malformed report fails the
 * whole batch, as Lambda does.
 *
 * maximum_batching_window_seconds > 0: a batch smaller than batch_size
 * waits until its oldest message has waited that long (the receive is
 * rolled back, so nothing changes meanwhile).
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/worker/mapping.c
 *
 *-------------------------------------------------------------------------
 */
#include "pg_outbox.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/regproc.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "core/clock.h"
#include "core/jsonb_util.h"
#include "core/security.h"
#include "queue/queue.h"
#include "worker/worker_int.h"

/* one pass of a worker takes at most this many full batches of a mapping */
#define MAPPING_PASS_BATCHES	10
#define MAPPING_PASS_MS			200

typedef struct Mapping
{
	char	   *uuid;
	char	   *queue;
	Oid			function;
	int			batch_size;
	int			window_seconds;
	bool		report_failures;
	Oid			run_as;
	char	   *last_result;
} Mapping;

/* The SQS event of one batch, the handles and ids, built by one query. */
static const char *receive_sql =
"SELECT jsonb_build_object('Records', coalesce(jsonb_agg(jsonb_strip_nulls(jsonb_build_object("
"  'messageId', m.message_id, 'receiptHandle', m.receipt_handle, 'body', m.body,"
"  'attributes', m.attributes,"
"  'messageAttributes', CASE WHEN m.message_attributes IS NULL THEN '{}'::jsonb ELSE"
"    (SELECT coalesce(jsonb_object_agg(a.key, jsonb_strip_nulls(jsonb_build_object("
"       'stringValue', a.value ->> 'StringValue', 'binaryValue', a.value ->> 'BinaryValue',"
"       'stringListValues', '[]'::jsonb, 'binaryListValues', '[]'::jsonb,"
"       'dataType', a.value ->> 'DataType'))), '{}')"
"     FROM jsonb_each(m.message_attributes) AS a) END,"
"  'md5OfBody', m.md5_of_body, 'md5OfMessageAttributes', m.md5_of_message_attributes,"
"  'eventSource', 'aws:sqs', 'eventSourceARN', $3, 'awsRegion', $4)) ORDER BY m.sequence_number, m.sent_at), '[]')),"
"  array_agg(m.receipt_handle), array_agg(m.message_id::text), min(m.sent_at), count(*)"
"  FROM outbox.receive_message($1, $2, NULL, 0) AS m";

static SPIPlanPtr receive_plan = NULL;
static SPIPlanPtr list_plan = NULL;
static SPIPlanPtr delete_plan = NULL;

static void
not_null(FunctionCallInfo fcinfo, int arg, const char *name)
{
	if (PG_ARGISNULL(arg))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", name)));
}

/* ---------------------------------------------------------------- running */

static List *
enabled_mappings(void)
{
	OutboxUserSwitch sw;
	List	   *result = NIL;
	MemoryContext cxt = CurrentMemoryContext;

	outbox_become_owner(&sw);
	SPI_connect();
	if (list_plan == NULL)
		list_plan = outbox_prepare_plan("SELECT uuid, queue_name, function, batch_size, maximum_batching_window_seconds,"
									   " report_batch_item_failures, run_as, last_processing_result"
									   " FROM outbox.event_source_mapping WHERE enabled ORDER BY last_modified",
									   0, NULL);
	if (SPI_execute_plan(list_plan, NULL, NULL, true, 0) == SPI_OK_SELECT)
	{
		MemoryContext spi = MemoryContextSwitchTo(cxt);

		for (uint64 i = 0; i < SPI_processed; i++)
		{
			HeapTuple	t = SPI_tuptable->vals[i];
			TupleDesc	d = SPI_tuptable->tupdesc;
			Mapping    *m = palloc0(sizeof(Mapping));
			bool		isnull;

			m->uuid = SPI_getvalue(t, d, 1);
			m->queue = SPI_getvalue(t, d, 2);
			m->function = DatumGetObjectId(SPI_getbinval(t, d, 3, &isnull));
			m->batch_size = DatumGetInt32(SPI_getbinval(t, d, 4, &isnull));
			m->window_seconds = DatumGetInt32(SPI_getbinval(t, d, 5, &isnull));
			m->report_failures = DatumGetBool(SPI_getbinval(t, d, 6, &isnull));
			m->run_as = DatumGetObjectId(SPI_getbinval(t, d, 7, &isnull));
			m->last_result = SPI_getvalue(t, d, 8);
			result = lappend(result, m);
		}
		MemoryContextSwitchTo(spi);
	}
	SPI_finish();
	outbox_restore_user(&sw);
	return result;
}

bool
worker_have_mappings(void)
{
	OutboxUserSwitch sw;
	bool		found;

	outbox_become_owner(&sw);
	SPI_connect();
	found = SPI_execute("SELECT 1 FROM outbox.event_source_mapping WHERE enabled LIMIT 1", true, 1) == SPI_OK_SELECT &&
		SPI_processed > 0;
	SPI_finish();
	outbox_restore_user(&sw);
	return found;
}

static void
set_last_result(Mapping *m, const char *result)
{
	OutboxUserSwitch sw;
	Oid			types[2] = {UUIDOID, TEXTOID};
	Datum		vals[2];

	if (m->last_result && strcmp(m->last_result, result) == 0)
		return;
	vals[0] = DirectFunctionCall1(uuid_in, CStringGetDatum(m->uuid));
	vals[1] = CStringGetTextDatum(result);
	outbox_become_owner(&sw);
	SPI_connect();
	SPI_execute_with_args("UPDATE outbox.event_source_mapping SET last_processing_result = $2 WHERE uuid = $1",
						  2, types, vals, NULL, false, 0);
	SPI_finish();
	outbox_restore_user(&sw);
}

/*
 * The receipt handles to delete: all of them, or, with a failure report,
 * those not reported.  NULL when the report is malformed (the whole batch
 * fails).
 */
static ArrayType *
handles_to_delete(Mapping *m, Jsonb *result, ArrayType *handles, ArrayType *ids, int *ndelete)
{
	Datum	   *h;
	Datum	   *id;
	bool	   *failed;
	int			n;
	int			nid;
	JsonbValue *list;
	Datum	   *keep;
	int			k = 0;

	deconstruct_array(handles, TEXTOID, -1, false, TYPALIGN_INT, &h, NULL, &n);
	deconstruct_array(ids, TEXTOID, -1, false, TYPALIGN_INT, &id, NULL, &nid);
	failed = palloc0(sizeof(bool) * n);
	if (m->report_failures && result && JB_ROOT_IS_OBJECT(result) &&
		(list = outbox_jsonb_get(&result->root, "batchItemFailures")) != NULL &&
		list->type != jbvNull)
	{
		JsonbIterator *it;
		JsonbValue	v;
		JsonbIteratorToken tok;

		if (list->type != jbvBinary || !JsonContainerIsArray(list->val.binary.data))
			return NULL;
		it = JsonbIteratorInit(list->val.binary.data);
		while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
		{
			JsonbValue *ident;
			bool		known = false;

			if (tok != WJB_ELEM)
				continue;
			if (v.type != jbvBinary || !JsonContainerIsObject(v.val.binary.data) ||
				(ident = outbox_jsonb_get(v.val.binary.data, "itemIdentifier")) == NULL ||
				ident->type != jbvString || ident->val.string.len == 0)
				return NULL;
			for (int i = 0; i < nid; i++)
			{
				char	   *s = TextDatumGetCString(id[i]);

				if ((int) strlen(s) == ident->val.string.len &&
					memcmp(s, ident->val.string.val, ident->val.string.len) == 0)
				{
					failed[i] = true;
					known = true;
				}
			}
			if (!known)
				return NULL;
		}
	}
	keep = palloc(sizeof(Datum) * Max(n, 1));
	for (int i = 0; i < n; i++)
		if (!failed[i])
			keep[k++] = h[i];
	*ndelete = k;
	return construct_array(keep, k, TEXTOID, -1, false, TYPALIGN_INT);
}

/*
 * One batch of one mapping, in a subtransaction.  Returns the number of
 * messages received (0 when the queue had none or the batch waits).
 */
static int
run_batch(Mapping *m)
{
	MemoryContext cxt = CurrentMemoryContext;
	WorkerSubxact sx;
	Oid			saved_user;
	int			saved_context;
	volatile int received = 0;
	char	   *volatile problem = NULL;
	volatile bool function_failed = false;

	GetUserIdAndSecContext(&saved_user, &saved_context);
	worker_subxact_begin(&sx);
	PG_TRY();
	{
		Oid			types[4] = {TEXTOID, INT4OID, TEXTOID, TEXTOID};
		Datum		vals[4];
		Jsonb	   *event = NULL;
		ArrayType  *handles = NULL;
		ArrayType  *ids = NULL;
		TimestampTz oldest = 0;
		bool		wait = false;

		vals[0] = CStringGetTextDatum(m->queue);
		vals[1] = Int32GetDatum(m->batch_size);
		vals[2] = CStringGetTextDatum(queue_arn(m->queue));
		vals[3] = CStringGetTextDatum(outbox_region);

		SetUserIdAndSecContext(m->run_as, saved_context | SECURITY_LOCAL_USERID_CHANGE);
		SPI_connect();
		if (receive_plan == NULL)
			receive_plan = outbox_prepare_plan(receive_sql, 4, types);
		if (SPI_execute_plan(receive_plan, vals, NULL, false, 1) == SPI_OK_SELECT &&
			SPI_processed == 1)
		{
			HeapTuple	t = SPI_tuptable->vals[0];
			TupleDesc	d = SPI_tuptable->tupdesc;
			bool		isnull;
			Datum		v;

			received = (int) DatumGetInt64(SPI_getbinval(t, d, 5, &isnull));
			if (received > 0)
			{
				MemoryContext spi = MemoryContextSwitchTo(cxt);

				event = DatumGetJsonbPCopy(SPI_getbinval(t, d, 1, &isnull));
				v = SPI_getbinval(t, d, 2, &isnull);
				handles = DatumGetArrayTypePCopy(v);
				v = SPI_getbinval(t, d, 3, &isnull);
				ids = DatumGetArrayTypePCopy(v);
				oldest = DatumGetTimestampTz(SPI_getbinval(t, d, 4, &isnull));
				MemoryContextSwitchTo(spi);
			}
		}
		SPI_finish();
		SetUserIdAndSecContext(saved_user, saved_context);

		if (received > 0 && received < m->batch_size && m->window_seconds > 0 &&
			outbox_now() < oldest + (int64) m->window_seconds * USECS_PER_SEC)
			wait = true;

		if (received > 0 && !wait)
		{
			WorkerFunctionConfig cfg;
			WorkerCallResult r;

			worker_function_config(m->function, &cfg);
			worker_call_function(m->function, m->run_as, event, cfg.timeout_seconds * 1000, &r);
			if (r.ok)
			{
				int			ndelete = 0;
				ArrayType  *del = handles_to_delete(m, r.result, handles, ids, &ndelete);

				if (del == NULL)
				{
					function_failed = true;
					problem = "PROBLEM: the function returned an invalid batchItemFailures report; the whole batch failed";
				}
				else if (ndelete > 0)
				{
					Oid			dtypes[2] = {TEXTOID, TEXTARRAYOID};
					Datum		dvals[2];

					dvals[0] = vals[0];
					dvals[1] = PointerGetDatum(del);
					SetUserIdAndSecContext(m->run_as, saved_context | SECURITY_LOCAL_USERID_CHANGE);
					SPI_connect();
					if (delete_plan == NULL)
						delete_plan = outbox_prepare_plan("SELECT outbox.delete_message_batch($1, $2)", 2, dtypes);
					SPI_execute_plan(delete_plan, dvals, NULL, false, 0);
					SPI_finish();
					SetUserIdAndSecContext(saved_user, saved_context);
				}
			}
			else
			{
				function_failed = true;
				problem = psprintf("PROBLEM: Function call failed: %s", r.message);
			}
		}
		if (wait)
		{
			/* forget the receive: the messages wait for a fuller batch */
			SetUserIdAndSecContext(saved_user, saved_context);
			RollbackAndReleaseCurrentSubTransaction();
			MemoryContextSwitchTo(sx.cxt);
			CurrentResourceOwner = sx.owner;
			worker_note_wake_at(oldest + (int64) m->window_seconds * USECS_PER_SEC);
			received = 0;
		}
		else
			worker_subxact_release(&sx);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		SetUserIdAndSecContext(saved_user, saved_context);
		edata = worker_subxact_abort(&sx);
		problem = psprintf("PROBLEM: %s", edata->message);
		ereport(WARNING,
				(errmsg("pg_outbox event source mapping %s could not process queue \"%s\": %s",
						m->uuid, m->queue, edata->message)));
		FreeErrorData(edata);
		received = 0;
	}
	PG_END_TRY();

	if (received > 0)
		worker_count(function_failed ? WORKER_COUNT_FAILED : WORKER_COUNT_RUN);
	if (received > 0 || problem)
		set_last_result(m, problem ? problem : "OK");
	return received;
}

/*
 * One batch for every enabled mapping.  Returns the number of batches that
 * had messages; *more is set when a batch was full (there may be more).
 */
int
worker_run_mappings(bool *more)
{
	List	   *maps = enabled_mappings();
	ListCell   *lc;
	int			batches = 0;

	*more = false;
	foreach(lc, maps)
	{
		Mapping    *m = lfirst(lc);
		int			n;

		TimestampTz until = GetCurrentTimestamp() + MAPPING_PASS_MS * 1000;
		int			k = 0;

		/* full batches follow each other in one transaction, within limits */
		worker_set_activity(psprintf("mapping %s", m->uuid));
		do
		{
			CHECK_FOR_INTERRUPTS();
			n = run_batch(m);
			if (n > 0)
				batches++;
		} while (n >= m->batch_size && ++k < MAPPING_PASS_BATCHES && GetCurrentTimestamp() < until);
		worker_set_activity(NULL);
		if (n >= m->batch_size)
			*more = true;
	}
	return batches;
}

/* -------------------------------------------------------------------- API */

static Jsonb *
mapping_jsonb(const char *uuid)
{
	OutboxUserSwitch sw;
	Oid			type = UUIDOID;
	Datum		val = DirectFunctionCall1(uuid_in, CStringGetDatum(uuid));
	Jsonb	   *result = NULL;
	MemoryContext cxt = CurrentMemoryContext;

	outbox_become_owner(&sw);
	SPI_connect();
	if (SPI_execute_with_args("SELECT jsonb_strip_nulls(jsonb_build_object('UUID', uuid,"
							  " 'EventSourceArn', $3 || queue_name, 'QueueName', queue_name,"
							  " 'FunctionArn', $2 || (SELECT n.nspname || '.' || p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE p.oid = function), 'Function', function::text,"
							  " 'BatchSize', batch_size, 'MaximumBatchingWindowInSeconds', maximum_batching_window_seconds,"
							  " 'FunctionResponseTypes', CASE WHEN report_batch_item_failures"
							  "      THEN jsonb_build_array('ReportBatchItemFailures') ELSE '[]' END,"
							  " 'State', CASE WHEN enabled THEN 'Enabled' ELSE 'Disabled' END,"
							  " 'Owner', run_as::text,"
							  " 'LastModified', extract(epoch FROM last_modified)::bigint,"
							  " 'LastProcessingResult', coalesce(last_processing_result, 'No records processed')))"
							  " FROM outbox.event_source_mapping WHERE uuid = $1",
							  3, (Oid[]) {UUIDOID, TEXTOID, TEXTOID},
							  (Datum[]) {val, CStringGetTextDatum(psprintf("arn:aws:lambda:%s:%s:function:",
																	  outbox_region, outbox_account_id)),
								  CStringGetTextDatum(psprintf("arn:aws:sqs:%s:%s:",
															   outbox_region, outbox_account_id))},
							  NULL, false, 1) == SPI_OK_SELECT && SPI_processed == 1)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
		MemoryContext spi = MemoryContextSwitchTo(cxt);

		result = DatumGetJsonbPCopy(d);
		MemoryContextSwitchTo(spi);
	}
	SPI_finish();
	outbox_restore_user(&sw);
	(void) type;
	if (result == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("event source mapping %s does not exist", uuid)));
	return result;
}

static bool
parse_response_types(ArrayType *types)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	bool		report = false;

	if (ARR_NDIM(types) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid \"function_response_types\": must be a one-dimensional array")));
	deconstruct_array(types, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	for (int i = 0; i < n; i++)
	{
		char	   *s = nulls[i] ? "null" : TextDatumGetCString(elems[i]);

		if (nulls[i] || strcmp(s, "ReportBatchItemFailures") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid \"function_response_types\": unknown response type \"%s\"", s),
					 errhint("The only response type is ReportBatchItemFailures.")));
		report = true;
	}
	return report;
}

static void
check_batching(int batch_size, int window, bool fifo)
{
	if (batch_size < 1 || batch_size > (fifo ? 10 : 10000))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid \"batch_size\": %d is out of range (1 to %d%s)", batch_size,
						fifo ? 10 : 10000, fifo ? " for a FIFO queue" : "")));
	if (window < 0 || window > 300)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid \"maximum_batching_window_seconds\": %d is out of range (0 to 300)", window)));
	if (batch_size > 10 && window < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid \"maximum_batching_window_seconds\": a batch_size above 10 needs a batching window of at least 1 second")));
}

PG_FUNCTION_INFO_V1(outbox_create_event_source_mapping);
Datum
outbox_create_event_source_mapping(PG_FUNCTION_ARGS)
{
	char	   *queue_name;
	Oid			fn;
	int			batch_size;
	int			window;
	bool		report;
	bool		enabled;
	QueueInfo  *q;
	AclResult	acl;
	OutboxUserSwitch sw;
	Datum		uuid = DirectFunctionCall1(gen_random_uuid, (Datum) 0);
	Oid			types[8] = {UUIDOID, TEXTOID, REGPROCEDUREOID, INT4OID, INT4OID, BOOLOID, BOOLOID, REGROLEOID};
	Datum		vals[9];
	int			rc;
	bool		inserted;
	char	   *uuid_text;

	for (int i = 0; i < 6; i++)
		not_null(fcinfo, i, (const char *[]) {"queue_name", "function", "batch_size",
			"maximum_batching_window_seconds", "function_response_types", "enabled"}[i]);
	queue_name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	fn = PG_GETARG_OID(1);
	batch_size = PG_GETARG_INT32(2);
	window = PG_GETARG_INT32(3);
	report = parse_response_types(PG_GETARG_ARRAYTYPE_P(4));
	enabled = PG_GETARG_BOOL(5);

	/* as the queue room's own calls do: its catalog as owner, rights of the caller */
	{
		Oid			previous = outbox_current_caller;

		outbox_current_caller = GetUserId();
		SPI_connect();
		outbox_become_owner(&sw);
		q = queue_lookup(queue_name, false);
		queue_check_rights(q, QUEUE_PRIV_RECEIVE | QUEUE_PRIV_DELETE, "CreateEventSourceMapping");
		outbox_restore_user(&sw);
		SPI_finish();
		outbox_current_caller = previous;
	}
	check_batching(batch_size, window, q->is_fifo);
	worker_check_handler(fn, "function");
	acl = outbox_proc_aclcheck(fn, GetUserId(), ACL_EXECUTE);
	if (acl != ACLCHECK_OK)
		aclcheck_error(acl, OBJECT_FUNCTION, get_func_name(fn));

	vals[0] = uuid;
	vals[1] = CStringGetTextDatum(queue_name);
	vals[2] = ObjectIdGetDatum(fn);
	vals[3] = Int32GetDatum(batch_size);
	vals[4] = Int32GetDatum(window);
	vals[5] = BoolGetDatum(report);
	vals[6] = BoolGetDatum(enabled);
	vals[7] = ObjectIdGetDatum(GetUserId());
	outbox_become_owner(&sw);
	SPI_connect();
	rc = SPI_execute_with_args("INSERT INTO outbox.event_source_mapping (uuid, queue_name, function, batch_size,"
							   " maximum_batching_window_seconds, report_batch_item_failures, enabled, run_as,"
							   " last_modified) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, outbox.clock_now())"
							   " ON CONFLICT (queue_name, function) DO NOTHING",
							   8, types, vals, NULL, false, 0);
	inserted = (rc == SPI_OK_INSERT && SPI_processed == 1);
	SPI_finish();
	outbox_restore_user(&sw);
	if (!inserted)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("an event source mapping from queue \"%s\" to function %s already exists",
						queue_name, format_procedure(fn)),
				 errhint("Use outbox.update_event_source_mapping to change it.")));
	CommandCounterIncrement();
	worker_wake_at_commit();
	uuid_text = DatumGetCString(DirectFunctionCall1(uuid_out, uuid));
	PG_RETURN_JSONB_P(mapping_jsonb(uuid_text));
}

/* The mapping's role and queue, checking the caller may change it. */
static void
check_mapping_owner(const char *uuid, bool *fifo)
{
	Jsonb	   *j = mapping_jsonb(uuid);
	JsonbValue *owner = outbox_jsonb_get(&j->root, "Owner");
	JsonbValue *queue = outbox_jsonb_get(&j->root, "QueueName");
	char	   *role = pnstrdup(owner->val.string.val, owner->val.string.len);
	Oid			roleid = DatumGetObjectId(DirectFunctionCall1(regrolein, CStringGetDatum(role)));

	if (!has_privs_of_role(GetUserId(), roleid))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for event source mapping %s", uuid),
				 errdetail("The mapping belongs to role \"%s\".", role)));
	if (fifo)
	{
		QueueInfo  *q;
		OutboxUserSwitch sw;

		SPI_connect();
		outbox_become_owner(&sw);
		q = queue_lookup(pnstrdup(queue->val.string.val, queue->val.string.len), true);
		*fifo = q && q->is_fifo;
		outbox_restore_user(&sw);
		SPI_finish();
	}
}

PG_FUNCTION_INFO_V1(outbox_update_event_source_mapping);
Datum
outbox_update_event_source_mapping(PG_FUNCTION_ARGS)
{
	char	   *uuid;
	Jsonb	   *cur;
	JsonbValue *v;
	int			batch_size;
	int			window;
	bool		fifo = false;
	OutboxUserSwitch sw;
	Oid			types[5] = {UUIDOID, INT4OID, INT4OID, BOOLOID, BOOLOID};
	Datum		vals[5];
	char		nulls[5] = {' ', ' ', ' ', ' ', ' '};

	not_null(fcinfo, 0, "uuid");
	uuid = DatumGetCString(DirectFunctionCall1(uuid_out, PG_GETARG_DATUM(0)));
	check_mapping_owner(uuid, &fifo);
	cur = mapping_jsonb(uuid);
	v = outbox_jsonb_get(&cur->root, "BatchSize");
	batch_size = PG_ARGISNULL(1) ? DatumGetInt32(DirectFunctionCall1(numeric_int4, NumericGetDatum(v->val.numeric)))
		: PG_GETARG_INT32(1);
	v = outbox_jsonb_get(&cur->root, "MaximumBatchingWindowInSeconds");
	window = PG_ARGISNULL(2) ? DatumGetInt32(DirectFunctionCall1(numeric_int4, NumericGetDatum(v->val.numeric)))
		: PG_GETARG_INT32(2);
	check_batching(batch_size, window, fifo);

	vals[0] = PG_GETARG_DATUM(0);
	vals[1] = Int32GetDatum(batch_size);
	vals[2] = Int32GetDatum(window);
	if (PG_ARGISNULL(3))
		nulls[3] = 'n';
	else
		vals[3] = BoolGetDatum(parse_response_types(PG_GETARG_ARRAYTYPE_P(3)));
	if (PG_ARGISNULL(4))
		nulls[4] = 'n';
	else
		vals[4] = PG_GETARG_DATUM(4);
	outbox_become_owner(&sw);
	SPI_connect();
	SPI_execute_with_args("UPDATE outbox.event_source_mapping SET batch_size = $2,"
						  " maximum_batching_window_seconds = $3,"
						  " report_batch_item_failures = coalesce($4, report_batch_item_failures),"
						  " enabled = coalesce($5, enabled), last_modified = outbox.clock_now()"
						  " WHERE uuid = $1", 5, types, vals, nulls, false, 0);
	SPI_finish();
	outbox_restore_user(&sw);
	CommandCounterIncrement();
	worker_wake_at_commit();
	PG_RETURN_JSONB_P(mapping_jsonb(uuid));
}

PG_FUNCTION_INFO_V1(outbox_delete_event_source_mapping);
Datum
outbox_delete_event_source_mapping(PG_FUNCTION_ARGS)
{
	char	   *uuid;
	Jsonb	   *before;
	OutboxUserSwitch sw;
	Oid			type = UUIDOID;
	Datum		val;

	not_null(fcinfo, 0, "uuid");
	val = PG_GETARG_DATUM(0);
	uuid = DatumGetCString(DirectFunctionCall1(uuid_out, val));
	check_mapping_owner(uuid, NULL);
	before = mapping_jsonb(uuid);
	outbox_become_owner(&sw);
	SPI_connect();
	SPI_execute_with_args("DELETE FROM outbox.event_source_mapping WHERE uuid = $1", 1, &type, &val,
						  NULL, false, 0);
	SPI_finish();
	outbox_restore_user(&sw);
	PG_RETURN_JSONB_P(before);
}

PG_FUNCTION_INFO_V1(outbox_get_event_source_mapping);
Datum
outbox_get_event_source_mapping(PG_FUNCTION_ARGS)
{
	char	   *uuid;

	not_null(fcinfo, 0, "uuid");
	uuid = DatumGetCString(DirectFunctionCall1(uuid_out, PG_GETARG_DATUM(0)));
	check_mapping_owner(uuid, NULL);
	PG_RETURN_JSONB_P(mapping_jsonb(uuid));
}

PG_FUNCTION_INFO_V1(outbox_list_event_source_mappings);
Datum
outbox_list_event_source_mappings(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	OutboxUserSwitch sw;
	Oid			types[3] = {TEXTOID, REGPROCEDUREOID, REGROLEOID};
	Datum		vals[3];
	char		nulls[3] = {' ', ' ', ' '};
	List	   *uuids = NIL;
	ListCell   *lc;
	MemoryContext cxt = CurrentMemoryContext;

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC | MAT_SRF_BLESS);
	if (PG_ARGISNULL(0))
		nulls[0] = 'n';
	else
		vals[0] = PG_GETARG_DATUM(0);
	if (PG_ARGISNULL(1))
		nulls[1] = 'n';
	else
		vals[1] = PG_GETARG_DATUM(1);
	vals[2] = ObjectIdGetDatum(GetUserId());

	outbox_become_owner(&sw);
	SPI_connect();
	if (SPI_execute_with_args("SELECT uuid::text FROM outbox.event_source_mapping"
							  " WHERE ($1 IS NULL OR queue_name = $1) AND ($2 IS NULL OR function = $2)"
							  " AND pg_has_role($3, run_as, 'USAGE') ORDER BY queue_name, function::text",
							  3, types, vals, nulls, true, 0) == SPI_OK_SELECT)
	{
		MemoryContext spi = MemoryContextSwitchTo(cxt);

		for (uint64 i = 0; i < SPI_processed; i++)
			uuids = lappend(uuids, SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1));
		MemoryContextSwitchTo(spi);
	}
	SPI_finish();
	outbox_restore_user(&sw);
	foreach(lc, uuids)
	{
		Datum		d = JsonbPGetDatum(mapping_jsonb(lfirst(lc)));
		bool		isnull = false;

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &d, &isnull);
	}
	return (Datum) 0;
}

/*
 * Does a queue with an enabled mapping hold visible messages?  Read from
 * the queue room's O(1) counters, for the scheduler's periodic look
 * (messages that become visible by time -- delays, visibility timeouts --
 * wake no one at commit).
 */
bool
worker_mapped_queues_have_messages(void)
{
	OutboxUserSwitch sw;
	List	   *names = NIL;
	ListCell   *lc;
	MemoryContext cxt = CurrentMemoryContext;
	bool		found = false;

	outbox_become_owner(&sw);
	SPI_connect();
	if (SPI_execute("SELECT DISTINCT queue_name FROM outbox.event_source_mapping WHERE enabled",
					true, 0) == SPI_OK_SELECT)
	{
		MemoryContext spi = MemoryContextSwitchTo(cxt);

		for (uint64 i = 0; i < SPI_processed; i++)
			names = lappend(names, SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1));
		MemoryContextSwitchTo(spi);
	}
	foreach(lc, names)
	{
		QueueInfo  *q = queue_lookup(lfirst(lc), true);
		int64		counters[3];

		if (q == NULL)
			continue;
		queue_stats_read(q, counters);
		if (counters[0] > 0)
		{
			found = true;
			break;
		}
	}
	SPI_finish();
	outbox_restore_user(&sw);
	return found;
}
