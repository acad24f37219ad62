/*-------------------------------------------------------------------------
 *
 * sfn_exec_api.c
 *	  The SQL API of executions: start_execution, start_sync_execution,
 *	  stop_execution, redrive_execution, describe_execution,
 *	  list_executions, get_execution_history and the task-token calls.
 *
 * Documents are jsonb: describe_execution and the history details carry
 * inputs and outputs as JSON values, not as JSON text as AWS's wire format
 * does (a .sync task's result keeps AWS's shape; see sfn_task.c).
 *
 * Who may do what: starting, stopping and redriving need the "start"
 * right on the machine, reading executions "read"; the owner (and its
 * members, and superusers) has both.  A task token is its own credential:
 * whoever holds it may complete the task, as with AWS.
 *
 * start_sync_execution runs an EXPRESS execution in memory in the caller's
 * transaction (its tasks' writes commit or roll back with the caller); it
 * keeps the history only when asked.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/sfn/sfn_exec_api.c
 *
 *-------------------------------------------------------------------------
 */
#include "pg_outbox.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "core/clock.h"
#include "core/jsonb_util.h"
#include "core/security.h"
#include "sfn/sfn.h"
#include "sfn/sfn_exec.h"
#include "sfn/sfn_graph.h"
#include "worker/worker.h"

#define REDRIVE_DAYS	14
#define REDRIVE_MAX		1000

int			sfn_execution_retention_days = 90;

void
outbox_sfn_init(void)
{
	DefineCustomIntVariable("pg_outbox.execution_retention_days",
							"Days a closed state machine execution and its history are kept.",
							"AWS keeps closed executions 90 days; their names can be reused after that.",
							&sfn_execution_retention_days,
							90, 1, 36500,
							PGC_SUSET, 0,
							NULL, NULL, NULL);
	sfn_store_init();
}

/* ---- helpers shared by the room ---- */

char *
sfn_execution_arn(const char *type, const char *machine, const char *name)
{
	return psprintf("arn:aws:states:%s:%s:%s:%s:%s", outbox_region, outbox_account_id, type, machine, name);
}

Jsonb *
sfn_json(const char *text)
{
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(text)));
}

/* Compact JSON text (no blanks between tokens), as AWS writes JSON into strings. */
char *
sfn_json_text(Jsonb *j)
{
	char	   *text = JsonbToCString(NULL, &j->root, VARSIZE(j));
	char	   *out = palloc(strlen(text) + 1);
	char	   *o = out;
	bool		in_string = false;

	for (const char *p = text; *p; p++)
	{
		if (in_string)
		{
			*o++ = *p;
			if (*p == '\\' && p[1])
				*o++ = *++p;
			else if (*p == '"')
				in_string = false;
		}
		else if (*p == '"')
		{
			in_string = true;
			*o++ = *p;
		}
		else if (*p != ' ')
			*o++ = *p;
	}
	*o = '\0';
	return out;
}

void
sfn_details_begin(SfnDetails *d)
{
	d->st = NULL;
	pushJsonbValue(&d->st, WJB_BEGIN_OBJECT, NULL);
}

void
sfn_details_text(SfnDetails *d, const char *key, const char *value)
{
	if (value)
		outbox_jsonb_push_string(&d->st, key, value);
}

void
sfn_details_int(SfnDetails *d, const char *key, int64 value)
{
	JsonbValue	v;

	v.type = jbvNumeric;
	v.val.numeric = int64_to_numeric(value);
	outbox_jsonb_push_value(&d->st, key, &v);
}

void
sfn_details_json(SfnDetails *d, const char *key, Jsonb *value)
{
	JsonbValue	v;

	if (value == NULL)
		return;
	outbox_jsonb_root_value(value, &v);
	outbox_jsonb_push_value(&d->st, key, &v);
}

Jsonb *
sfn_details_end(SfnDetails *d)
{
	return JsonbValueToJsonb(pushJsonbValue(&d->st, WJB_END_OBJECT, NULL));
}

static void
details_time(SfnDetails *d, const char *key, TimestampTz t, bool epoch_ms)
{
	if (epoch_ms)
		sfn_details_int(d, key, (t - SetEpochTimestamp()) / 1000);
	else
		sfn_details_text(d, key, worker_iso_time(t));
}

