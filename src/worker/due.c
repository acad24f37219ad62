/*-------------------------------------------------------------------------
 *
 * due.c
 *	  Due items: deferred work that a worker runs at or after its due time,
 *	  and outbox.run_due_work, which runs them in the calling session.
 *
 * The life of an item (outbox.due_item):
 *
 *   enqueued (in the caller's transaction; the workers are woken at commit)
 *     -> due: a worker locks it (FOR UPDATE SKIP LOCKED, oldest due first)
 *     -> run in a subtransaction as the item's role
 *          success: the item is deleted in the same transaction as the
 *                   work's own writes -- one commit, so work done inside
 *                   the database happens exactly once
 *          failure: retried later (attempts, back-off) or finished with a
 *                   failure record, in the same transaction
 *
 * Nothing needs a lease: the row lock is the lease, and a worker that dies
 * takes its transaction with it, so the item is simply due again.
 *
 * Asynchronous invocations (kind 'invoke') follow Lambda: up to
 * MaximumRetryAttempts retries (default 2) after 1 and 2 minutes, never
 * past MaximumEventAgeInSeconds, then the OnFailure destination (or the
 * log); OnSuccess gets a record of each success.  A function with
 * reserved concurrency N runs in at most N workers at once (transaction
 * advisory locks); 0 throttles it.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/worker/due.c
 *
 *-------------------------------------------------------------------------
 */
#include "pg_outbox.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "core/clock.h"
#include "core/security.h"
#include "queue/queue.h"
#include "worker/worker_int.h"

#define RETRY_BASE_SECONDS		60	/* Lambda: 1 minute, then 2 */
#define THROTTLE_DELAY_MS		200

/*
 * Run a statement on outbox.due_item as the extension owner, with a plan
 * kept across calls (*plan, prepared the first time).
 */
static void
item_exec(SPIPlanPtr *plan, const char *sql, int nargs, Oid *types, Datum *vals, const char *nulls,
		  int expected)
{
	OutboxUserSwitch sw;
	int			rc;

	outbox_become_owner(&sw);
	SPI_connect();
	if (*plan == NULL)
		*plan = outbox_prepare_plan(sql, nargs, types);
	rc = SPI_execute_plan(*plan, vals, nulls, false, 0);
	if (rc != expected)
		elog(ERROR, "could not change a due item: %s", SPI_result_code_string(rc));
	SPI_finish();
	outbox_restore_user(&sw);
}

/* Add a due item in the caller's transaction; its request id is returned. */
char *
outbox_due_schedule(const char *kind, TimestampTz due_at, Oid run_as, Oid function, void *payload)
{
	Datum		uuid = DirectFunctionCall1(gen_random_uuid, (Datum) 0);
	Oid			types[7] = {TEXTOID, TIMESTAMPTZOID, REGROLEOID, REGPROCEDUREOID, JSONBOID, UUIDOID, TIMESTAMPTZOID};
	Datum		vals[7];
	char		nulls[7] = {' ', ' ', ' ', ' ', ' ', ' ', ' '};
	static SPIPlanPtr plan = NULL;

	vals[0] = CStringGetTextDatum(kind);
	vals[1] = TimestampTzGetDatum(due_at);
	vals[2] = ObjectIdGetDatum(run_as);
	vals[3] = ObjectIdGetDatum(function);
	if (!OidIsValid(function))
		nulls[3] = 'n';
	vals[4] = PointerGetDatum(payload);
	if (payload == NULL)
		nulls[4] = 'n';
	vals[5] = uuid;
	vals[6] = TimestampTzGetDatum(outbox_now());
	item_exec(&plan, "INSERT INTO outbox.due_item (kind, due_at, run_as, function, payload, request_id,"
			  " enqueued_at) VALUES ($1, $2, $3, $4, $5, $6, $7)", 7, types, vals, nulls, SPI_OK_INSERT);
	worker_wake_at_commit();
	return DatumGetCString(DirectFunctionCall1(uuid_out, uuid));
}

char *
worker_enqueue_invocation(Oid fn, Oid run_as, Jsonb *payload)
{
	return outbox_due_schedule("invoke", outbox_now(), run_as, fn, payload);
}

