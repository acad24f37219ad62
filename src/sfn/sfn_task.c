/*-------------------------------------------------------------------------
 *
 * sfn_task.c
 *	  What a Task state's Resource does: call an SQL function, or one of
 *	  the service integrations mapped onto our own rooms, with AWS's
 *	  resource ARNs so that definitions port unchanged.
 *
 *   arn:aws:lambda:<region>:<account>:function:<name>, function:<name>
 *       the SQL function <name>(jsonb), as the machine's owner; the result
 *       is what it returns
 *   arn:aws:states:::lambda:invoke[.waitForTaskToken]
 *       the same with Parameters {FunctionName, Payload}; the result is
 *       {"ExecutedVersion", "Payload", "StatusCode"} as Lambda's
 *   arn:aws:states:::sqs:sendMessage[.waitForTaskToken]      send_message
 *   arn:aws:states:::sns:publish[.waitForTaskToken]          publish
 *   arn:aws:states:::events:putEvents[.waitForTaskToken]     put_events
 *   arn:aws:states:::states:startExecution[.sync|.sync:2|.waitForTaskToken]
 *
 * Everything runs in a subtransaction of the step's transaction, as the
 * machine's owner: a failure rolls back the task's own writes and becomes
 * the task's error; a success commits with the step that records it.
 *
 * A function fails with a chosen name by outbox.raise_task_error(error,
 * cause); any other SQL error fails the task with the SQLSTATE's condition
 * name (unique_violation, raise_exception, ...) as Error and the message as
 * Cause; the statement timeout of TimeoutSeconds is States.Timeout, a
 * missing EXECUTE privilege States.Permissions.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/sfn/sfn_task.c
 *
 *-------------------------------------------------------------------------
 */
#include "pg_outbox.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "parser/parse_func.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/regproc.h"
#include "utils/varlena.h"

#include "core/jsonb_util.h"
#include "sfn/sfn.h"
#include "sfn/sfn_exec.h"
#include "worker/worker.h"
#include "worker/worker_int.h"

/* SQLSTATE -> condition name, generated from PostgreSQL's errcodes.txt */
static const struct
{
	const char *sqlstate;
	const char *name;
}			condition_names[] =
{
#include "sfn/sfn_errcodes.h"
	{NULL, NULL}
};

#define ERRCODE_TASK_ERROR	MAKE_SQLSTATE('S','F','0','0','1')

/* set by raise_task_error, read when the call fails with ERRCODE_TASK_ERROR */
static char task_error_name[SFN_ERROR_MAX + 1];

/* the context object of the task being run, for outbox.task_context() */
static Jsonb *current_task_context = NULL;

static const char *
condition_name(int sqlerrcode)
{
	const char *state = unpack_sql_state(sqlerrcode);

	for (int i = 0; condition_names[i].sqlstate; i++)
		if (strcmp(condition_names[i].sqlstate, state) == 0)
			return condition_names[i].name;
	return state;
}

/* Parse a Resource; false when we do not know it. */
bool
sfn_task_describe(const char *resource, SfnTaskCall *call)
{
	static const char *const services[] = {"lambda:invoke", "sqs:sendMessage", "sns:publish",
	"events:putEvents", "states:startExecution", NULL};
	const char *fn = resource ? strstr(resource, ":function:") : NULL;

	call->resource = resource;
	if (resource == NULL)
		return false;
	if ((strncmp(resource, "arn:aws:lambda:", 15) == 0 && fn && fn[10]) ||
		(strncmp(resource, "function:", 9) == 0 && resource[9]))
	{
		call->resource_type = "function";
		call->resource_name = fn ? fn + 10 : resource + 9;
		return true;
	}
	if (strncmp(resource, "arn:aws:states:::", 17) != 0)
		return false;
	for (int i = 0; services[i]; i++)
	{
		size_t		len = strlen(services[i]);
		const char *rest = resource + 17 + len;

		if (strncmp(resource + 17, services[i], len) != 0)
			continue;
		call->resource_type = pnstrdup(services[i], strchr(services[i], ':') - services[i]);
		call->resource_name = strchr(resource + 17, ':') + 1;
		if (*rest == '\0')
			return true;
		if (strcmp(rest, ".waitForTaskToken") == 0)
		{
			call->wait_for_token = true;
			return true;
		}
		if (i == 4 && (strcmp(rest, ".sync") == 0 || strcmp(rest, ".sync:2") == 0))
		{
			call->sync = true;
			call->sync2 = strcmp(rest, ".sync:2") == 0;
			return true;
		}
		return false;
	}
	return false;
}

