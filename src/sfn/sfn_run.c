/*-------------------------------------------------------------------------
 *
 * sfn_run.c
 *	  The interpreter: one step moves one thread of an execution through
 *	  one state transition, writing the history events AWS writes.  This
 *	  part enters states and does their work.
 *
 * A step never touches tables itself: it changes the SfnRun and its
 * threads in memory, and the caller stores them (sfn_store.c, in the same
 * transaction as the step) or keeps them (an EXPRESS run in memory).  So
 * a STANDARD step -- a Task function's own writes included -- commits or
 * rolls back as one, and a crash resumes at the last committed step.
 *
 * Errors of the data flow (paths, templates, intrinsics, Choice, ResultPath)
 * are raised by pure functions of jsonb with messages "States.Name: why";
 * they hold no locks, buffers or SPI connections, so a step catches them
 * without a subtransaction and turns them into the state's error, which the
 * state's Retry and Catch then see like a Task's own failure.  Any other
 * error is re-thrown.
 *
 * This file enters states and does their work (a Task's call, a Parallel's
 * branches, a Map's items, a Wait, a callback's outcome); sfn_thread.c
 * decides what follows: Retry, Catch, threads ending and joining, whole
 * executions starting, stopping and being redriven.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/sfn/sfn_run.c
 *
 *-------------------------------------------------------------------------
 */
#include "pg_outbox.h"

#include <math.h>

#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "core/clock.h"
#include "core/jsonb_util.h"
#include "sfn/sfn.h"
#include "sfn/sfn_run_int.h"
#include "worker/worker.h"

const char *sfn_early_token = NULL;
Jsonb	   *sfn_early_outcome = NULL;
MemoryContext sfn_early_cxt = NULL;

static void enter_state(SfnRun *run, SfnThread *t, bool retry);
static void apply_result(SfnRun *run, SfnThread *t);

/* ---- small helpers ---- */

char *
sfn_state_type(JsonbContainer *state)
{
	return outbox_jsonb_get_string(state, "Type");
}

JsonbValue
sfn_binary_value(Jsonb *j)
{
	JsonbValue	v;

	outbox_jsonb_root_value(j, &v);
	return v;
}

/* A JSON pointer segment for a state name: "~" -> "~0", "/" -> "~1" */
static char *
pointer_segment(const char *name)
{
	StringInfoData s;

	initStringInfo(&s);
	for (const char *p = name; *p; p++)
	{
		if (*p == '~')
			appendStringInfoString(&s, "~0");
		else if (*p == '/')
			appendStringInfoString(&s, "~1");
		else
			appendStringInfoChar(&s, *p);
	}
	return s.data;
}

/* The scope object ({StartAt, States}) a JSON pointer names. */
static JsonbContainer *
scope_object(SfnRun *run, const char *scope)
{
	JsonbContainer *c = &run->definition->root;
	const char *p = scope;

	while (*p == '/')
	{
		const char *end = strchr(p + 1, '/');
		int			len = end ? end - p - 1 : strlen(p + 1);
		StringInfoData seg;
		JsonbValue *v;

		initStringInfo(&seg);
		for (int i = 1; i <= len; i++)
		{
			if (p[i] == '~' && i < len && (p[i + 1] == '0' || p[i + 1] == '1'))
			{
				appendStringInfoChar(&seg, p[i + 1] == '0' ? '~' : '/');
				i++;
			}
			else
				appendStringInfoChar(&seg, p[i]);
		}
		if (JsonContainerIsArray(c))
			v = getIthJsonbValueFromContainer(c, atoi(seg.data));
		else
			v = outbox_jsonb_get(c, seg.data);
		if (v == NULL || v->type != jbvBinary)
			elog(ERROR, "scope %s is not in the definition of execution %s", scope, run->arn);
		c = v->val.binary.data;
		p += len + 1;
	}
	return c;
}

JsonbContainer *
sfn_scope_states(SfnRun *run, const char *scope)
{
	JsonbValue *v = outbox_jsonb_get(scope_object(run, scope), "States");

	if (v == NULL || v->type != jbvBinary)
		elog(ERROR, "scope %s has no States", scope);
	return v->val.binary.data;
}

JsonbContainer *
sfn_thread_state(SfnRun *run, SfnThread *t)
{
	JsonbValue *v = outbox_jsonb_get(sfn_scope_states(run, t->scope), t->state);

	if (v == NULL || v->type != jbvBinary)
		elog(ERROR, "state \"%s\" is not in the definition of execution %s", t->state, run->arn);
	return v->val.binary.data;
}

char *
sfn_scope_start(SfnRun *run, const char *scope)
{
	return outbox_jsonb_get_string(scope_object(run, scope), "StartAt");
}