/*
 * DescribeExecution.  pascal: the shape a parent's .sync task receives
 * (PascalCase keys, dates in epoch milliseconds); else camelCase with ISO
 * dates.
 */
Jsonb *
sfn_describe_run(SfnRun *run, bool pascal)
{
	SfnDetails	d;
	bool		closed = strcmp(run->status, "RUNNING") != 0;

	sfn_details_begin(&d);
	sfn_details_text(&d, pascal ? "ExecutionArn" : "executionArn", run->arn);
	sfn_details_text(&d, pascal ? "StateMachineArn" : "stateMachineArn", run->machine_arn);
	sfn_details_text(&d, pascal ? "Name" : "name", run->name);
	sfn_details_text(&d, pascal ? "Status" : "status", run->status);
	details_time(&d, pascal ? "StartDate" : "startDate", run->start_date, pascal);
	if (closed && run->stop_date != DT_NOBEGIN)
		details_time(&d, pascal ? "StopDate" : "stopDate", run->stop_date, pascal);
	sfn_details_json(&d, pascal ? "Input" : "input", run->input);
	if (strcmp(run->status, "SUCCEEDED") == 0)
		sfn_details_json(&d, pascal ? "Output" : "output", run->output ? run->output : sfn_json("null"));
	sfn_details_text(&d, pascal ? "Error" : "error", run->error);
	sfn_details_text(&d, pascal ? "Cause" : "cause", run->cause);
	if (!pascal)
	{
		sfn_details_text(&d, "type", run->type);
		sfn_details_int(&d, "redriveCount", run->redrive_count);
		if (run->redrive_count > 0)
			details_time(&d, "redriveDate", run->redrive_date, false);
		sfn_details_text(&d, "redriveStatus",
						 strcmp(run->type, "STANDARD") == 0 && closed && strcmp(run->status, "SUCCEEDED") != 0 &&
						 run->redrive_count < REDRIVE_MAX &&
						 run->now - run->stop_date < (int64) REDRIVE_DAYS * USECS_PER_DAY ?
						 "REDRIVABLE" : "NOT_REDRIVABLE");
	}
	return sfn_details_end(&d);
}

/* ---- starting ---- */

static Jsonb *
input_arg(FunctionCallInfo fcinfo, int n)
{
	return PG_ARGISNULL(n) ? sfn_json("{}") : PG_GETARG_JSONB_P(n);
}

PG_FUNCTION_INFO_V1(outbox_start_execution);
Datum
outbox_start_execution(PG_FUNCTION_ARGS)
{
	char	   *machine = outbox_arg_text(fcinfo, 0, "state_machine");
	Jsonb	   *input = input_arg(fcinfo, 1);
	char	   *name = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));
	OutboxCall	call;
	bool		created;
	Datum		result;

	outbox_call_begin(&call);
	result = outbox_call_text_result(sfn_store_start(machine, input, name, outbox_current_caller, NULL, &created));
	outbox_call_end(&call);
	PG_RETURN_DATUM(result);
}

/* The next thread to step in memory: the earliest due, then the first scheduled. */
static SfnThread *
next_due_thread(SfnRun *run)
{
	SfnThread  *best = NULL;
	ListCell   *lc;

	foreach(lc, run->threads)
	{
		SfnThread  *t = lfirst(lc);

		if (!t->scheduled || t->deleted || t->status != SFN_THREAD_RUNNING)
			continue;
		if (best == NULL || t->due_at < best->due_at ||
			(t->due_at == best->due_at && t->schedule_seq < best->schedule_seq))
			best = t;
	}
	return best;
}

/* Drop ended and deleted threads from memory (they are never looked at again). */
static void
forget_threads(SfnRun *run)
{
	List	   *keep = NIL;
	ListCell   *lc;

	foreach(lc, run->threads)
	{
		SfnThread  *t = lfirst(lc);

		if (!t->deleted)
			keep = lappend(keep, t);
	}
	list_free(run->threads);
	run->threads = keep;
}