/* ---- calling user code ---- */

PG_FUNCTION_INFO_V1(outbox_task_context);
Datum
outbox_task_context(PG_FUNCTION_ARGS)
{
	if (current_task_context == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("outbox.task_context() can only be called by a state machine's task function")));
	PG_RETURN_JSONB_P(current_task_context);
}

PG_FUNCTION_INFO_V1(outbox_raise_task_error);
Datum
outbox_raise_task_error(PG_FUNCTION_ARGS)
{
	char	   *error = sfn_limited_text_arg(fcinfo, 0, "error", SFN_ERROR_MAX);
	char	   *cause = sfn_limited_text_arg(fcinfo, 1, "cause", SFN_CAUSE_MAX);

	if (error == NULL)
		error = "";
	strlcpy(task_error_name, error, sizeof(task_error_name));
	ereport(ERROR,
			(errcode(ERRCODE_TASK_ERROR),
			 errmsg("%s", cause ? cause : error),
			 errdetail("Task error \"%s\" raised by outbox.raise_task_error.", error)));
	PG_RETURN_VOID();
}

/* The function a Resource or FunctionName names, or InvalidOid. */
static Oid
task_function(const char *name)
{
	Oid			argtype = JSONBOID;
	List	   *names;
	Oid			fn;
	Oid			rettype;

	if (strstr(name, ":function:"))
		name = strstr(name, ":function:") + 10;
	else if (strncmp(name, "function:", 9) == 0)
		name += 9;
#if PG_VERSION_NUM >= 160000
	names = stringToQualifiedNameList(name, NULL);
#else
	names = stringToQualifiedNameList(name);
#endif
	fn = LookupFuncName(names, 1, &argtype, true);
	if (!OidIsValid(fn))
		return InvalidOid;
	rettype = get_func_rettype(fn);
	if (rettype != JSONBOID && rettype != JSONOID && rettype != TEXTOID && rettype != VOIDOID)
		return InvalidOid;
	return fn;
}

static SfnTaskOutcome
task_failed(SfnTaskCall *call, const char *error, const char *cause)
{
	call->error = pstrdup(error);
	call->cause = cause ? pstrdup(cause) : NULL;
	return SFN_TASK_FAILED;
}