/* ---- history ---- */

void
sfn_event(SfnRun *run, SfnThread *t, const char *type, const char *details_key, Jsonb *details)
{
	SfnEvent   *e;

	run->last_event++;
	run->dirty = true;
	if (!run->keep_history)
		return;
	e = palloc(sizeof(SfnEvent));
	e->id = run->last_event;
	e->previous = t ? t->last_event : run->last_event - 1;
	e->timestamp = run->now;
	e->type = type;
	e->details = details;
	(void) details_key;
	if (t)
	{
		t->last_event = e->id;
		t->dirty = true;
	}
	run->events = lappend(run->events, e);
}

/* name and index of a Map iteration */
void
sfn_iteration_event(SfnRun *run, SfnThread *map, const char *type, int index)
{
	SfnDetails	d;

	if (!run->keep_history)
	{
		sfn_event(run, map, type, NULL, NULL);
		return;
	}
	sfn_details_begin(&d);
	sfn_details_text(&d, "name", map->state);
	sfn_details_int(&d, "index", index);
	sfn_event(run, map, type, NULL, sfn_details_end(&d));
}

/* The details of a task event: resourceType, resource, then error and cause, or output. */
static void
task_event(SfnRun *run, SfnThread *t, const char *type, SfnTaskCall *call, const char *error,
		   const char *cause, Jsonb *output)
{
	SfnDetails	d;

	if (!run->keep_history)
	{
		sfn_event(run, t, type, NULL, NULL);
		return;
	}
	sfn_details_begin(&d);
	sfn_details_text(&d, "resourceType", call->resource_type);
	sfn_details_text(&d, "resource", call->resource_name);
	if (error || cause)
	{
		sfn_details_text(&d, "error", error);
		sfn_details_text(&d, "cause", cause);
	}
	if (output)
		sfn_details_json(&d, "output", output);
	sfn_event(run, t, type, NULL, sfn_details_end(&d));
}

/* error and cause: ExecutionFailed, ExecutionAborted, ExecutionTimedOut */
void
sfn_error_event(SfnRun *run, SfnThread *t, const char *type, const char *error, const char *cause)
{
	SfnDetails	d;

	if (!run->keep_history)
	{
		sfn_event(run, t, type, NULL, NULL);
		return;
	}
	sfn_details_begin(&d);
	sfn_details_text(&d, "error", error);
	sfn_details_text(&d, "cause", cause);
	sfn_event(run, t, type, NULL, sfn_details_end(&d));
}

/* {Type}StateEntered: name and input */
static void
entered_event(SfnRun *run, SfnThread *t, const char *type)
{
	SfnDetails	d;

	if (!run->keep_history)
	{
		sfn_event(run, t, psprintf("%sStateEntered", type), NULL, NULL);
		return;
	}
	sfn_details_begin(&d);
	sfn_details_text(&d, "name", t->state);
	sfn_details_json(&d, "input", t->input);
	sfn_event(run, t, psprintf("%sStateEntered", type), NULL, sfn_details_end(&d));
}

/* {Type}StateExited: name, output and (when the state assigned some) assignedVariables */
void
sfn_exited_event(SfnRun *run, SfnThread *t, const char *type, Jsonb *out, Jsonb *assigned)
{
	SfnDetails	d;

	if (!run->keep_history)
	{
		sfn_event(run, t, psprintf("%sStateExited", type), NULL, NULL);
		return;
	}
	sfn_details_begin(&d);
	sfn_details_text(&d, "name", t->state);
	sfn_details_json(&d, "output", out);
	sfn_details_json(&d, "assignedVariables", assigned);
	sfn_event(run, t, psprintf("%sStateExited", type), NULL, sfn_details_end(&d));
}

/* ---- variables ---- */

static Jsonb *assign_template(SfnRun *run, SfnThread *t, Jsonb *assign, Jsonb *dollar);

/*
 * A state's (or a catcher's) Assign: every value computed from "$" (the
 * state's input, or its selected result, or the error output) and the
 * variables as they were when the state was entered, then all stored at
 * once.  Returns what was assigned, or NULL.
 */
Jsonb *
sfn_assign(SfnRun *run, SfnThread *t, JsonbContainer *holder, Jsonb *dollar)
{
	JsonbValue *assign = outbox_jsonb_get(holder, "Assign");

	if (assign == NULL || assign->type != jbvBinary)
		return NULL;
	return assign_template(run, t, JsonbValueToJsonb(assign), dollar);
}