/* Earliest due_at of any item, or DT_NOEND when there is none. */
TimestampTz
worker_next_due(void)
{
	OutboxUserSwitch sw;
	TimestampTz result = DT_NOEND;
	bool		isnull;

	outbox_become_owner(&sw);
	SPI_connect();
	if (SPI_execute("SELECT min(due_at) FROM outbox.due_item", true, 1) == SPI_OK_SELECT &&
		SPI_processed == 1)
	{
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull)
			result = DatumGetTimestampTz(d);
	}
	SPI_finish();
	outbox_restore_user(&sw);
	return result;
}

typedef OutboxDueItem DueItem;

/* A handler is running: its user code may not run due work itself (it would step its own work). */
static bool in_due_work = false;

#define MAX_DUE_KINDS 16

static struct
{
	const char *kind;
	OutboxDueHandler handler;
}			due_kinds[MAX_DUE_KINDS];
static int	n_due_kinds = 0;

void
outbox_due_register(const char *kind, OutboxDueHandler handler)
{
	if (n_due_kinds >= MAX_DUE_KINDS)
		elog(ERROR, "too many kinds of due items");
	due_kinds[n_due_kinds].kind = kind;
	due_kinds[n_due_kinds].handler = handler;
	n_due_kinds++;
}

static void item_delete(int64 item_id);
static void item_postpone(DueItem *it, TimestampTz due_at, int attempts, const char *error);

/*
 * A handler's decisions are noted and applied by run_handler after the
 * handler's subtransaction: the item row is locked by the worker's top
 * transaction, and changing it from a subtransaction would give the row a
 * MultiXactId (lock + update by different xids), which every later scan
 * of the due items would have to look up.
 */
void
outbox_due_finish(OutboxDueItem *item)
{
	item->disposition = OUTBOX_DUE_FINISH;
}

void
outbox_due_postpone(OutboxDueItem *item, TimestampTz due_at, int attempts, const char *error)
{
	item->disposition = OUTBOX_DUE_POSTPONE;
	item->next_due = due_at;
	item->next_attempts = attempts;
	item->next_error = pstrdup(error ? error : "");
}

/* Reuse a running item for later work of the same thing, with a new payload. */
void
outbox_due_reschedule(OutboxDueItem *item, TimestampTz due_at, void *payload)
{
	item->disposition = OUTBOX_DUE_RESCHEDULE;
	item->next_due = due_at;
	item->next_payload = payload;
}

static void
item_reschedule(DueItem *it)
{
	Oid			types[3] = {INT8OID, TIMESTAMPTZOID, JSONBOID};
	Datum		vals[3];
	static SPIPlanPtr plan = NULL;

	vals[0] = Int64GetDatum(it->item_id);
	vals[1] = TimestampTzGetDatum(it->next_due);
	vals[2] = PointerGetDatum(it->next_payload);
	item_exec(&plan, "UPDATE outbox.due_item SET due_at = $2, payload = $3, attempts = 0, last_error = NULL"
			  " WHERE item_id = $1", 3, types, vals, NULL, SPI_OK_UPDATE);
	/* due now: this worker's loop takes it next; later: the scheduler must know */
	if (it->next_due > outbox_now())
		worker_wake_at_commit();
}

static void
item_delete(int64 item_id)
{
	Oid			type = INT8OID;
	Datum		val = Int64GetDatum(item_id);
	static SPIPlanPtr plan = NULL;

	item_exec(&plan, "DELETE FROM outbox.due_item WHERE item_id = $1", 1, &type, &val, NULL, SPI_OK_DELETE);
}

static void
item_postpone(DueItem *it, TimestampTz due_at, int attempts, const char *error)
{
	Oid			types[4] = {INT8OID, TIMESTAMPTZOID, INT4OID, TEXTOID};
	Datum		vals[4];
	static SPIPlanPtr plan = NULL;

	vals[0] = Int64GetDatum(it->item_id);
	vals[1] = TimestampTzGetDatum(due_at);
	vals[2] = Int32GetDatum(attempts);
	vals[3] = CStringGetTextDatum(error);
	item_exec(&plan, "UPDATE outbox.due_item SET due_at = $2, attempts = $3, last_error = $4 WHERE item_id = $1",
			  4, types, vals, NULL, SPI_OK_UPDATE);
}

/* Reserved concurrency: take one of the function's n slots, or fail. */
static bool
take_concurrency_slot(Oid fn, int n)
{
	for (int i = 0; i < n; i++)
	{
		if (DatumGetBool(DirectFunctionCall2(pg_try_advisory_xact_lock_int4,
											 Int32GetDatum((int32) fn),
											 Int32GetDatum(0x6f620000 + i))))
			return true;
	}
	return false;
}