static SfnTaskOutcome
call_function(SfnRun *run, SfnTaskCall *call, const char *name, Jsonb *payload, bool wrap)
{
	volatile Oid fn = InvalidOid;
	WorkerCallResult r;
	MemoryContext cxt = CurrentMemoryContext;
	volatile bool bad_name = false;
	int			timeout;
	Jsonb	   *saved_context;

	PG_TRY();
	{
		fn = task_function(name);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		FlushErrorState();		/* a malformed name: parsing holds no resources */
		bad_name = true;
	}
	PG_END_TRY();
	if (bad_name || !OidIsValid(fn))
		return task_failed(call, "Lambda.ResourceNotFoundException",
						   psprintf("function %s(jsonb) returning jsonb, json, text or void does not exist",
									strstr(name, "function:") ? strstr(name, "function:") + 9 : name));
	if (outbox_proc_aclcheck(fn, run->owner, ACL_EXECUTE) != ACLCHECK_OK)
		return task_failed(call, "States.Permissions",
						   psprintf("role \"%s\" may not execute function %s",
									GetUserNameFromId(run->owner, false), format_procedure(fn)));

	/* TimeoutSeconds, or the function's own configured timeout */
	timeout = call->timeout_seconds;
	if (timeout <= 0)
	{
		WorkerFunctionConfig cfg;

		worker_function_config(fn, &cfg);
		timeout = cfg.timeout_seconds;
	}
	task_error_name[0] = '\0';
	saved_context = current_task_context;	/* a task may run a task (start_sync_execution) */
	current_task_context = call->context;
	worker_call_function(fn, run->owner, payload, timeout * 1000, &r);
	current_task_context = saved_context;
	if (!r.ok)
	{
		if (r.sqlerrcode == ERRCODE_TASK_ERROR)
			return task_failed(call, task_error_name, r.message);
		if (r.sqlerrcode == ERRCODE_QUERY_CANCELED && timeout > 0)
			return task_failed(call, "States.Timeout", r.message);
		return task_failed(call, condition_name(r.sqlerrcode), r.message);
	}
	call->result = r.result ? r.result : sfn_json("null");
	if (wrap)
	{
		JsonbParseState *st = NULL;
		JsonbValue	v;

		pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
		outbox_jsonb_push_string(&st, "ExecutedVersion", "$LATEST");
		outbox_jsonb_root_value(call->result, &v);
		outbox_jsonb_push_value(&st, "Payload", &v);
		v.type = jbvNumeric;
		v.val.numeric = int64_to_numeric(200);
		outbox_jsonb_push_value(&st, "StatusCode", &v);
		call->result = JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL));
	}
	return SFN_TASK_DONE;
}

/* ---- service integrations ---- */

/* A parameter as text: strings as they are, other JSON as its text; NULL when absent. */
static char *
param_text(Jsonb *params, const char *key)
{
	JsonbValue *v = JB_ROOT_IS_OBJECT(params) ? outbox_jsonb_get(&params->root, key) : NULL;

	if (v == NULL || v->type == jbvNull)
		return NULL;
	if (v->type == jbvString)
		return pnstrdup(v->val.string.val, v->val.string.len);
	return sfn_json_text(JsonbValueToJsonb(v));
}

static Jsonb *
param_json(Jsonb *params, const char *key)
{
	JsonbValue *v = JB_ROOT_IS_OBJECT(params) ? outbox_jsonb_get(&params->root, key) : NULL;

	return v && v->type != jbvNull ? JsonbValueToJsonb(v) : NULL;
}

/* A statement argument that is null when the parameter is absent. */
static void
arg_text(Datum *vals, char *nulls, int i, const char *value)
{
	vals[i] = value ? CStringGetTextDatum(value) : (Datum) 0;
	nulls[i] = value ? ' ' : 'n';
}

static void
arg_jsonb(Datum *vals, char *nulls, int i, Jsonb *value)
{
	vals[i] = value ? JsonbPGetDatum(value) : (Datum) 0;
	nulls[i] = value ? ' ' : 'n';
}

/* The last segment of a queue URL or ARN, or the name itself. */
static char *
queue_name_of(char *s)
{
	char	   *slash = s ? strrchr(s, '/') : NULL;

	return slash ? slash + 1 : s;
}

/*
 * Run one statement returning one jsonb as the machine's owner, in a
 * subtransaction; false (with *sqlerrcode and *message) when it fails.
 */
static bool
call_sql(SfnRun *run, const char *sql, int nargs, Oid *types, Datum *vals, const char *nulls, Jsonb **result,
		 int *sqlerrcode, char **message)
{
	WorkerSubxact sx;
	Oid			saved_user;
	int			saved_context;
	MemoryContext cxt = CurrentMemoryContext;
	volatile bool ok = false;

	GetUserIdAndSecContext(&saved_user, &saved_context);
	worker_subxact_begin(&sx);
	PG_TRY();
	{
		SetUserIdAndSecContext(run->owner, saved_context | SECURITY_LOCAL_USERID_CHANGE);
		SPI_connect();
		if (SPI_execute_with_args(sql, nargs, types, vals, nulls, false, 0) != SPI_OK_SELECT ||
			SPI_processed != 1)
			elog(ERROR, "integration statement returned no row");
		{
			bool		isnull;
			Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

			MemoryContextSwitchTo(cxt);
			*result = isnull ? sfn_json("null") : DatumGetJsonbPCopy(d);
		}
		SPI_finish();
		SetUserIdAndSecContext(saved_user, saved_context);
		worker_subxact_release(&sx);
		ok = true;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		SetUserIdAndSecContext(saved_user, saved_context);
		edata = worker_subxact_abort(&sx);
		MemoryContextSwitchTo(cxt);
		*sqlerrcode = edata->sqlerrcode;
		*message = pstrdup(edata->message ? edata->message : "unknown error");
		FreeErrorData(edata);
	}
	PG_END_TRY();
	return ok;
}