static Jsonb *
assign_template(SfnRun *run, SfnThread *t, Jsonb *assign, Jsonb *dollar)
{
	Jsonb	   *values;
	JsonbParseState *st = NULL;
	JsonbIterator *it;
	char	   *key;
	JsonbValue	v;

	values = sfn_apply_template(assign, dollar, sfn_flow_context(run, t));
	sfn_check_size(values, "assigned variables");
	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	if (t->vars)
	{
		it = JsonbIteratorInit(&t->vars->root);
		while (outbox_jsonb_next_pair(&it, &key, &v))
			if (outbox_jsonb_get(&values->root, key) == NULL)
				outbox_jsonb_push_value(&st, key, &v);
	}
	it = JsonbIteratorInit(&values->root);
	while (outbox_jsonb_next_pair(&it, &key, &v))
		outbox_jsonb_push_value(&st, key, &v);
	t->vars = JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL));
	if (VARSIZE(t->vars) - VARHDRSZ > 10 * 1024 * 1024)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("States.DataLimitExceeded: the variables of the execution are larger than 10 MiB")));
	t->dirty = true;
	return values;
}

/* ---- context object ($$) ---- */

char *
sfn_role_arn(SfnRun *run)
{
	char	   *role = GetUserNameFromId(run->owner, true);

	return psprintf("arn:aws:iam::%s:role/%s", outbox_account_id, role ? role : "?");
}

Jsonb *
sfn_context_object(SfnRun *run, SfnThread *t, const char *state)
{
	JsonbParseState *st = NULL;
	JsonbValue	v;
	JsonbValue	k;

	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	k.type = jbvString;
	k.val.string.val = "Execution";
	k.val.string.len = strlen("Execution");
	pushJsonbValue(&st, WJB_KEY, &k);
	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	outbox_jsonb_push_string(&st, "Id", run->arn);
	v = sfn_binary_value(run->input);
	outbox_jsonb_push_value(&st, "Input", &v);
	outbox_jsonb_push_string(&st, "Name", run->name);
	outbox_jsonb_push_string(&st, "RoleArn", sfn_role_arn(run));
	outbox_jsonb_push_string(&st, "StartTime", worker_iso_time(run->start_date));
	v.type = jbvNumeric;
	v.val.numeric = int64_to_numeric(run->redrive_count);
	outbox_jsonb_push_value(&st, "RedriveCount", &v);
	if (run->redrive_count > 0)
		outbox_jsonb_push_string(&st, "RedriveTime", worker_iso_time(run->redrive_date));
	pushJsonbValue(&st, WJB_END_OBJECT, NULL);

	k.val.string.val = "State";
	k.val.string.len = strlen("State");
	pushJsonbValue(&st, WJB_KEY, &k);
	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	outbox_jsonb_push_string(&st, "EnteredTime", worker_iso_time(t ? t->entered_at : run->now));
	outbox_jsonb_push_string(&st, "Name", state ? state : "");
	v.type = jbvNumeric;
	v.val.numeric = int64_to_numeric(t ? t->retry_count : 0);
	outbox_jsonb_push_value(&st, "RetryCount", &v);
	pushJsonbValue(&st, WJB_END_OBJECT, NULL);

	k.val.string.val = "StateMachine";
	k.val.string.len = strlen("StateMachine");
	pushJsonbValue(&st, WJB_KEY, &k);
	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	outbox_jsonb_push_string(&st, "Id", run->machine_arn);
	outbox_jsonb_push_string(&st, "Name", run->machine);
	pushJsonbValue(&st, WJB_END_OBJECT, NULL);

	if (t && t->token)
	{
		k.val.string.val = "Task";
		k.val.string.len = strlen("Task");
		pushJsonbValue(&st, WJB_KEY, &k);
		pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
		outbox_jsonb_push_string(&st, "Token", t->token);
		pushJsonbValue(&st, WJB_END_OBJECT, NULL);
	}
	return JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL));
}

/* The context with Map.Item {Index, Value}, for an ItemSelector. */
static Jsonb *
item_context(Jsonb *context, int index, JsonbValue *item)
{
	JsonbParseState *st = NULL;
	JsonbIterator *it = JsonbIteratorInit(&context->root);
	char	   *key;
	JsonbValue	v;
	JsonbValue	k;

	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	while (outbox_jsonb_next_pair(&it, &key, &v))
		outbox_jsonb_push_value(&st, key, &v);
	k.type = jbvString;
	k.val.string.val = "Map";
	k.val.string.len = 3;
	pushJsonbValue(&st, WJB_KEY, &k);
	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	k.val.string.val = "Item";
	k.val.string.len = 4;
	pushJsonbValue(&st, WJB_KEY, &k);
	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	v.type = jbvNumeric;
	v.val.numeric = int64_to_numeric(index);
	outbox_jsonb_push_value(&st, "Index", &v);
	outbox_jsonb_push_value(&st, "Value", item);
	pushJsonbValue(&st, WJB_END_OBJECT, NULL);
	pushJsonbValue(&st, WJB_END_OBJECT, NULL);
	return JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL));
}

