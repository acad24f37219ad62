/*-------------------------------------------------------------------------
 *
 * invoke.c
 *	  Functions as Lambda functions: calling user code as the role that
 *	  owns the work, invoke (RequestResponse and Event), per-function
 *	  settings, and the destination records of asynchronous invocations.
 *
 * A handler is an SQL function taking one jsonb argument and returning
 * jsonb, json, text or void.  worker_call_function() is the only place
 * that runs user code for the worker room: it runs the function in a
 * subtransaction, as a given role (never as the extension owner or the
 * bootstrap superuser), with that role's EXECUTE privilege checked, under
 * the function's timeout, and returns the result or the error instead of
 * throwing it.
 *
 * invoke(..., 'Event') inserts a due item of kind 'invoke' (see due.c) in
 * the caller's transaction and wakes the workers when it commits, so a
 * rolled-back transaction invokes nothing.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/worker/invoke.c
 *
 *-------------------------------------------------------------------------
 */
#include "pg_outbox.h"

#include "access/xact.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/regproc.h"
#include "utils/syscache.h"
#include "utils/timeout.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "core/clock.h"
#include "core/jsonb_util.h"
#include "core/security.h"
#include "queue/queue.h"
#include "worker/worker_int.h"

/* The handler's shape: one jsonb argument; jsonb, json, text or void back. */
void
worker_check_handler(Oid fn, const char *field)
{
	HeapTuple	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(fn));
	Form_pg_proc proc;
	Oid			rettype;

	if (!HeapTupleIsValid(tup))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("function with OID %u does not exist", fn)));
	proc = (Form_pg_proc) GETSTRUCT(tup);
	rettype = proc->prorettype;
	if (proc->prokind != PROKIND_FUNCTION || proc->pronargs != 1 ||
		proc->proargtypes.values[0] != JSONBOID || proc->proretset ||
		(rettype != JSONBOID && rettype != JSONOID && rettype != TEXTOID && rettype != VOIDOID))
	{
		ReleaseSysCache(tup);
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid \"%s\": %s is not a handler", field, format_procedure(fn)),
				 errdetail("A handler is a function taking one jsonb argument and returning jsonb, json, text or void.")));
	}
	ReleaseSysCache(tup);
}

/*
 * A handler named by a subscription or a target: a name, "schema.name", a
 * signature or a Lambda ARN (arn:aws:lambda:...:function:NAME); a name
 * without arguments means NAME(jsonb).  The calling role must be able to
 * execute it, since deliveries will run it as that role.
 */
Oid
worker_resolve_handler(const char *endpoint, const char *field)
{
	const char *name = endpoint;
	const char *fn = strstr(endpoint, ":function:");
	Oid			oid;
	AclResult	acl;

	if (strncmp(endpoint, "arn:", 4) == 0 && fn)
		name = fn + strlen(":function:");
	else if (strncmp(endpoint, "function:", 9) == 0)
		name = endpoint + 9;
	if (*name == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid \"%s\": a function name is required", field)));
	if (strchr(name, '(') == NULL)
		name = psprintf("%s(jsonb)", name);
	oid = DatumGetObjectId(DirectFunctionCall1(regprocedurein, CStringGetDatum(name)));
	worker_check_handler(oid, field);
	acl = outbox_proc_aclcheck(oid, outbox_current_caller, ACL_EXECUTE);
	if (acl != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for function %s", format_procedure(oid)),
				 errdetail("Deliveries run the function as you, so you must be able to execute it.")));
	return oid;
}

char *
worker_function_arn(Oid fn)
{
	char	   *nsp = get_namespace_name(get_func_namespace(fn));
	char	   *name = get_func_name(fn);

	return psprintf("arn:aws:lambda:%s:%s:function:%s.%s", outbox_region, outbox_account_id,
					nsp ? nsp : "?", name ? name : "?");
}