/* Run an in-memory execution to its end, sleeping through Wait states and retry delays. */
static void
run_in_memory(SfnRun *run)
{
	TimestampTz deadline = run->timeout_at;	/* at most five minutes (sfn_store_timeout_at) */
	int			steps = 0;

	while (strcmp(run->status, "RUNNING") == 0)
	{
		SfnThread  *t = next_due_thread(run);
		TimestampTz now = outbox_now();

		CHECK_FOR_INTERRUPTS();
		if (t == NULL)
		{
			run->now = now;
			sfn_run_abort(run, "FAILED", "States.Runtime", "the execution has nothing left to run");
			break;
		}
		if (t->due_at > now)
		{
			if (t->due_at >= deadline)
			{
				run->now = deadline > now ? now : deadline;
				sfn_run_abort(run, "TIMED_OUT", "States.Timeout",
							  "the execution would run past its time limit");
				break;
			}
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 Max(1, (t->due_at - now) / 1000), PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
			continue;
		}
		if (now >= deadline)
		{
			run->now = now;
			sfn_run_abort(run, "TIMED_OUT", "States.Timeout", "the execution ran past its time limit");
			break;
		}
		run->now = now;
		sfn_run_step(run, t);
		if (++steps % 64 == 0)
			forget_threads(run);
	}
}

PG_FUNCTION_INFO_V1(outbox_start_sync_execution);
Datum
outbox_start_sync_execution(PG_FUNCTION_ARGS)
{
	char	   *machine = outbox_arg_text(fcinfo, 0, "state_machine");
	Jsonb	   *input = input_arg(fcinfo, 1);
	char	   *name = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));
	bool		include_history = !PG_ARGISNULL(3) && PG_GETARG_BOOL(3);
	SfnRun	   *run = palloc0(sizeof(SfnRun));
	Jsonb	   *description;
	Datum		result;

	sfn_store_prepare(run, machine, input, name, GetUserId());
	if (strcmp(run->type, "EXPRESS") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("StateMachineTypeNotSupported: start_sync_execution runs EXPRESS state machines only"),
				 errdetail("State machine \"%s\" is STANDARD.", run->machine),
				 errhint("Use outbox.start_execution.")));
	run->persistent = false;
	run->keep_history = include_history;
	sfn_run_start(run);
	run_in_memory(run);

	description = sfn_describe_run(run, false);
	if (include_history)
	{
		JsonbParseState *st = NULL;
		JsonbIterator *it = JsonbIteratorInit(&description->root);
		char	   *key;
		JsonbValue	v;
		JsonbValue	k;
		ListCell   *lc;

		pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
		while (outbox_jsonb_next_pair(&it, &key, &v))
			outbox_jsonb_push_value(&st, key, &v);
		k.type = jbvString;
		k.val.string.val = "history";
		k.val.string.len = strlen("history");
		pushJsonbValue(&st, WJB_KEY, &k);
		pushJsonbValue(&st, WJB_BEGIN_ARRAY, NULL);
		foreach(lc, run->events)
		{
			SfnEvent   *e = lfirst(lc);
			SfnDetails	d;

			sfn_details_begin(&d);
			sfn_details_int(&d, "id", e->id);
			sfn_details_int(&d, "previousEventId", e->previous);
			sfn_details_text(&d, "timestamp", worker_iso_time(e->timestamp));
			sfn_details_text(&d, "type", e->type);
			sfn_details_json(&d, "details", e->details);
			v.type = jbvBinary;
			{
				Jsonb	   *ej = sfn_details_end(&d);

				v.val.binary.data = &ej->root;
				v.val.binary.len = VARSIZE(ej) - VARHDRSZ;
			}
			pushJsonbValue(&st, WJB_ELEM, &v);
		}
		pushJsonbValue(&st, WJB_END_ARRAY, NULL);
		description = JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL));
	}
	result = JsonbPGetDatum(description);
	PG_RETURN_DATUM(result);
}

/* ---- stop, redrive ---- */

/* The execution of an ARN, locked, which the caller may act on ("start") or read. */
static SfnRun *
execution_arg(FunctionCallInfo fcinfo, int n, bool lock, const char *right)
{
	char	   *arn = outbox_arg_text(fcinfo, n, "execution_arn");
	SfnRun	   *run = sfn_store_load(0, arn, lock);

	if (run == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("ExecutionDoesNotExist: execution \"%s\" does not exist", arn)));
	if (strcmp(right, "read") == 0)
		sfn_check_read_right(run->machine);
	else if (!sfn_machine_has_right(run->machine, outbox_current_caller, right))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for executions of state machine \"%s\"", run->machine),
				 errdetail("Stopping and redriving need the \"start\" right.")));
	return run;
}