static SfnTaskOutcome
integration_failed(SfnTaskCall *call, const char *service, int sqlerrcode, const char *message)
{
	const char *kind;

	if (sqlerrcode == ERRCODE_UNDEFINED_OBJECT)
		kind = strcmp(service, "SQS") == 0 ? "QueueDoesNotExistException" :
			strcmp(service, "SNS") == 0 ? "NotFoundException" :
			strcmp(service, "StepFunctions") == 0 ? "StateMachineDoesNotExistException" : "ResourceNotFoundException";
	else if (sqlerrcode == ERRCODE_INSUFFICIENT_PRIVILEGE)
		kind = "AccessDeniedException";
	else if (sqlerrcode == ERRCODE_DUPLICATE_OBJECT && strcmp(service, "StepFunctions") == 0)
		kind = "ExecutionAlreadyExistsException";
	else if (sqlerrcode == ERRCODE_INVALID_PARAMETER_VALUE || sqlerrcode == ERRCODE_NULL_VALUE_NOT_ALLOWED)
		kind = "InvalidParameterException";
	else
		kind = psprintf("Amazon%sException", service);
	return task_failed(call, psprintf("%s.%s", service, kind), message);
}

static SfnTaskOutcome
send_sqs(SfnRun *run, SfnTaskCall *call)
{
	Jsonb	   *p = call->parameters;
	Oid			types[6] = {TEXTOID, TEXTOID, INT4OID, JSONBOID, TEXTOID, TEXTOID};
	Datum		vals[6];
	char		nulls[6] = {' ', ' ', ' ', ' ', ' ', ' '};
	char	   *queue = queue_name_of(param_text(p, "QueueUrl"));
	char	   *body = param_text(p, "MessageBody");
	char	   *delay = param_text(p, "DelaySeconds");
	Jsonb	   *attrs = param_json(p, "MessageAttributes");
	char	   *group = param_text(p, "MessageGroupId");
	char	   *dedup = param_text(p, "MessageDeduplicationId");
	Jsonb	   *result;
	int			code;
	char	   *message;

	if (queue == NULL || body == NULL)
		return task_failed(call, "SQS.InvalidParameterException", "QueueUrl and MessageBody are required");
	vals[0] = CStringGetTextDatum(queue);
	vals[1] = CStringGetTextDatum(body);
	if (delay)
		vals[2] = Int32GetDatum(atoi(delay));
	else
		nulls[2] = 'n';
	arg_jsonb(vals, nulls, 3, attrs);
	arg_text(vals, nulls, 4, group);
	arg_text(vals, nulls, 5, dedup);
	if (!call_sql(run, "SELECT jsonb_strip_nulls(jsonb_build_object('MessageId', m.message_id,"
				  " 'MD5OfMessageBody', m.md5_of_message_body, 'MD5OfMessageAttributes', m.md5_of_message_attributes,"
				  " 'SequenceNumber', m.sequence_number)) FROM outbox.send_message($1, $2, $3, $4, $5, $6) m",
				  6, types, vals, nulls, &result, &code, &message))
		return integration_failed(call, "SQS", code, message);
	call->result = result;
	return SFN_TASK_DONE;
}