/* The context for the data flow; {} when the definition never reads $$. */
Jsonb *
sfn_flow_context(SfnRun *run, SfnThread *t)
{
	static Jsonb *empty = NULL;

	sfn_current_variables = t->vars;	/* what "$name" paths read */

	if (run->uses_context)
		return sfn_context_object(run, t, t->state);
	if (empty == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		empty = sfn_json("{}");
		MemoryContextSwitchTo(old);
	}
	return empty;
}

/* ---- scheduling and data ---- */

void
sfn_thread_schedule(SfnRun *run, SfnThread *t, TimestampTz at)
{
	t->wake++;
	t->scheduled = true;
	t->due_at = at;
	t->schedule_seq = ++run->schedule_seq;
	t->dirty = true;
}

void
sfn_check_size(Jsonb *j, const char *what)
{
	if (VARSIZE(j) - VARHDRSZ > SFN_PAYLOAD_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("States.DataLimitExceeded: the %s is larger than the maximum of %d bytes", what,
						SFN_PAYLOAD_MAX)));
}

/* A positive integer field, or its *Path twin read from doc; 0 when neither is there. */
int64
sfn_seconds_field(JsonbContainer *state, const char *field, Jsonb *doc, Jsonb *context, bool allow_zero)
{
	JsonbValue *v = outbox_jsonb_get(state, field);
	char	   *path_field = psprintf("%sPath", field);
	char	   *path = outbox_jsonb_get_string(state, path_field);
	Jsonb	   *j;
	JsonbValue	s;
	double		d;

	if (v && v->type == jbvNumeric)
		return DatumGetInt64(DirectFunctionCall1(numeric_int8, NumericGetDatum(v->val.numeric)));
	if (path == NULL)
		return 0;
	j = sfn_path_value(path, doc, context);
	if (j == NULL || !JB_ROOT_IS_SCALAR(j) || !JsonbExtractScalar(&j->root, &s) || s.type != jbvNumeric)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("States.Runtime: %s %s does not select a number", path_field, path)));
	d = DatumGetFloat8(DirectFunctionCall1(numeric_float8, NumericGetDatum(s.val.numeric)));
	if (d != floor(d) || d < (allow_zero ? 0 : 1) || d > 99999999)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("States.Runtime: %s %s selects %g, not a %s integer of at most 99999999", path_field, path,
						d, allow_zero ? "non-negative" : "positive")));
	return (int64) d;
}

/* ---- the step ---- */

/* Parse "States.Name: why" into error and cause; false when the message is not one. */
static bool
states_error(const char *message, char **error, char **cause)
{
	const char *colon;

	if (message == NULL || strncmp(message, "States.", 7) != 0)
		return false;
	colon = strstr(message, ": ");
	if (colon == NULL)
		return false;
	for (const char *p = message; p < colon; p++)
		if (*p == ' ')
			return false;
	*error = pnstrdup(message, colon - message);
	*cause = pstrdup(colon + 2);
	return true;
}

/*
 * Run fn(arg), a piece of the data flow.  A "States.Name: why" error it
 * raises comes back in *error and *cause (false is returned); anything
 * else propagates.  See the header for why no subtransaction is needed.
 */
bool
sfn_data_flow(void (*fn) (void *), void *arg, char **error, char **cause)
{
	MemoryContext cxt = CurrentMemoryContext;
	volatile bool ok = true;

	PG_TRY();
	{
		fn(arg);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		if (!states_error(edata->message, error, cause))
			PG_RE_THROW();
		FlushErrorState();
		FreeErrorData(edata);
		ok = false;
	}
	PG_END_TRY();
	return ok;
}

/* Wait: leave the state with OutputPath of what InputPath selected */
static void
leave_wait(SfnRun *run, SfnThread *t, JsonbContainer *state, Jsonb *effective)
{
	Jsonb	   *out = sfn_filter_path(state, "OutputPath", effective, sfn_flow_context(run, t));

	sfn_check_size(out, "state output");
	sfn_exit_state(run, t, state, "Wait", out, sfn_assign(run, t, state, t->input));
}

/* The thread goes on to state next with input in (entering it resets the rest). */
void
sfn_goto_state(SfnRun *run, SfnThread *t, char *next, Jsonb *in)
{
	t->state = next;
	t->input = in;
	t->phase = SFN_PHASE_ENTER;
	t->work = NULL;
	t->token = NULL;
	sfn_thread_schedule(run, t, run->now);
}