/* The settings of a function: its row of outbox.function_config, or defaults. */
void
worker_function_config(Oid fn, WorkerFunctionConfig *cfg)
{
	OutboxUserSwitch sw;
	Datum		arg = ObjectIdGetDatum(fn);
	Oid			argtype = REGPROCEDUREOID;
	int			rc;
	static SPIPlanPtr plan = NULL;

	cfg->timeout_seconds = 3;
	cfg->maximum_retry_attempts = 2;
	cfg->maximum_event_age_seconds = 21600;
	cfg->on_success = NULL;
	cfg->on_failure = NULL;
	cfg->reserved_concurrency = -1;
	cfg->exists = false;

	outbox_become_owner(&sw);
	SPI_connect();
	if (plan == NULL)
		plan = outbox_prepare_plan("SELECT timeout_seconds, maximum_retry_attempts, maximum_event_age_seconds,"
								  " on_success, on_failure, coalesce(reserved_concurrency, -1)"
								  " FROM outbox.function_config WHERE function = $1", 1, &argtype);
	rc = SPI_execute_plan(plan, &arg, NULL, false, 1);
	if (rc == SPI_OK_SELECT && SPI_processed == 1)
	{
		HeapTuple	t = SPI_tuptable->vals[0];
		TupleDesc	d = SPI_tuptable->tupdesc;
		bool		isnull;
		char	   *s;

		cfg->exists = true;
		cfg->timeout_seconds = DatumGetInt32(SPI_getbinval(t, d, 1, &isnull));
		cfg->maximum_retry_attempts = DatumGetInt32(SPI_getbinval(t, d, 2, &isnull));
		cfg->maximum_event_age_seconds = DatumGetInt32(SPI_getbinval(t, d, 3, &isnull));
		s = SPI_getvalue(t, d, 4);
		cfg->on_success = s ? MemoryContextStrdup(TopTransactionContext, s) : NULL;
		s = SPI_getvalue(t, d, 5);
		cfg->on_failure = s ? MemoryContextStrdup(TopTransactionContext, s) : NULL;
		cfg->reserved_concurrency = DatumGetInt32(SPI_getbinval(t, d, 6, &isnull));
	}
	SPI_finish();
	outbox_restore_user(&sw);
}

static Jsonb *
result_to_jsonb(Oid rettype, Datum value, bool isnull)
{
	char	   *json_text;

	if (isnull || rettype == VOIDOID)
		return NULL;
	if (rettype == JSONBOID)
		return DatumGetJsonbPCopy(value);
	if (rettype == JSONOID)
		json_text = TextDatumGetCString(value);
	else
	{
		/* text: a JSON string holding it */
		JsonbValue	v;

		v.type = jbvString;
		v.val.string.val = TextDatumGetCString(value);
		v.val.string.len = strlen(v.val.string.val);
		return JsonbValueToJsonb(&v);
	}
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(json_text)));
}

/*
 * Subtransactions around user code, the way PL/pgSQL's exception blocks do
 * it: begin, then either release or roll back and hand the error back
 * instead of throwing it.  The caller's memory context and resource owner
 * are current again afterwards.
 */
void
worker_subxact_begin(WorkerSubxact *sx)
{
	sx->cxt = CurrentMemoryContext;
	sx->owner = CurrentResourceOwner;
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(sx->cxt);
}

void
worker_subxact_release(WorkerSubxact *sx)
{
	ReleaseCurrentSubTransaction();
	MemoryContextSwitchTo(sx->cxt);
	CurrentResourceOwner = sx->owner;
}

/* In PG_CATCH: the error (in the caller's context), the subtransaction undone. */
ErrorData *
worker_subxact_abort(WorkerSubxact *sx)
{
	ErrorData  *edata;

	MemoryContextSwitchTo(sx->cxt);
	edata = CopyErrorData();
	FlushErrorState();
	RollbackAndReleaseCurrentSubTransaction();
	MemoryContextSwitchTo(sx->cxt);
	CurrentResourceOwner = sx->owner;
	return edata;
}

/*
 * Call fn(payload) as run_as in a subtransaction.  On success r->ok and
 * r->result (NULL for void/null); on error r->ok is false and r->sqlstate /
 * r->message say why.  The caller's memory context is current on return.
 * timeout_ms > 0 arms a statement timeout around the call unless one is
 * already running (an outer statement_timeout keeps precedence).
 */