static SfnTaskOutcome
publish_sns(SfnRun *run, SfnTaskCall *call)
{
	Jsonb	   *p = call->parameters;
	Oid			types[6] = {TEXTOID, TEXTOID, TEXTOID, JSONBOID, TEXTOID, TEXTOID};
	Datum		vals[6];
	char		nulls[6] = {' ', ' ', ' ', ' ', ' ', ' '};
	char	   *topic = param_text(p, "TopicArn");
	char	   *message = param_text(p, "Message");
	char	   *subject = param_text(p, "Subject");
	Jsonb	   *attrs = param_json(p, "MessageAttributes");
	char	   *group = param_text(p, "MessageGroupId");
	char	   *dedup = param_text(p, "MessageDeduplicationId");
	Jsonb	   *result;
	int			code;
	char	   *error;

	if (topic == NULL || message == NULL)
		return task_failed(call, "SNS.InvalidParameterException", "TopicArn and Message are required");
	vals[0] = CStringGetTextDatum(topic);
	vals[1] = CStringGetTextDatum(message);
	arg_text(vals, nulls, 2, subject);
	arg_jsonb(vals, nulls, 3, attrs);
	arg_text(vals, nulls, 4, group);
	arg_text(vals, nulls, 5, dedup);
	if (!call_sql(run, "SELECT jsonb_build_object('MessageId', outbox.publish($1, $2, $3, $4, $5, $6))",
				  6, types, vals, nulls, &result, &code, &error))
		return integration_failed(call, "SNS", code, error);
	call->result = result;
	return SFN_TASK_DONE;
}

static SfnTaskOutcome
put_events(SfnRun *run, SfnTaskCall *call)
{
	Jsonb	   *entries = param_json(call->parameters, "Entries");
	Oid			type = JSONBOID;
	Datum		val;
	Jsonb	   *result;
	int			code;
	char	   *error;
	JsonbValue *failed;

	if (entries == NULL)
		return task_failed(call, "EventBridge.InvalidParameterException", "Entries is required");
	val = JsonbPGetDatum(entries);
	/* Step Functions lets Detail be an object; PutEvents wants its text */
	if (!call_sql(run, "SELECT jsonb_build_object('Entries', coalesce(jsonb_agg(jsonb_strip_nulls(jsonb_build_object("
				  "'EventId', r.event_id, 'ErrorCode', r.error_code, 'ErrorMessage', r.error_message))), '[]'),"
				  " 'FailedEntryCount', count(*) FILTER (WHERE r.error_code IS NOT NULL))"
				  " FROM outbox.put_events((SELECT jsonb_agg(CASE WHEN jsonb_typeof(e->'Detail') IN ('object', 'array')"
				  " THEN jsonb_set(e, '{Detail}', to_jsonb((e->'Detail')::text)) ELSE e END)"
				  " FROM jsonb_array_elements(CASE WHEN jsonb_typeof($1) = 'array' THEN $1 ELSE '[]' END) e)) r",
				  1, &type, &val, NULL, &result, &code, &error))
		return integration_failed(call, "EventBridge", code, error);
	failed = outbox_jsonb_get(&result->root, "FailedEntryCount");
	if (failed && failed->type == jbvNumeric &&
		DatumGetInt32(DirectFunctionCall1(numeric_int4, NumericGetDatum(failed->val.numeric))) > 0)
		return task_failed(call, "EventBridge.FailedEntry", sfn_json_text(result));
	call->result = result;
	return SFN_TASK_DONE;
}