static void
run_invocation(DueItem *it)
{
	WorkerFunctionConfig cfg;
	WorkerCallResult r;
	TimestampTz now = outbox_now();
	bool		exists = SearchSysCacheExists1(PROCOID, ObjectIdGetDatum(it->function));
	bool		expired;
	int			attempts = it->attempts;

	memset(&r, 0, sizeof(r));
	if (exists)
		worker_function_config(it->function, &cfg);
	else
	{
		/* the function was dropped: nothing can run it */
		memset(&cfg, 0, sizeof(cfg));
		cfg.maximum_event_age_seconds = 21600;
	}
	expired = now >= it->enqueued_at + (int64) cfg.maximum_event_age_seconds * USECS_PER_SEC;

	if (exists && !expired && cfg.reserved_concurrency >= 0 &&
		!take_concurrency_slot(it->function, cfg.reserved_concurrency))
	{
		/* throttled: try again shortly, without counting an attempt */
		outbox_due_postpone(it, now + THROTTLE_DELAY_MS * 1000, attempts, "throttled (reserved concurrency)");
		return;
	}

	if (!exists)
	{
		r.ok = false;
		r.sqlerrcode = ERRCODE_UNDEFINED_FUNCTION;
		r.message = psprintf("function with OID %u does not exist", it->function);
	}
	else if (!expired)
	{
		attempts++;
		worker_call_function(it->function, it->run_as, it->payload, cfg.timeout_seconds * 1000, &r);
	}

	if (r.ok)
	{
		worker_count(WORKER_COUNT_RUN);
		outbox_due_finish(it);
		if (cfg.on_success)
			worker_send_destination(cfg.on_success,
									worker_destination_record(it->function, it->request_id, "Success",
															  attempts, it->payload, &r),
									it->run_as);
		return;
	}

	if (!expired)
		worker_count(WORKER_COUNT_FAILED);
	if (!expired && exists && worker_error_is_retryable(r.sqlerrcode) &&
		attempts <= cfg.maximum_retry_attempts)
	{
		TimestampTz next = now + (int64) RETRY_BASE_SECONDS * USECS_PER_SEC * (1 << (attempts - 1));

		if (next < it->enqueued_at + (int64) cfg.maximum_event_age_seconds * USECS_PER_SEC)
		{
			worker_count(WORKER_COUNT_RETRIED);
			outbox_due_postpone(it, next, attempts, r.message);
			return;
		}
		expired = true;
	}

	/* finished without success */
	outbox_due_finish(it);
	if (expired && !r.message)
	{
		r.sqlerrcode = ERRCODE_QUERY_CANCELED;
		r.message = pstrdup("the event expired before it could run");
	}
	if (cfg.on_failure)
		worker_send_destination(cfg.on_failure,
								worker_destination_record(it->function, it->request_id,
														  expired ? "EventAgeExceeded" : "RetriesExhausted",
														  attempts, it->payload, &r),
								it->run_as);
	else
		ereport(LOG,
				(errmsg("pg_outbox dropped asynchronous invocation %s of %s after %d attempts: %s",
						it->request_id, exists ? format_procedure(it->function) : "a dropped function",
						attempts, r.message),
				 errhint("Give the function an on_failure destination with outbox.put_function_config to keep such events.")));
}

/*
 * Run an item's handler in a subtransaction.  A handler that raises leaves
 * the item for later, with back-off (1 s, 2 s, 4 s ... up to an hour).
 */
static void
run_handler(DueItem *it)
{
	OutboxDueHandler handler = NULL;
	WorkerSubxact sx;

	for (int i = 0; i < n_due_kinds; i++)
		if (strcmp(due_kinds[i].kind, it->kind) == 0)
			handler = due_kinds[i].handler;
	if (handler == NULL)
	{
		ereport(WARNING,
				(errmsg("pg_outbox has no handler for due items of kind \"%s\"; item %lld postponed by an hour",
						it->kind, (long long) it->item_id)));
		item_postpone(it, outbox_now() + USECS_PER_HOUR, it->attempts, "no handler for this kind");
		return;
	}
	it->disposition = OUTBOX_DUE_KEEP;
	worker_subxact_begin(&sx);
	in_due_work = true;
	PG_TRY();
	{
		handler(it);
		in_due_work = false;
		worker_subxact_release(&sx);
	}
	PG_CATCH();
	{
		ErrorData  *edata;
		int64		delay = USECS_PER_SEC << Min(it->attempts, 12);

		in_due_work = false;
		edata = worker_subxact_abort(&sx);

		worker_count(WORKER_COUNT_FAILED);
		item_postpone(it, outbox_now() + Min(delay, USECS_PER_HOUR), it->attempts + 1, edata->message);
		FreeErrorData(edata);
		return;
	}
	PG_END_TRY();

	/* in the worker's own transaction, which holds the item's row lock */
	switch (it->disposition)
	{
		case OUTBOX_DUE_FINISH:
			item_delete(it->item_id);
			break;
		case OUTBOX_DUE_POSTPONE:
			item_postpone(it, it->next_due, it->next_attempts, it->next_error);
			break;
		case OUTBOX_DUE_RESCHEDULE:
			item_reschedule(it);
			break;
		default:
			break;
	}
}