void
worker_call_function(Oid fn, Oid run_as, Jsonb *payload, int timeout_ms, WorkerCallResult *r)
{
	WorkerSubxact sx;
	Oid			saved_user;
	int			saved_context;
	volatile bool armed = false;
	volatile TimestampTz started = 0;

	memset(r, 0, sizeof(*r));
	GetUserIdAndSecContext(&saved_user, &saved_context);
	worker_subxact_begin(&sx);
	PG_TRY();
	{
		FmgrInfo	flinfo;
		LOCAL_FCINFO(fcinfo, 1);
		Datum		value;
		Oid			rettype = get_func_rettype(fn);
		AclResult	acl;

		SetUserIdAndSecContext(run_as, saved_context | SECURITY_LOCAL_USERID_CHANGE);
		acl = outbox_proc_aclcheck(fn, run_as, ACL_EXECUTE);
		if (acl != ACLCHECK_OK)
			aclcheck_error(acl, OBJECT_FUNCTION, get_func_name(fn));
		if (timeout_ms > 0 && !get_timeout_active(STATEMENT_TIMEOUT))
		{
			started = GetCurrentTimestamp();
			enable_timeout_after(STATEMENT_TIMEOUT, timeout_ms);
			armed = true;
		}
		fmgr_info(fn, &flinfo);
		InitFunctionCallInfoData(*fcinfo, &flinfo, 1, InvalidOid, NULL, NULL);
		fcinfo->args[0].value = JsonbPGetDatum(payload);
		fcinfo->args[0].isnull = false;
		value = FunctionCallInvoke(fcinfo);
		if (armed)
			disable_timeout(STATEMENT_TIMEOUT, false);
		armed = false;
		MemoryContextSwitchTo(sx.cxt);
		r->result = result_to_jsonb(rettype, value, fcinfo->isnull);
		SetUserIdAndSecContext(saved_user, saved_context);
		worker_subxact_release(&sx);
		r->ok = true;
	}
	PG_CATCH();
	{
		ErrorData  *edata;
		/* our timer fired (ProcessInterrupts has already reset its indicator) */
		bool		timed_out = armed && TimestampDifferenceExceeds(started, GetCurrentTimestamp(), timeout_ms - 1);

		if (armed)
			disable_timeout(STATEMENT_TIMEOUT, false);
		SetUserIdAndSecContext(saved_user, saved_context);
		edata = worker_subxact_abort(&sx);
		if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED && !timed_out)
			ReThrowError(edata);	/* a cancel, or the caller's own statement_timeout: not the function's failure */
		r->ok = false;
		r->sqlerrcode = edata->sqlerrcode;
		r->message = edata->message ? pstrdup(edata->message) : pstrdup("unknown error");
		FreeErrorData(edata);
	}
	PG_END_TRY();
}

/*
 * Errors not worth retrying: the code cannot run (undefined object,
 * privileges, syntax: class 42) or the role cannot log in (28).
 * Everything else -- the function raising, timeouts, deadlocks,
 * serialization failures, resource shortages -- is retried.
 */
bool
worker_error_is_retryable(int sqlerrcode)
{
	char	   *state = unpack_sql_state(sqlerrcode);

	return !(strncmp(state, "42", 2) == 0 || strncmp(state, "28", 2) == 0);
}

/*
 * Send a destination record to a queue as run_as.  A destination that
 * cannot be written (gone, no right) is reported in the log and dropped,
 * as AWS does.
 */
void
worker_send_destination(const char *queue, Jsonb *record, Oid run_as)
{
	WorkerSubxact sx;
	Oid			saved_user;
	int			saved_context;

	GetUserIdAndSecContext(&saved_user, &saved_context);
	worker_subxact_begin(&sx);
	PG_TRY();
	{
		Oid			types[2] = {TEXTOID, JSONBOID};
		Datum		vals[2];

		vals[0] = CStringGetTextDatum(queue);
		vals[1] = JsonbPGetDatum(record);
		SetUserIdAndSecContext(run_as, saved_context | SECURITY_LOCAL_USERID_CHANGE);
		SPI_connect();
		SPI_execute_with_args("SELECT outbox.send_message($1, $2)", 2, types, vals, NULL, false, 0);
		SPI_finish();
		SetUserIdAndSecContext(saved_user, saved_context);
		worker_subxact_release(&sx);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		SetUserIdAndSecContext(saved_user, saved_context);
		edata = worker_subxact_abort(&sx);
		ereport(WARNING,
				(errmsg("pg_outbox could not send a destination record to queue \"%s\": %s",
						queue, edata->message),
				 errdetail("The record is dropped.")));
		FreeErrorData(edata);
	}
	PG_END_TRY();
}