static SfnTaskOutcome
start_execution(SfnRun *run, SfnTaskCall *call)
{
	Jsonb	   *p = call->parameters;
	char	   *machine = param_text(p, "StateMachineArn");
	char	   *name = param_text(p, "Name");
	JsonbValue *input_value = JB_ROOT_IS_OBJECT(p) ? outbox_jsonb_get(&p->root, "Input") : NULL;
	Jsonb	   *input;
	WorkerSubxact sx;
	Oid			saved_user;
	int			saved_context;
	MemoryContext cxt = CurrentMemoryContext;
	char	   *arn = NULL;
	int			code = 0;
	char	   *message = NULL;
	JsonbParseState *st = NULL;

	if (machine == NULL)
		return task_failed(call, "StepFunctions.InvalidParameterException", "StateMachineArn is required");
	if (input_value == NULL || input_value->type == jbvNull)
		input = sfn_json("{}");
	else if (input_value->type == jbvString)
	{
		input = outbox_jsonb_parse_or_null(input_value->val.string.val, input_value->val.string.len);
		if (input == NULL)
			return task_failed(call, "StepFunctions.InvalidExecutionInputException", "Input is not JSON text");
	}
	else
		input = JsonbValueToJsonb(input_value);

	GetUserIdAndSecContext(&saved_user, &saved_context);
	worker_subxact_begin(&sx);
	PG_TRY();
	{
		bool		created;

		SetUserIdAndSecContext(run->owner, saved_context | SECURITY_LOCAL_USERID_CHANGE);
		arn = sfn_store_start(machine, input, name, run->owner, call->sync ? call->token : NULL, &created);
		SetUserIdAndSecContext(saved_user, saved_context);
		MemoryContextSwitchTo(sx.cxt);
		worker_subxact_release(&sx);
		MemoryContextSwitchTo(cxt);
		arn = pstrdup(arn);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		SetUserIdAndSecContext(saved_user, saved_context);
		edata = worker_subxact_abort(&sx);
		MemoryContextSwitchTo(cxt);
		code = edata->sqlerrcode;
		message = pstrdup(edata->message ? edata->message : "unknown error");
		FreeErrorData(edata);
		arn = NULL;
	}
	PG_END_TRY();
	if (arn == NULL)
		return integration_failed(call, "StepFunctions", code, message);
	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	outbox_jsonb_push_string(&st, "ExecutionArn", arn);
	outbox_jsonb_push_string(&st, "StartDate", worker_iso_time(run->now));
	call->result = JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL));
	if (call->sync || call->wait_for_token)
	{
		call->submitted = call->result;
		return SFN_TASK_WAITING;
	}
	return SFN_TASK_DONE;
}

/* A .sync task's result from the child's description ({...,"Output": json}): .sync wants text. */
Jsonb *
sfn_task_sync_result(SfnTaskCall *call, Jsonb *description)
{
	JsonbParseState *st = NULL;
	JsonbIterator *it;
	char	   *key;
	JsonbValue	v;

	if (!call->sync || call->sync2 || !JB_ROOT_IS_OBJECT(description))
		return description;
	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	it = JsonbIteratorInit(&description->root);
	while (outbox_jsonb_next_pair(&it, &key, &v))
	{
		if ((strcmp(key, "Output") == 0 || strcmp(key, "Input") == 0) && v.type != jbvNull)
			outbox_jsonb_push_string(&st, key, sfn_json_text(JsonbValueToJsonb(&v)));
		else
			outbox_jsonb_push_value(&st, key, &v);
	}
	return JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL));
}

SfnTaskOutcome
sfn_task_run(SfnRun *run, SfnThread *t, SfnTaskCall *call)
{
	SfnTaskOutcome outcome;

	if (strcmp(call->resource_type, "function") == 0)
		return call_function(run, call, call->resource, call->parameters, false);
	if (strcmp(call->resource_type, "lambda") == 0)
	{
		char	   *name = param_text(call->parameters, "FunctionName");
		Jsonb	   *payload = param_json(call->parameters, "Payload");

		if (name == NULL)
			return task_failed(call, "Lambda.InvalidParameterValueException", "FunctionName is required");
		outcome = call_function(run, call, name, payload ? payload : sfn_json("{}"), true);
	}
	else if (strcmp(call->resource_type, "sqs") == 0)
		outcome = send_sqs(run, call);
	else if (strcmp(call->resource_type, "sns") == 0)
		outcome = publish_sns(run, call);
	else if (strcmp(call->resource_type, "events") == 0)
		outcome = put_events(run, call);
	else
		return start_execution(run, call);
	if (outcome == SFN_TASK_DONE && call->wait_for_token)
	{
		call->submitted = call->result;
		return SFN_TASK_WAITING;
	}
	return outcome;
}