/* A text argument of at most max characters (error, cause), or NULL. */
char *
sfn_limited_text_arg(FunctionCallInfo fcinfo, int n, const char *field, int max)
{
	char	   *s = PG_ARGISNULL(n) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(n));

	if (s && strlen(s) > (size_t) max)
		ereport(ERROR,
				(errcode(ERRCODE_STRING_DATA_RIGHT_TRUNCATION),
				 errmsg("invalid \"%s\": longer than %d characters", field, max)));
	return s;
}

PG_FUNCTION_INFO_V1(outbox_stop_execution);
Datum
outbox_stop_execution(PG_FUNCTION_ARGS)
{
	char	   *error = sfn_limited_text_arg(fcinfo, 1, "error", SFN_ERROR_MAX);
	char	   *cause = sfn_limited_text_arg(fcinfo, 2, "cause", SFN_CAUSE_MAX);
	OutboxCall	call;
	SfnRun	   *run;
	TimestampTz stop_date;

	outbox_call_begin(&call);
	run = execution_arg(fcinfo, 0, true, "start");
	if (strcmp(run->status, "RUNNING") == 0)
	{
		sfn_run_abort(run, "ABORTED", error, cause);
		sfn_store_save(run);
	}
	stop_date = run->stop_date;
	outbox_call_end(&call);
	PG_RETURN_TIMESTAMPTZ(stop_date);
}

PG_FUNCTION_INFO_V1(outbox_redrive_execution);
Datum
outbox_redrive_execution(PG_FUNCTION_ARGS)
{
	OutboxCall	call;
	SfnRun	   *run;
	const char *why = NULL;
	TimestampTz redrive_date;

	outbox_call_begin(&call);
	run = execution_arg(fcinfo, 0, true, "start");
	if (strcmp(run->type, "STANDARD") != 0)
		why = "EXPRESS executions cannot be redriven";
	else if (strcmp(run->status, "RUNNING") == 0)
		why = "it is running";
	else if (strcmp(run->status, "SUCCEEDED") == 0)
		why = "it succeeded";
	else if (run->now - run->stop_date >= (int64) REDRIVE_DAYS * USECS_PER_DAY)
		why = psprintf("it ended more than %d days ago", REDRIVE_DAYS);
	else if (run->redrive_count >= REDRIVE_MAX)
		why = psprintf("it was redriven %d times already", REDRIVE_MAX);
	if (why)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("ExecutionNotRedrivable: execution \"%s\" cannot be redriven: %s", run->arn, why)));
	sfn_run_redrive(run);
	sfn_store_save(run);
	redrive_date = run->redrive_date;
	outbox_call_end(&call);
	PG_RETURN_TIMESTAMPTZ(redrive_date);
}

/* ---- reading ---- */

PG_FUNCTION_INFO_V1(outbox_describe_execution);
Datum
outbox_describe_execution(PG_FUNCTION_ARGS)
{
	OutboxCall	call;
	SfnRun	   *run;
	Datum		result;

	outbox_call_begin(&call);
	run = execution_arg(fcinfo, 0, false, "read");
	result = outbox_call_jsonb_result(sfn_describe_run(run, false));
	outbox_call_end(&call);
	PG_RETURN_DATUM(result);
}