/* Leave a state with its output: the next state, or the end of the thread. */
void
sfn_exit_state(SfnRun *run, SfnThread *t, JsonbContainer *state, const char *type, Jsonb *out, Jsonb *assigned)
{
	sfn_check_size(out, "state output");
	sfn_exited_event(run, t, type, out, assigned);
	if (outbox_jsonb_get(state, "End"))
		sfn_thread_end(run, t, out);
	else
		sfn_goto_state(run, t, outbox_jsonb_get_string(state, "Next"), out);
}

static void
run_task(SfnRun *run, SfnThread *t, JsonbContainer *state)
{
	SfnTaskCall call;
	Jsonb	   *context;
	volatile SfnTaskOutcome outcome = SFN_TASK_FAILED;
	Jsonb	   *volatile early = NULL;
	const char *saved_token;
	Jsonb	   *saved_outcome;
	MemoryContext saved_cxt;
	int64		timeout;
	int64		heartbeat;

	memset(&call, 0, sizeof(call));
	(void) sfn_task_describe(outbox_jsonb_get_string(state, "Resource"), &call);
	if (call.wait_for_token || call.sync)
		t->token = sfn_new_token(run, t);
	context = sfn_context_object(run, t, t->state);	/* task_context() shows it */
	sfn_current_variables = t->vars;
	call.parameters = sfn_state_input(state, t->input, context);
	sfn_check_size(call.parameters, "task input");
	call.context = context;
	call.token = t->token;
	timeout = sfn_seconds_field(state, "TimeoutSeconds", t->input, context, false);
	heartbeat = sfn_seconds_field(state, "HeartbeatSeconds", t->input, context, false);
	call.timeout_seconds = (int) Min(timeout, INT_MAX / 1000);

	if (run->keep_history)
	{
		SfnDetails	d;

		sfn_details_begin(&d);
		sfn_details_text(&d, "resourceType", call.resource_type);
		sfn_details_text(&d, "resource", call.resource_name);
		sfn_details_text(&d, "region", outbox_region);
		sfn_details_json(&d, "parameters", call.parameters);
		if (timeout)
			sfn_details_int(&d, "timeoutInSeconds", timeout);
		if (heartbeat)
			sfn_details_int(&d, "heartbeatInSeconds", heartbeat);
		sfn_event(run, t, "TaskScheduled", NULL, sfn_details_end(&d));
	}
	else
		sfn_event(run, t, "TaskScheduled", NULL, NULL);
	task_event(run, t, "TaskStarted", &call, NULL, NULL, NULL);

	/* the task may run another execution inline (start_sync_execution): nest the globals */
	saved_token = sfn_early_token;
	saved_outcome = sfn_early_outcome;
	saved_cxt = sfn_early_cxt;
	sfn_early_token = t->token;
	sfn_early_outcome = NULL;
	sfn_early_cxt = CurrentMemoryContext;
	PG_TRY();
	{
		outcome = sfn_task_run(run, t, &call);
		early = sfn_early_outcome;
	}
	PG_FINALLY();
	{
		sfn_early_token = saved_token;
		sfn_early_outcome = saved_outcome;
		sfn_early_cxt = saved_cxt;
	}
	PG_END_TRY();
	run->now = outbox_now();	/* the task took its time: what follows happens now */
	if (outcome == SFN_TASK_WAITING && early)
	{
		/* completed before it waited: the outcome applies now */
		task_event(run, t, "TaskSubmitted", &call, NULL, NULL, call.submitted);
		t->work = early;
		apply_result(run, t);
		return;
	}
	switch (outcome)
	{
		case SFN_TASK_DONE:
			sfn_check_size(call.result, "task result");
			task_event(run, t, "TaskSucceeded", &call, NULL, NULL, call.result);
			t->token = NULL;
			sfn_state_succeeded(run, t, call.result);
			break;
		case SFN_TASK_FAILED:
			task_event(run, t, strcmp(call.error, "States.Timeout") == 0 ? "TaskTimedOut" : "TaskFailed", &call,
					   call.error, call.cause, NULL);
			t->token = NULL;
			sfn_state_error(run, t, call.error, call.cause);
			break;
		case SFN_TASK_WAITING:
			task_event(run, t, "TaskSubmitted", &call, NULL, NULL, call.submitted);
			t->phase = SFN_PHASE_CALLBACK;
			t->timeout_at = timeout ? run->now + timeout * USECS_PER_SEC : DT_NOEND;
			t->heartbeat_at = heartbeat ? run->now + heartbeat * USECS_PER_SEC : DT_NOEND;
			t->dirty = true;
			if (t->timeout_at != DT_NOEND || t->heartbeat_at != DT_NOEND)
				sfn_thread_schedule(run, t, Min(t->timeout_at, t->heartbeat_at));
			else
				t->wake++;		/* nothing to wake it but the token */
			break;
	}
}