/* ISO 8601 in UTC with milliseconds, as AWS writes times: 2026-01-31T12:34:56.789Z */
char *
worker_iso_time(TimestampTz t)
{
	struct pg_tm tm;
	fsec_t		fsec;

	if (timestamp2tm(t, NULL, &tm, &fsec, NULL, NULL) != 0)
		return pstrdup("");
	return psprintf("%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year, tm.tm_mon, tm.tm_mday,
					tm.tm_hour, tm.tm_min, tm.tm_sec, (int) (fsec / 1000));
}

/* Lambda's destination record for an asynchronous invocation. */
Jsonb *
worker_destination_record(Oid fn, const char *request_id, const char *condition, int invoke_count,
						  Jsonb *payload, WorkerCallResult *r)
{
	JsonbParseState *st = NULL;
	JsonbValue	v;
	char	   *ts = worker_iso_time(outbox_now());

	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	outbox_jsonb_push_string(&st, "version", "1.0");
	outbox_jsonb_push_string(&st, "timestamp", ts);
	v.type = jbvString;
	v.val.string.val = "requestContext";
	v.val.string.len = strlen("requestContext");
	pushJsonbValue(&st, WJB_KEY, &v);
	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	outbox_jsonb_push_string(&st, "requestId", request_id);
	outbox_jsonb_push_string(&st, "functionArn", worker_function_arn(fn));
	outbox_jsonb_push_string(&st, "condition", condition);
	v.type = jbvNumeric;
	v.val.numeric = int64_to_numeric(invoke_count);
	outbox_jsonb_push_value(&st, "approximateInvokeCount", &v);
	pushJsonbValue(&st, WJB_END_OBJECT, NULL);
	v.type = jbvBinary;
	v.val.binary.data = &payload->root;
	v.val.binary.len = VARSIZE(payload) - VARHDRSZ;
	outbox_jsonb_push_value(&st, "requestPayload", &v);
	v.type = jbvString;
	v.val.string.val = "responseContext";
	v.val.string.len = strlen("responseContext");
	pushJsonbValue(&st, WJB_KEY, &v);
	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	v.type = jbvNumeric;
	v.val.numeric = int64_to_numeric(200);
	outbox_jsonb_push_value(&st, "statusCode", &v);
	outbox_jsonb_push_string(&st, "executedVersion", "$LATEST");
	if (r && !r->ok)
		outbox_jsonb_push_string(&st, "functionError", "Unhandled");
	pushJsonbValue(&st, WJB_END_OBJECT, NULL);
	if (r && !r->ok)
	{
		v.type = jbvString;
		v.val.string.val = "responsePayload";
		v.val.string.len = strlen("responsePayload");
		pushJsonbValue(&st, WJB_KEY, &v);
		pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
		outbox_jsonb_push_string(&st, "errorMessage", r->message);
		outbox_jsonb_push_string(&st, "errorType", unpack_sql_state(r->sqlerrcode));
		pushJsonbValue(&st, WJB_END_OBJECT, NULL);
	}
	else if (r && r->result)
	{
		v.type = jbvBinary;
		v.val.binary.data = &r->result->root;
		v.val.binary.len = VARSIZE(r->result) - VARHDRSZ;
		outbox_jsonb_push_value(&st, "responsePayload", &v);
	}
	return JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL));
}

static void
not_null(FunctionCallInfo fcinfo, int arg, const char *name)
{
	if (PG_ARGISNULL(arg))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", name)));
}