PG_FUNCTION_INFO_V1(outbox_list_executions);
Datum
outbox_list_executions(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *machine = (char *) sfn_machine_name(outbox_arg_text(fcinfo, 0, "state_machine"));
	char	   *status = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	int			max = PG_ARGISNULL(2) ? 100 : PG_GETARG_INT32(2);
	OutboxCall	call;
	Oid			types[3] = {TEXTOID, TEXTOID, INT4OID};
	Datum		vals[3];
	char		nulls[3] = {' ', ' ', ' '};

	if (status && strcmp(status, "RUNNING") != 0 && strcmp(status, "SUCCEEDED") != 0 &&
		strcmp(status, "FAILED") != 0 && strcmp(status, "TIMED_OUT") != 0 && strcmp(status, "ABORTED") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid \"status_filter\": \"%s\"", status),
				 errdetail("It must be RUNNING, SUCCEEDED, FAILED, TIMED_OUT or ABORTED.")));
	if (max < 0 || max > 1000)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid \"max_results\": %d is not between 0 and 1000", max)));
	InitMaterializedSRF(fcinfo, 0);
	outbox_call_begin(&call);
	sfn_check_read_right(machine);
	vals[0] = CStringGetTextDatum(machine);
	if (status)
		vals[1] = CStringGetTextDatum(status);
	else
		nulls[1] = 'n';
	vals[2] = Int32GetDatum(max == 0 ? 100 : max);
	if (SPI_execute_with_args("SELECT arn, name, status, start_date, stop_date, redrive_count, type"
							  " FROM outbox.execution WHERE state_machine = $1 AND ($2::text IS NULL OR status = $2)"
							  " ORDER BY start_date DESC, execution_id DESC LIMIT $3", 3, types, vals, nulls, true, 0)
		!= SPI_OK_SELECT)
		elog(ERROR, "could not list executions");
	/* the query's columns are the function's OUT columns */
	for (uint64 i = 0; i < SPI_processed; i++)
		tuplestore_puttuple(rsinfo->setResult, SPI_tuptable->vals[i]);
	outbox_call_end(&call);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(outbox_get_execution_history);
Datum
outbox_get_execution_history(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	bool		reverse = !PG_ARGISNULL(1) && PG_GETARG_BOOL(1);
	bool		include_data = PG_ARGISNULL(2) || PG_GETARG_BOOL(2);
	OutboxCall	call;
	SfnRun	   *run;
	Oid			type = INT8OID;
	Datum		val;

	InitMaterializedSRF(fcinfo, 0);
	outbox_call_begin(&call);
	run = execution_arg(fcinfo, 0, false, "read");
	val = Int64GetDatum(run->execution_id);
	if (SPI_execute_with_args(reverse ?
							  "SELECT event_id, previous_event_id, timestamp, type, CASE WHEN $2 THEN details"
							  " ELSE details - '{input,output,parameters}'::text[] END FROM outbox.execution_event"
							  " WHERE execution_id = $1 ORDER BY event_id DESC" :
							  "SELECT event_id, previous_event_id, timestamp, type, CASE WHEN $2 THEN details"
							  " ELSE details - '{input,output,parameters}'::text[] END FROM outbox.execution_event"
							  " WHERE execution_id = $1 ORDER BY event_id",
							  2, (Oid[]) {type, BOOLOID}, (Datum[]) {val, BoolGetDatum(include_data)}, NULL, true, 0)
		!= SPI_OK_SELECT)
		elog(ERROR, "could not read the history of execution %s", run->arn);
	/* the query's columns are the function's OUT columns */
	for (uint64 i = 0; i < SPI_processed; i++)
		tuplestore_puttuple(rsinfo->setResult, SPI_tuptable->vals[i]);
	outbox_call_end(&call);
	return (Datum) 0;
}

/* ---- task tokens ---- */

static char *
token_arg(FunctionCallInfo fcinfo)
{
	return outbox_arg_text(fcinfo, 0, "task_token");
}