/* Start a thread per branch. */
static void
run_parallel(SfnRun *run, SfnThread *t, JsonbContainer *state)
{
	Jsonb	   *effective = sfn_state_input(state, t->input, sfn_flow_context(run, t));
	JsonbContainer *branches = outbox_jsonb_get(state, "Branches")->val.binary.data;
	int			n = JsonContainerSize(branches);
	char	   *base = psprintf("%s/States/%s/Branches/", t->scope, pointer_segment(t->state));

	sfn_drop_threads(run, t);
	sfn_event(run, t, "ParallelStateStarted", NULL, NULL);
	for (int i = 0; i < n; i++)
	{
		char	   *scope = psprintf("%s%d", base, i);
		SfnThread  *c = sfn_store_new_thread(run, t, i, scope, sfn_scope_start(run, scope), effective);

		c->vars = t->vars;		/* a branch reads the variables of the scopes around it */
		c->last_event = t->last_event;
		sfn_thread_schedule(run, c, run->now);
	}
	t->phase = SFN_PHASE_JOIN;
	t->pending = n;
	t->dirty = true;
}

int
sfn_map_concurrency(JsonbContainer *state, Jsonb *input, Jsonb *context)
{
	return (int) Min(sfn_seconds_field(state, "MaxConcurrency", input, context, true), INT_MAX);
}

/* Start the Map's next item thread. */
void
sfn_map_start_item(SfnRun *run, SfnThread *t, JsonbContainer *state)
{
	JsonbContainer *work = &t->work->root;
	JsonbContainer *items = outbox_jsonb_get(work, "items")->val.binary.data;
	JsonbValue *input = outbox_jsonb_get(work, "input");
	int			i = t->next_item;
	JsonbValue *item = getIthJsonbValueFromContainer(items, i);
	JsonbValue *selector = outbox_jsonb_get(state, "ItemSelector");
	const char *processor = outbox_jsonb_get(state, "ItemProcessor") ? "ItemProcessor" : "Iterator";
	char	   *scope = psprintf("%s/States/%s/%s", t->scope, pointer_segment(t->state), processor);
	Jsonb	   *item_input;
	SfnThread  *c;

	if (selector == NULL)
		selector = outbox_jsonb_get(state, "Parameters");
	if (selector)
		item_input = sfn_apply_template(JsonbValueToJsonb(selector), JsonbValueToJsonb(input),
										item_context(sfn_flow_context(run, t), i, item));
	else
		item_input = JsonbValueToJsonb(item);
	c = sfn_store_new_thread(run, t, i, scope, sfn_scope_start(run, scope), item_input);
	c->vars = t->vars;
	sfn_iteration_event(run, t, "MapIterationStarted", i);
	c->last_event = t->last_event;
	sfn_thread_schedule(run, c, run->now);
	t->next_item++;
	t->pending++;
	t->dirty = true;
}

static void
run_map(SfnRun *run, SfnThread *t, JsonbContainer *state)
{
	Jsonb	   *context = sfn_flow_context(run, t);
	Jsonb	   *effective = sfn_filter_path(state, "InputPath", t->input, context);
	char	   *items_path = outbox_jsonb_get_string(state, "ItemsPath");
	Jsonb	   *items = items_path ? sfn_path_value(items_path, effective, context) : effective;
	int			n;
	int			limit;
	JsonbParseState *st = NULL;
	JsonbValue	v;
	SfnDetails	d;

	if (items == NULL || JB_ROOT_IS_SCALAR(items) || !JB_ROOT_IS_ARRAY(items))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("States.Runtime: ItemsPath %s does not select an array", items_path ? items_path : "$")));
	n = JsonContainerSize(&items->root);
	limit = sfn_map_concurrency(state, effective, context);
	sfn_drop_threads(run, t);
	sfn_details_begin(&d);
	sfn_details_int(&d, "length", n);
	sfn_event(run, t, "MapStateStarted", NULL, run->keep_history ? sfn_details_end(&d) : NULL);
	if (n == 0)
	{
		sfn_event(run, t, "MapStateSucceeded", NULL, NULL);
		sfn_state_succeeded(run, t, sfn_json("[]"));
		return;
	}
	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	v = sfn_binary_value(effective);
	outbox_jsonb_push_value(&st, "input", &v);
	v = sfn_binary_value(items);
	outbox_jsonb_push_value(&st, "items", &v);
	t->work = JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL));
	t->phase = SFN_PHASE_JOIN;
	t->pending = 0;
	t->next_item = 0;
	t->failures = 0;
	t->dirty = true;
	while (t->next_item < n && (limit == 0 || t->pending < limit))
		sfn_map_start_item(run, t, state);
}