void
worker_due_init(void)
{
	outbox_due_register("invoke", run_invocation);
}

/*
 * Lock and run the oldest due item, in the current transaction.  Returns
 * false when nothing is due.
 */
bool
worker_run_one_item(void)
{
	OutboxUserSwitch sw;
	Oid			argtype = TIMESTAMPTZOID;
	Datum		now = TimestampTzGetDatum(outbox_now());
	DueItem		it;
	bool		found = false;
	MemoryContext cxt = CurrentMemoryContext;
	static SPIPlanPtr claim_plan = NULL;

	outbox_become_owner(&sw);
	SPI_connect();
	if (claim_plan == NULL)
		claim_plan = outbox_prepare_plan("SELECT item_id, kind, run_as, function, payload, request_id, attempts,"
										" enqueued_at FROM outbox.due_item WHERE due_at <= $1"
										" ORDER BY due_at LIMIT 1 FOR UPDATE SKIP LOCKED", 1, &argtype);
	if (SPI_execute_plan(claim_plan, &now, NULL, false, 1) == SPI_OK_SELECT &&
		SPI_processed == 1)
	{
		HeapTuple	t = SPI_tuptable->vals[0];
		TupleDesc	d = SPI_tuptable->tupdesc;
		bool		isnull;
		MemoryContext spi = MemoryContextSwitchTo(cxt);
		Datum		v;

		it.item_id = DatumGetInt64(SPI_getbinval(t, d, 1, &isnull));
		it.kind = SPI_getvalue(t, d, 2);
		it.run_as = DatumGetObjectId(SPI_getbinval(t, d, 3, &isnull));
		it.function = DatumGetObjectId(SPI_getbinval(t, d, 4, &isnull));
		v = SPI_getbinval(t, d, 5, &isnull);
		it.payload = isnull ? NULL : DatumGetJsonbPCopy(v);
		it.request_id = SPI_getvalue(t, d, 6);
		it.attempts = DatumGetInt32(SPI_getbinval(t, d, 7, &isnull));
		it.enqueued_at = DatumGetTimestampTz(SPI_getbinval(t, d, 8, &isnull));
		MemoryContextSwitchTo(spi);
		found = true;
	}
	SPI_finish();
	outbox_restore_user(&sw);
	if (!found)
		return false;

	worker_set_activity(psprintf("%s %s", it.kind, it.request_id));
	run_handler(&it);
	worker_set_activity(NULL);
	return true;
}

PG_FUNCTION_INFO_V1(outbox_run_due_work);
Datum
outbox_run_due_work(PG_FUNCTION_ARGS)
{
	int			max_items = PG_ARGISNULL(0) ? 100 : PG_GETARG_INT32(0);
	double		max_seconds = PG_ARGISNULL(1) ? 1.0 : PG_GETARG_FLOAT8(1);
	TimestampTz until = GetCurrentTimestamp() + (int64) (max_seconds * USECS_PER_SEC);
	int			done = 0;

	if (in_due_work)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("outbox.run_due_work cannot be called from due work (a task, delivery or target function)")));
	if (max_items < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid \"max_items\": %d must be at least 1", max_items)));
	if (!(max_seconds > 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid \"max_seconds\": must be positive")));

	while (done < max_items && GetCurrentTimestamp() < until)
	{
		bool		more = false;
		int			n;

		CHECK_FOR_INTERRUPTS();
		if (worker_run_one_item())
		{
			done++;
			continue;
		}
		n = worker_run_mappings(&more);
		done += n;
		if (n == 0)
			break;
	}
	PG_RETURN_INT32(done);
}