PG_FUNCTION_INFO_V1(outbox_send_task_success);
Datum
outbox_send_task_success(PG_FUNCTION_ARGS)
{
	char	   *token = token_arg(fcinfo);
	Jsonb	   *output;
	OutboxCall	call;

	outbox_arg_not_null(fcinfo, 1, "output");
	output = PG_GETARG_JSONB_P(1);
	if (VARSIZE(output) - VARHDRSZ > SFN_PAYLOAD_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("InvalidOutput: the output is larger than the maximum of %d bytes", SFN_PAYLOAD_MAX)));
	outbox_call_begin(&call);
	(void) sfn_store_complete_token(token, output, NULL, NULL, false, false);
	outbox_call_end(&call);
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(outbox_send_task_failure);
Datum
outbox_send_task_failure(PG_FUNCTION_ARGS)
{
	char	   *token = token_arg(fcinfo);
	char	   *error = sfn_limited_text_arg(fcinfo, 1, "error", SFN_ERROR_MAX);
	char	   *cause = sfn_limited_text_arg(fcinfo, 2, "cause", SFN_CAUSE_MAX);
	OutboxCall	call;

	outbox_call_begin(&call);
	(void) sfn_store_complete_token(token, NULL, error ? error : "", cause, false, false);
	outbox_call_end(&call);
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(outbox_send_task_heartbeat);
Datum
outbox_send_task_heartbeat(PG_FUNCTION_ARGS)
{
	char	   *token = token_arg(fcinfo);
	OutboxCall	call;

	outbox_call_begin(&call);
	(void) sfn_store_complete_token(token, NULL, NULL, NULL, true, false);
	outbox_call_end(&call);
	PG_RETURN_VOID();
}

/*
 * Start an execution for another room (an event bus target), as role, in
 * the caller's transaction.  What the role or the input gets wrong is
 * returned in *error (the caller dead-letters it), never raised.
 */
void
sfn_start_as(const char *machine_ref, const char *input_text, Oid role, bool *ok, char **error)
{
	const char *machine = sfn_machine_name(machine_ref);
	Jsonb	   *input = outbox_jsonb_parse_or_null(input_text, strlen(input_text));
	bool		created;

	*ok = false;
	if (input == NULL)
		*error = pstrdup("the input for a state machine must be JSON");
	else if (VARSIZE(input) - VARHDRSZ > SFN_PAYLOAD_MAX)
		*error = psprintf("the input is larger than the maximum of %d bytes", SFN_PAYLOAD_MAX);
	else if (!OidIsValid(role) || !sfn_machine_has_right(machine, role, "start"))
		*error = psprintf("role \"%s\" may not start executions of state machine \"%s\" (or it does not exist)",
						  OidIsValid(role) ? GetUserNameFromId(role, false) : "(dropped)", machine);
	else
	{
		(void) sfn_store_start(machine, input, NULL, role, NULL, &created);
		*ok = true;
	}
}

/* Executions per machine the caller may read: running, and closed in the last hour by status. */
PG_FUNCTION_INFO_V1(outbox_execution_counts);
Datum
outbox_execution_counts(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	OutboxCall	call;

	InitMaterializedSRF(fcinfo, 0);
	outbox_call_begin(&call);
	if (SPI_execute("SELECT m.name, count(*) FILTER (WHERE e.status = 'RUNNING'),"
					" count(*) FILTER (WHERE e.status = 'SUCCEEDED' AND e.stop_date > outbox.clock_now() - interval '1 hour'),"
					" count(*) FILTER (WHERE e.status = 'FAILED' AND e.stop_date > outbox.clock_now() - interval '1 hour'),"
					" count(*) FILTER (WHERE e.status = 'TIMED_OUT' AND e.stop_date > outbox.clock_now() - interval '1 hour'),"
					" count(*) FILTER (WHERE e.status = 'ABORTED' AND e.stop_date > outbox.clock_now() - interval '1 hour'),"
					" max(e.start_date)"
					" FROM outbox.state_machine m LEFT JOIN outbox.execution e ON e.state_machine = m.name"
					" GROUP BY m.name ORDER BY 2 DESC, 1", true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not count executions");
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		char	   *name = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);

		if (sfn_machine_has_right(name, outbox_current_caller, "read"))
			tuplestore_puttuple(rsinfo->setResult, SPI_tuptable->vals[i]);
	}
	outbox_call_end(&call);
	return (Datum) 0;
}

/* ---- pictures ---- */

PG_FUNCTION_INFO_V1(outbox_state_machine_graph);
Datum
outbox_state_machine_graph(PG_FUNCTION_ARGS)
{
	char	   *name = (char *) sfn_machine_name(outbox_arg_text(fcinfo, 0, "name"));
	char	   *format = outbox_arg_text(fcinfo, 1, "format");
	OutboxCall	call;
	Oid			type = TEXTOID;
	Datum		val = CStringGetTextDatum(name);
	Jsonb	   *definition = NULL;
	Datum		result;

	outbox_call_begin(&call);
	sfn_check_read_right(name);
	if (SPI_execute_with_args("SELECT definition FROM outbox.state_machine WHERE name = $1", 1, &type, &val,
							  NULL, true, 1) == SPI_OK_SELECT && SPI_processed == 1)
	{
		bool		isnull;

		definition = DatumGetJsonbP(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	}
	if (definition == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("state machine \"%s\" does not exist", name)));
	result = outbox_call_text_result(sfn_graph_render(definition, format, NULL));
	outbox_call_end(&call);
	PG_RETURN_DATUM(result);
}

/*
 * How each state of an execution went, from its history: the events of one
 * thread chain through previousEventId, so each event belongs to the state
 * its chain last entered.  Exited after a failure is CAUGHT; states still
 * open when the execution ended take its outcome.
 */
static Jsonb *
execution_states(SfnRun *run)
{
	Oid			type = INT8OID;
	Datum		val = Int64GetDatum(run->execution_id);
	int			n;
	char	  **state_of;
	JsonbParseState *st = NULL;
	HTAB	   *status;
	HASHCTL		ctl;
	HASH_SEQ_STATUS seq;
	typedef struct
	{
		char		name[NAMEDATALEN * 2];
		const char *status;
		bool		failed;
	}			Entry;
	Entry	   *e;
	const char *open_status = strcmp(run->status, "RUNNING") == 0 ? "RUNNING" :
		strcmp(run->status, "ABORTED") == 0 ? "ABORTED" :
		strcmp(run->status, "SUCCEEDED") == 0 ? "SUCCEEDED" : "FAILED";

	if (SPI_execute_with_args("SELECT event_id, previous_event_id, type, details->>'name'"
							  " FROM outbox.execution_event WHERE execution_id = $1 ORDER BY event_id",
							  1, &type, &val, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the history of execution %s", run->arn);
	n = SPI_processed;
	state_of = palloc0(sizeof(char *) * (n + 2));
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = NAMEDATALEN * 2;
	ctl.entrysize = sizeof(Entry);
	status = hash_create("pg_outbox execution graph", 64, &ctl, HASH_ELEM | HASH_STRINGS);
	for (int i = 0; i < n; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		int			id = DatumGetInt32(SPI_getbinval(tup, desc, 1, &isnull));
		int			prev = DatumGetInt32(SPI_getbinval(tup, desc, 2, &isnull));
		char	   *etype = SPI_getvalue(tup, desc, 3);
		char	   *name = SPI_getvalue(tup, desc, 4);
		char	   *state = NULL;
		bool		found;
		size_t		len = strlen(etype);

		if (id < 1 || id > n)
			continue;
		if (name && len > 7 && strcmp(etype + len - 7, "Entered") == 0)
			state = name;
		else if (prev >= 1 && prev <= n)
			state = state_of[prev];
		state_of[id] = state;
		if (state == NULL || strlen(state) >= NAMEDATALEN * 2)
			continue;
		e = hash_search(status, state, HASH_ENTER, &found);
		if (!found || strcmp(etype + len - Min(len, 7), "Entered") == 0)
		{
			e->status = strncmp(etype, "Fail", 4) == 0 ? "FAILED" : NULL;
			e->failed = false;
		}
		if (strcmp(etype + len - Min(len, 6), "Failed") == 0 || strcmp(etype, "TaskTimedOut") == 0)
			e->failed = true;
		if (strcmp(etype + len - Min(len, 6), "Exited") == 0)
			e->status = e->failed ? "CAUGHT" : "SUCCEEDED";
		if (strcmp(etype + len - Min(len, 7), "Aborted") == 0)
			e->status = "ABORTED";
	}
	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	hash_seq_init(&seq, status);
	while ((e = hash_seq_search(&seq)) != NULL)
		outbox_jsonb_push_string(&st, e->name, e->status ? e->status : open_status);
	return JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL));
}

PG_FUNCTION_INFO_V1(outbox_execution_graph);
Datum
outbox_execution_graph(PG_FUNCTION_ARGS)
{
	char	   *format = outbox_arg_text(fcinfo, 1, "format");
	OutboxCall	call;
	SfnRun	   *run;
	Datum		result;

	outbox_call_begin(&call);
	run = execution_arg(fcinfo, 0, false, "read");
	result = outbox_call_text_result(sfn_graph_render(run->definition, format, execution_states(run)));
	outbox_call_end(&call);
	PG_RETURN_DATUM(result);
}