/* The state's work: Task, Parallel or Map (entered, or retried). */
static void
run_work(SfnRun *run, SfnThread *t, JsonbContainer *state, const char *type)
{
	if (strcmp(type, "Task") == 0)
		run_task(run, t, state);
	else if (strcmp(type, "Parallel") == 0)
		run_parallel(run, t, state);
	else
		run_map(run, t, state);
}

static void
enter_state(SfnRun *run, SfnThread *t, bool retry)
{
	JsonbContainer *state = sfn_thread_state(run, t);
	char	   *type = sfn_state_type(state);
	Jsonb	   *context;

	if (!retry)
	{
		t->entered_at = run->now;
		t->retries = NULL;
		t->retry_count = 0;
		t->work = NULL;
		t->token = NULL;
		entered_event(run, t, type);
	}
	t->dirty = true;

	if (strcmp(type, "Task") == 0 || strcmp(type, "Parallel") == 0 || strcmp(type, "Map") == 0)
	{
		run_work(run, t, state, type);
		return;
	}
	context = sfn_flow_context(run, t);
	if (strcmp(type, "Pass") == 0)
	{
		JsonbValue *r = outbox_jsonb_get(state, "Result");
		Jsonb	   *effective = sfn_state_input(state, t->input, context);
		Jsonb	   *out = sfn_state_output(state, t->input, r ? JsonbValueToJsonb(r) : effective, context);

		sfn_check_size(out, "state output");
		sfn_exit_state(run, t, state, type, out, sfn_assign(run, t, state, t->input));
	}
	else if (strcmp(type, "Choice") == 0)
	{
		Jsonb	   *effective = sfn_filter_path(state, "InputPath", t->input, context);
		JsonbContainer *rule = sfn_choice_rule(state, effective, context);
		char	   *next = outbox_jsonb_get_string(rule ? rule : state, rule ? "Next" : "Default");
		JsonbValue *rule_assign = rule ? outbox_jsonb_get(rule, "Assign") : NULL;
		JsonbValue *state_assign = outbox_jsonb_get(state, "Assign");
		Jsonb	   *assigned = NULL;
		Jsonb	   *out;

		if (next == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("States.NoChoiceMatched: no Choice rule matched the input of state \"%s\" and it has no Default",
							t->state)));
		out = sfn_filter_path(state, "OutputPath", effective, context);
		sfn_check_size(out, "state output");
		/* the state's Assign and the matched rule's, all from the values on entry */
		if (rule_assign && state_assign)
			assigned = assign_template(run, t,
									   DatumGetJsonbP(DirectFunctionCall2(jsonb_concat,
																		  JsonbPGetDatum(JsonbValueToJsonb(state_assign)),
																		  JsonbPGetDatum(JsonbValueToJsonb(rule_assign)))),
									   t->input);
		else if (rule_assign || state_assign)
			assigned = assign_template(run, t, JsonbValueToJsonb(rule_assign ? rule_assign : state_assign), t->input);
		sfn_exited_event(run, t, "Choice", out, assigned);
		sfn_goto_state(run, t, next, out);
	}
	else if (strcmp(type, "Succeed") == 0)
	{
		Jsonb	   *out = sfn_filter_path(state, "OutputPath", sfn_filter_path(state, "InputPath", t->input, context), context);

		sfn_check_size(out, "state output");
		sfn_exited_event(run, t, "Succeed", out, NULL);
		sfn_thread_end(run, t, out);
	}
	else if (strcmp(type, "Fail") == 0)
	{
		char	   *error = outbox_jsonb_get_string(state, "Error");
		char	   *cause = outbox_jsonb_get_string(state, "Cause");
		char	   *error_path = outbox_jsonb_get_string(state, "ErrorPath");
		char	   *cause_path = outbox_jsonb_get_string(state, "CausePath");

		if (error_path)
			error = sfn_path_string(error_path, "ErrorPath", t->input, context);
		if (cause_path)
			cause = sfn_path_string(cause_path, "CausePath", t->input, context);
		sfn_thread_fail(run, t, error, cause);
	}
	else if (strcmp(type, "Wait") == 0)
	{
		Jsonb	   *effective = sfn_filter_path(state, "InputPath", t->input, context);
		TimestampTz until;
		char	   *ts = outbox_jsonb_get_string(state, "Timestamp");
		char	   *ts_path = outbox_jsonb_get_string(state, "TimestampPath");

		if (ts_path)
			ts = sfn_path_string(ts_path, "TimestampPath", effective, context);
		if (ts)
		{
			if (!outbox_parse_iso_timestamp(ts, 1, &until))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("States.Runtime: \"%s\" is not an RFC 3339 timestamp", ts)));
		}
		else
			until = run->now + sfn_seconds_field(state, "Seconds", effective, context, true) * USECS_PER_SEC;
		if (until <= run->now)
			leave_wait(run, t, state, effective);
		else
		{
			t->phase = SFN_PHASE_WAIT;
			t->work = effective;
			sfn_thread_schedule(run, t, until);
		}
	}
	else
		elog(ERROR, "unknown state type \"%s\"", type);
}