PG_FUNCTION_INFO_V1(outbox_invoke);
Datum
outbox_invoke(PG_FUNCTION_ARGS)
{
	Oid			fn;
	Jsonb	   *payload;
	char	   *type;
	AclResult	acl;

	not_null(fcinfo, 0, "function");
	not_null(fcinfo, 1, "payload");
	not_null(fcinfo, 2, "invocation_type");
	fn = PG_GETARG_OID(0);
	payload = PG_GETARG_JSONB_P(1);
	type = text_to_cstring(PG_GETARG_TEXT_PP(2));
	worker_check_handler(fn, "function");
	acl = outbox_proc_aclcheck(fn, GetUserId(), ACL_EXECUTE);
	if (acl != ACLCHECK_OK)
		aclcheck_error(acl, OBJECT_FUNCTION, get_func_name(fn));

	if (strcmp(type, "RequestResponse") == 0)
	{
		WorkerFunctionConfig cfg;
		WorkerCallResult r;

		worker_function_config(fn, &cfg);
		worker_call_function(fn, GetUserId(), payload, cfg.timeout_seconds * 1000, &r);
		if (!r.ok)
			ereport(ERROR,
					(errcode(r.sqlerrcode),
					 errmsg("%s", r.message),
					 errcontext("invoking function %s", format_procedure(fn))));
		if (r.result == NULL)
			PG_RETURN_NULL();
		PG_RETURN_JSONB_P(r.result);
	}
	else if (strcmp(type, "Event") == 0)
	{
		char	   *request_id = worker_enqueue_invocation(fn, GetUserId(), payload);
		JsonbParseState *st = NULL;
		JsonbValue	v;

		pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
		v.type = jbvNumeric;
		v.val.numeric = int64_to_numeric(202);
		outbox_jsonb_push_value(&st, "StatusCode", &v);
		outbox_jsonb_push_string(&st, "RequestId", request_id);
		PG_RETURN_JSONB_P(JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL)));
	}
	else if (strcmp(type, "DryRun") == 0)
		PG_RETURN_NULL();
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid \"invocation_type\": \"%s\"", type),
			 errhint("Use RequestResponse, Event or DryRun.")));
	PG_RETURN_NULL();
}

/* Only the function's owner (or a superuser) configures it. */
static void
check_function_owner(Oid fn)
{
	if (!outbox_proc_ownercheck(fn, GetUserId()))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be owner of function %s to configure it", format_procedure(fn))));
}

static Jsonb *
config_jsonb(Oid fn)
{
	WorkerFunctionConfig cfg;
	JsonbParseState *st = NULL;
	JsonbValue	v;

	worker_function_config(fn, &cfg);
	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	outbox_jsonb_push_string(&st, "FunctionArn", worker_function_arn(fn));
	v.type = jbvNumeric;
	v.val.numeric = int64_to_numeric(cfg.timeout_seconds);
	outbox_jsonb_push_value(&st, "Timeout", &v);
	v.val.numeric = int64_to_numeric(cfg.maximum_retry_attempts);
	outbox_jsonb_push_value(&st, "MaximumRetryAttempts", &v);
	v.val.numeric = int64_to_numeric(cfg.maximum_event_age_seconds);
	outbox_jsonb_push_value(&st, "MaximumEventAgeInSeconds", &v);
	if (cfg.reserved_concurrency >= 0)
	{
		v.val.numeric = int64_to_numeric(cfg.reserved_concurrency);
		outbox_jsonb_push_value(&st, "ReservedConcurrentExecutions", &v);
	}
	if (cfg.on_success)
		outbox_jsonb_push_string(&st, "OnSuccess", cfg.on_success);
	if (cfg.on_failure)
		outbox_jsonb_push_string(&st, "OnFailure", cfg.on_failure);
	return JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL));
}

static void
check_range(FunctionCallInfo fcinfo, int arg, const char *name, int lo, int hi)
{
	int			v;

	if (PG_ARGISNULL(arg))
		return;
	v = PG_GETARG_INT32(arg);
	if (v < lo || v > hi)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid \"%s\": %d is out of range (%d to %d)", name, v, lo, hi)));
}

static void
check_destination(FunctionCallInfo fcinfo, int arg, const char *name)
{
	char	   *q;
	OutboxUserSwitch sw;
	Oid			argtype = TEXTOID;
	Datum		val;
	bool		found;

	if (PG_ARGISNULL(arg))
		return;
	q = text_to_cstring(PG_GETARG_TEXT_PP(arg));
	if (q[0] == '\0')
		return;
	val = CStringGetTextDatum(q);
	outbox_become_owner(&sw);
	SPI_connect();
	SPI_execute_with_args("SELECT 1 FROM outbox.queue WHERE queue_name = $1", 1, &argtype, &val,
						  NULL, true, 1);
	found = SPI_processed == 1;
	SPI_finish();
	outbox_restore_user(&sw);
	if (!found)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("invalid \"%s\": queue \"%s\" does not exist", name, q)));
}