/* A callback's outcome (t->work: {"output": v} or {"error": e, "cause": c}). */
static void
apply_result(SfnRun *run, SfnThread *t)
{
	JsonbContainer *state = sfn_thread_state(run, t);
	SfnTaskCall call;
	JsonbValue *output = outbox_jsonb_get(&t->work->root, "output");

	memset(&call, 0, sizeof(call));
	(void) sfn_task_describe(outbox_jsonb_get_string(state, "Resource"), &call);
	t->token = NULL;
	t->phase = SFN_PHASE_ENTER;
	if (output)
	{
		Jsonb	   *result = sfn_task_sync_result(&call, JsonbValueToJsonb(output));

		task_event(run, t, "TaskSucceeded", &call, NULL, NULL, result);
		sfn_state_succeeded(run, t, result);
	}
	else
	{
		char	   *error = outbox_jsonb_get_string(&t->work->root, "error");
		char	   *cause = outbox_jsonb_get_string(&t->work->root, "cause");
		bool		timed_out = error && (strcmp(error, "States.Timeout") == 0 ||
										  strcmp(error, "States.HeartbeatTimeout") == 0);

		task_event(run, t, timed_out ? "TaskTimedOut" : "TaskFailed", &call, error ? error : "", cause, NULL);
		sfn_state_error(run, t, error, cause);
	}
	sfn_current_variables = NULL;	/* the thread's memory may not outlive the step */
}

/* A callback task's timer: a timeout, or an early wake-up after a heartbeat. */
static void
callback_due(SfnRun *run, SfnThread *t)
{
	const char *error;

	if (run->now < t->heartbeat_at && run->now < t->timeout_at)
	{
		sfn_thread_schedule(run, t, Min(t->heartbeat_at, t->timeout_at));
		return;
	}
	error = run->now >= t->heartbeat_at && t->heartbeat_at <= t->timeout_at ?
		"States.HeartbeatTimeout" : "States.Timeout";
	t->work = sfn_task_outcome(NULL, error, strcmp(error, "States.Timeout") == 0 ?
							   "the task did not finish within TimeoutSeconds" :
							   "no heartbeat arrived within HeartbeatSeconds");
	apply_result(run, t);
}

static void
step(SfnRun *run, SfnThread *t)
{
	switch (t->phase)
	{
		case SFN_PHASE_ENTER:
			enter_state(run, t, false);
			break;
		case SFN_PHASE_RETRY:
			t->phase = SFN_PHASE_ENTER;
			enter_state(run, t, true);
			break;
		case SFN_PHASE_WAIT:
			{
				JsonbContainer *state = sfn_thread_state(run, t);
				Jsonb	   *effective = t->work;

				t->work = NULL;
				t->phase = SFN_PHASE_ENTER;
				leave_wait(run, t, state, effective);
			}
			break;
		case SFN_PHASE_CALLBACK:
			callback_due(run, t);
			break;
		case SFN_PHASE_RESULT:
			apply_result(run, t);
			break;
		case SFN_PHASE_JOIN:
		case SFN_PHASE_DONE:
			break;				/* woken by their threads, or nothing to do */
	}
}

/*
 * One transition of thread t.  Errors of the data flow become the state's
 * error (see the header); anything else propagates.
 */
static void
step_flow(void *arg)
{
	SfnFlowArgs   *a = arg;

	step(a->run, a->t);
}

void
sfn_run_step(SfnRun *run, SfnThread *t)
{
	SfnFlowArgs	a = {run, t};
	char	   *error;
	char	   *cause;

	t->scheduled = false;
	sfn_current_variables = t->vars;
	if (!sfn_data_flow(step_flow, &a, &error, &cause))
	{
		/* an error that reached here after the thread ended belongs to no state of it */
		if (t->status != SFN_THREAD_RUNNING)
			elog(ERROR, "%s: %s (after thread %d of execution %s ended)", error, cause, t->id, run->arn);
		sfn_state_error(run, t, error, cause);
	}
	sfn_current_variables = NULL;	/* the thread's memory may not outlive the step */
}