PG_FUNCTION_INFO_V1(outbox_put_function_config);
Datum
outbox_put_function_config(PG_FUNCTION_ARGS)
{
	Oid			fn;
	OutboxUserSwitch sw;
	Oid			types[8] = {REGPROCEDUREOID, INT4OID, INT4OID, INT4OID, TEXTOID, TEXTOID, INT4OID, TIMESTAMPTZOID};
	Datum		vals[8];
	char		nulls[8];

	not_null(fcinfo, 0, "function");
	fn = PG_GETARG_OID(0);
	worker_check_handler(fn, "function");
	check_function_owner(fn);
	check_range(fcinfo, 1, "timeout_seconds", 1, 900);
	check_range(fcinfo, 2, "maximum_retry_attempts", 0, 2);
	check_range(fcinfo, 3, "maximum_event_age_seconds", 60, 21600);
	check_destination(fcinfo, 4, "on_success");
	check_destination(fcinfo, 5, "on_failure");
	check_range(fcinfo, 6, "reserved_concurrency", 0, 1000);

	for (int i = 0; i < 7; i++)
	{
		nulls[i] = PG_ARGISNULL(i) ? 'n' : ' ';
		vals[i] = PG_ARGISNULL(i) ? (Datum) 0 : PG_GETARG_DATUM(i);
	}
	vals[7] = TimestampTzGetDatum(outbox_now());
	nulls[7] = ' ';

	outbox_become_owner(&sw);
	SPI_connect();
	SPI_execute_with_args("INSERT INTO outbox.function_config AS c (function, timeout_seconds,"
						  " maximum_retry_attempts, maximum_event_age_seconds, on_success, on_failure,"
						  " reserved_concurrency, last_modified)"
						  " VALUES ($1, coalesce($2, 3), coalesce($3, 2), coalesce($4, 21600),"
						  " nullif($5, ''), nullif($6, ''), $7, $8)"
						  " ON CONFLICT (function) DO UPDATE SET"
						  " timeout_seconds = coalesce($2, c.timeout_seconds),"
						  " maximum_retry_attempts = coalesce($3, c.maximum_retry_attempts),"
						  " maximum_event_age_seconds = coalesce($4, c.maximum_event_age_seconds),"
						  " on_success = CASE WHEN $5 IS NULL THEN c.on_success ELSE nullif($5, '') END,"
						  " on_failure = CASE WHEN $6 IS NULL THEN c.on_failure ELSE nullif($6, '') END,"
						  " reserved_concurrency = coalesce($7, c.reserved_concurrency),"
						  " last_modified = $8",
						  8, types, vals, nulls, false, 0);
	SPI_finish();
	outbox_restore_user(&sw);
	CommandCounterIncrement();
	PG_RETURN_JSONB_P(config_jsonb(fn));
}

PG_FUNCTION_INFO_V1(outbox_get_function_config);
Datum
outbox_get_function_config(PG_FUNCTION_ARGS)
{
	not_null(fcinfo, 0, "function");
	PG_RETURN_JSONB_P(config_jsonb(PG_GETARG_OID(0)));
}

PG_FUNCTION_INFO_V1(outbox_delete_function_config);
Datum
outbox_delete_function_config(PG_FUNCTION_ARGS)
{
	Oid			fn;
	OutboxUserSwitch sw;
	Oid			argtype = REGPROCEDUREOID;
	Datum		val;

	not_null(fcinfo, 0, "function");
	fn = PG_GETARG_OID(0);
	check_function_owner(fn);
	val = ObjectIdGetDatum(fn);
	outbox_become_owner(&sw);
	SPI_connect();
	SPI_execute_with_args("DELETE FROM outbox.function_config WHERE function = $1", 1, &argtype, &val,
						  NULL, false, 0);
	SPI_finish();
	outbox_restore_user(&sw);
	PG_RETURN_VOID();
}
