/*-------------------------------------------------------------------------
 *
 * sfn_run.c
 *	  The interpreter: one step moves one thread of an execution through
 *	  one state transition, writing the history events AWS writes.
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
 * Retry counts live per retrier and restart whenever a state is entered
 * anew.  A Parallel or Map state starts threads and waits ("join"); a
 * thread that ends hands its output to its parent, and the last one lets
 * the parent go on, in the same step.  A failing thread fails its parent
 * (siblings are aborted) unless a Map tolerates it.
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

#if PG_VERSION_NUM >= 150000
#include "common/pg_prng.h"
#endif
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "core/clock.h"
#include "core/jsonb_util.h"
#include "sfn/sfn.h"
#include "sfn/sfn_exec.h"
#include "worker/worker.h"

const char *sfn_early_token = NULL;
Jsonb	   *sfn_early_outcome = NULL;
MemoryContext sfn_early_cxt = NULL;

static void enter_state(SfnRun *run, SfnThread *t, bool retry);
static void state_error(SfnRun *run, SfnThread *t, const char *error, const char *cause);
static void apply_result(SfnRun *run, SfnThread *t);
static void state_succeeded(SfnRun *run, SfnThread *t, Jsonb *result);
static void thread_end(SfnRun *run, SfnThread *t, Jsonb *output);
static void thread_fail(SfnRun *run, SfnThread *t, const char *error, const char *cause);
static void abort_threads(SfnRun *run, SfnThread *parent);
static void drop_threads(SfnRun *run, SfnThread *t);
static void abort_thread(SfnRun *run, SfnThread *t);

/* ---- small helpers ---- */

static char *
state_type(JsonbContainer *state)
{
	return outbox_jsonb_get_string(state, "Type");
}

static JsonbValue
binary_value(Jsonb *j)
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

static char *
scope_start(SfnRun *run, const char *scope)
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

/* {"name": state, field: value} -- the details of Entered/Exited events */
static void
state_event(SfnRun *run, SfnThread *t, const char *type, const char *field, Jsonb *value)
{
	SfnDetails	d;

	if (!run->keep_history)
	{
		sfn_event(run, t, type, NULL, NULL);
		return;
	}
	sfn_details_begin(&d);
	sfn_details_text(&d, "name", t->state);
	if (field)
		sfn_details_json(&d, field, value);
	sfn_event(run, t, type, NULL, sfn_details_end(&d));
}

/* name and index of a Map iteration */
static void
iteration_event(SfnRun *run, SfnThread *map, const char *type, int index)
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
static void
error_event(SfnRun *run, SfnThread *t, const char *type, const char *error, const char *cause)
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

static void
state_event_typed(SfnRun *run, SfnThread *t, const char *type, const char *suffix, const char *field,
				  Jsonb *value)
{
	state_event(run, t, psprintf("%s%s", type, suffix), field, value);
}

/* ---- context object ($$) ---- */

static char *
role_arn(SfnRun *run)
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
	v = binary_value(run->input);
	outbox_jsonb_push_value(&st, "Input", &v);
	outbox_jsonb_push_string(&st, "Name", run->name);
	outbox_jsonb_push_string(&st, "RoleArn", role_arn(run));
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
static Jsonb *
context_for(SfnRun *run, SfnThread *t)
{
	static Jsonb *empty = NULL;

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

static void
check_size(Jsonb *j, const char *what)
{
	if (VARSIZE(j) - VARHDRSZ > SFN_PAYLOAD_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("States.DataLimitExceeded: the %s is larger than the maximum of %d bytes", what,
						SFN_PAYLOAD_MAX)));
}

static Jsonb *
filter(JsonbContainer *state, const char *key, Jsonb *doc, Jsonb *context)
{
	return sfn_filter_path(state, key, doc, context);
}

/* A positive integer field, or its *Path twin read from doc; 0 when neither is there. */
static int64
seconds_field(JsonbContainer *state, const char *field, Jsonb *doc, Jsonb *context, bool allow_zero)
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
static bool
data_flow(void (*fn) (void *), void *arg, char **error, char **cause)
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

/* What the pieces of data flow below work on */
typedef struct FlowArgs
{
	SfnRun	   *run;
	SfnThread  *t;
	JsonbContainer *state;
	const char *type;
	const char *error;
	const char *cause;
	Jsonb	   *result;
	Jsonb	   *out;
	int			n;
	bool		done;
} FlowArgs;

/* Wait: leave the state with OutputPath of what InputPath selected */
static void
leave_wait(SfnRun *run, SfnThread *t, JsonbContainer *state, Jsonb *effective)
{
	Jsonb	   *out = filter(state, "OutputPath", effective, context_for(run, t));

	check_size(out, "state output");
	state_event(run, t, "WaitStateExited", "output", out);
	if (outbox_jsonb_get(state, "End"))
		thread_end(run, t, out);
	else
	{
		t->state = outbox_jsonb_get_string(state, "Next");
		t->input = out;
		t->phase = SFN_PHASE_ENTER;
		t->retries = NULL;
		t->retry_count = 0;
		t->work = NULL;
		sfn_thread_schedule(run, t, run->now);
	}
}

/* Leave a state with its output: the next state, or the end of the thread. */
static void
exit_state(SfnRun *run, SfnThread *t, JsonbContainer *state, const char *type, Jsonb *out)
{
	check_size(out, "state output");
	state_event_typed(run, t, type, "StateExited", "output", out);
	if (outbox_jsonb_get(state, "End"))
	{
		thread_end(run, t, out);
		return;
	}
	t->state = outbox_jsonb_get_string(state, "Next");
	t->input = out;
	t->phase = SFN_PHASE_ENTER;
	t->retries = NULL;
	t->retry_count = 0;
	t->work = NULL;
	t->token = NULL;
	sfn_thread_schedule(run, t, run->now);
}

static void
run_task(SfnRun *run, SfnThread *t, JsonbContainer *state)
{
	SfnTaskCall call;
	Jsonb	   *context;
	volatile SfnTaskOutcome outcome = SFN_TASK_FAILED;
	int64		timeout;
	int64		heartbeat;

	memset(&call, 0, sizeof(call));
	(void) sfn_task_describe(outbox_jsonb_get_string(state, "Resource"), &call);
	if (call.wait_for_token || call.sync)
		t->token = sfn_new_token(run, t);
	context = sfn_context_object(run, t, t->state);	/* task_context() shows it */
	call.parameters = sfn_state_input(state, t->input, context);
	check_size(call.parameters, "task input");
	call.context = context;
	call.token = t->token;
	timeout = seconds_field(state, "TimeoutSeconds", t->input, context, false);
	heartbeat = seconds_field(state, "HeartbeatSeconds", t->input, context, false);
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

	sfn_early_token = t->token;
	sfn_early_outcome = NULL;
	sfn_early_cxt = CurrentMemoryContext;
	PG_TRY();
	{
		outcome = sfn_task_run(run, t, &call);
	}
	PG_FINALLY();
	{
		sfn_early_token = NULL;
	}
	PG_END_TRY();
	if (outcome == SFN_TASK_WAITING && sfn_early_outcome)
	{
		/* completed before it waited: the outcome applies now */
		task_event(run, t, "TaskSubmitted", &call, NULL, NULL, call.submitted);
		t->work = sfn_early_outcome;
		sfn_early_outcome = NULL;
		apply_result(run, t);
		return;
	}
	sfn_early_outcome = NULL;
	switch (outcome)
	{
		case SFN_TASK_DONE:
			check_size(call.result, "task result");
			task_event(run, t, "TaskSucceeded", &call, NULL, NULL, call.result);
			t->token = NULL;
			state_succeeded(run, t, call.result);
			break;
		case SFN_TASK_FAILED:
			task_event(run, t, strcmp(call.error, "States.Timeout") == 0 ? "TaskTimedOut" : "TaskFailed", &call,
					   call.error, call.cause, NULL);
			t->token = NULL;
			state_error(run, t, call.error, call.cause);
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
	Jsonb	   *effective = sfn_state_input(state, t->input, context_for(run, t));
	JsonbContainer *branches = outbox_jsonb_get(state, "Branches")->val.binary.data;
	int			n = JsonContainerSize(branches);
	char	   *base = psprintf("%s/States/%s/Branches/", t->scope, pointer_segment(t->state));

	drop_threads(run, t);
	sfn_event(run, t, "ParallelStateStarted", NULL, NULL);
	for (int i = 0; i < n; i++)
	{
		char	   *scope = psprintf("%s%d", base, i);
		SfnThread  *c = sfn_store_new_thread(run, t, i, scope, scope_start(run, scope), effective);

		c->last_event = t->last_event;
		sfn_thread_schedule(run, c, run->now);
	}
	t->phase = SFN_PHASE_JOIN;
	t->pending = n;
	t->dirty = true;
}

static int
map_concurrency(JsonbContainer *state, Jsonb *input, Jsonb *context)
{
	return (int) Min(seconds_field(state, "MaxConcurrency", input, context, true), INT_MAX);
}

/* Start the Map's next item thread. */
static void
map_start_item(SfnRun *run, SfnThread *t, JsonbContainer *state)
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
										item_context(context_for(run, t), i, item));
	else
		item_input = JsonbValueToJsonb(item);
	c = sfn_store_new_thread(run, t, i, scope, scope_start(run, scope), item_input);
	iteration_event(run, t, "MapIterationStarted", i);
	c->last_event = t->last_event;
	sfn_thread_schedule(run, c, run->now);
	t->next_item++;
	t->pending++;
	t->dirty = true;
}

static void
run_map(SfnRun *run, SfnThread *t, JsonbContainer *state)
{
	Jsonb	   *context = context_for(run, t);
	Jsonb	   *effective = filter(state, "InputPath", t->input, context);
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
	limit = map_concurrency(state, effective, context);
	drop_threads(run, t);
	sfn_details_begin(&d);
	sfn_details_int(&d, "length", n);
	sfn_event(run, t, "MapStateStarted", NULL, run->keep_history ? sfn_details_end(&d) : NULL);
	if (n == 0)
	{
		sfn_event(run, t, "MapStateSucceeded", NULL, NULL);
		state_succeeded(run, t, sfn_json("[]"));
		return;
	}
	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	v = binary_value(effective);
	outbox_jsonb_push_value(&st, "input", &v);
	v = binary_value(items);
	outbox_jsonb_push_value(&st, "items", &v);
	t->work = JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL));
	t->phase = SFN_PHASE_JOIN;
	t->pending = 0;
	t->next_item = 0;
	t->failures = 0;
	t->dirty = true;
	while (t->next_item < n && (limit == 0 || t->pending < limit))
		map_start_item(run, t, state);
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
	char	   *type = state_type(state);
	Jsonb	   *context;

	if (!retry)
	{
		t->entered_at = run->now;
		t->retries = NULL;
		t->retry_count = 0;
		t->work = NULL;
		t->token = NULL;
		state_event_typed(run, t, type, "StateEntered", "input", t->input);
	}
	t->dirty = true;

	if (strcmp(type, "Task") == 0 || strcmp(type, "Parallel") == 0 || strcmp(type, "Map") == 0)
	{
		run_work(run, t, state, type);
		return;
	}
	context = context_for(run, t);
	if (strcmp(type, "Pass") == 0)
	{
		JsonbValue *r = outbox_jsonb_get(state, "Result");
		Jsonb	   *effective = sfn_state_input(state, t->input, context);
		Jsonb	   *out = sfn_state_output(state, t->input, r ? JsonbValueToJsonb(r) : effective, context);

		exit_state(run, t, state, type, out);
	}
	else if (strcmp(type, "Choice") == 0)
	{
		Jsonb	   *effective = filter(state, "InputPath", t->input, context);
		char	   *next = sfn_choice_next(state, effective, context);
		Jsonb	   *out;

		if (next == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("States.NoChoiceMatched: no Choice rule matched the input of state \"%s\" and it has no Default",
							t->state)));
		out = filter(state, "OutputPath", effective, context);
		check_size(out, "state output");
		state_event(run, t, "ChoiceStateExited", "output", out);
		t->state = next;
		t->input = out;
		t->phase = SFN_PHASE_ENTER;
		sfn_thread_schedule(run, t, run->now);
	}
	else if (strcmp(type, "Succeed") == 0)
	{
		Jsonb	   *out = filter(state, "OutputPath", filter(state, "InputPath", t->input, context), context);

		check_size(out, "state output");
		state_event(run, t, "SucceedStateExited", "output", out);
		thread_end(run, t, out);
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
		thread_fail(run, t, error, cause);
	}
	else if (strcmp(type, "Wait") == 0)
	{
		Jsonb	   *effective = filter(state, "InputPath", t->input, context);
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
			until = run->now + seconds_field(state, "Seconds", effective, context, true) * USECS_PER_SEC;
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
		state_succeeded(run, t, result);
	}
	else
	{
		char	   *error = outbox_jsonb_get_string(&t->work->root, "error");
		char	   *cause = outbox_jsonb_get_string(&t->work->root, "cause");
		bool		timed_out = error && (strcmp(error, "States.Timeout") == 0 ||
										  strcmp(error, "States.HeartbeatTimeout") == 0);

		task_event(run, t, timed_out ? "TaskTimedOut" : "TaskFailed", &call, error ? error : "", cause, NULL);
		state_error(run, t, error, cause);
	}
}

/* A callback task's timer: a timeout, or an early wake-up after a heartbeat. */
static void
callback_due(SfnRun *run, SfnThread *t)
{
	const char *error;
	JsonbParseState *st = NULL;

	if (run->now < t->heartbeat_at && run->now < t->timeout_at)
	{
		sfn_thread_schedule(run, t, Min(t->heartbeat_at, t->timeout_at));
		return;
	}
	error = run->now >= t->heartbeat_at && t->heartbeat_at <= t->timeout_at ?
		"States.HeartbeatTimeout" : "States.Timeout";
	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	outbox_jsonb_push_string(&st, "error", error);
	outbox_jsonb_push_string(&st, "cause", strcmp(error, "States.Timeout") == 0 ?
							 "the task did not finish within TimeoutSeconds" :
							 "no heartbeat arrived within HeartbeatSeconds");
	t->work = JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL));
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
	FlowArgs   *a = arg;

	step(a->run, a->t);
}

void
sfn_run_step(SfnRun *run, SfnThread *t)
{
	FlowArgs	a = {run, t};
	char	   *error;
	char	   *cause;

	t->scheduled = false;
	if (!data_flow(step_flow, &a, &error, &cause))
		state_error(run, t, error, cause);
}

/* ---- errors: Retry, Catch, failing the thread ---- */

static bool
error_is_terminal(const char *error)
{
	return strcmp(error, "States.Runtime") == 0 || strcmp(error, "States.DataLimitExceeded") == 0;
}

bool
sfn_error_matches(JsonbContainer *error_equals, const char *error)
{
	int			n = JsonContainerSize(error_equals);

	for (int i = 0; i < n; i++)
	{
		JsonbValue *v = getIthJsonbValueFromContainer(error_equals, i);
		char	   *name = pnstrdup(v->val.string.val, v->val.string.len);

		if (strcmp(name, error) == 0)
			return true;
		if (strcmp(name, "States.ALL") == 0 && !error_is_terminal(error))
			return true;
		if (strcmp(name, "States.TaskFailed") == 0 && !error_is_terminal(error) &&
			strcmp(error, "States.Timeout") != 0 && strcmp(error, "States.HeartbeatTimeout") != 0)
			return true;
		if (strcmp(name, "States.Timeout") == 0 && strcmp(error, "States.HeartbeatTimeout") == 0)
			return true;
	}
	return false;
}

static double
number_field(JsonbContainer *c, const char *key, double dflt)
{
	JsonbValue *v = outbox_jsonb_get(c, key);

	if (v == NULL || v->type != jbvNumeric)
		return dflt;
	return DatumGetFloat8(DirectFunctionCall1(numeric_float8, NumericGetDatum(v->val.numeric)));
}

static Jsonb *
retries_with(Jsonb *retries, int n, int index, int value)
{
	JsonbParseState *st = NULL;
	JsonbValue	v;

	pushJsonbValue(&st, WJB_BEGIN_ARRAY, NULL);
	for (int i = 0; i < n; i++)
	{
		int			count = 0;

		if (retries && i < (int) JsonContainerSize(&retries->root))
		{
			JsonbValue *e = getIthJsonbValueFromContainer(&retries->root, i);

			count = DatumGetInt32(DirectFunctionCall1(numeric_int4, NumericGetDatum(e->val.numeric)));
		}
		v.type = jbvNumeric;
		v.val.numeric = int64_to_numeric(i == index ? value : count);
		pushJsonbValue(&st, WJB_ELEM, &v);
	}
	return JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_ARRAY, NULL));
}

/* Retry when a retrier matches and has attempts left; true when it does. */
static bool
try_retry(SfnRun *run, SfnThread *t, JsonbContainer *state, const char *error)
{
	JsonbValue *retry = outbox_jsonb_get(state, "Retry");
	int			n;

	if (retry == NULL || retry->type != jbvBinary)
		return false;
	n = JsonContainerSize(retry->val.binary.data);
	for (int i = 0; i < n; i++)
	{
		JsonbContainer *r = getIthJsonbValueFromContainer(retry->val.binary.data, i)->val.binary.data;
		int			attempts = 0;
		int			max_attempts;
		double		delay;

		if (!sfn_error_matches(outbox_jsonb_get(r, "ErrorEquals")->val.binary.data, error))
			continue;
		if (t->retries && i < (int) JsonContainerSize(&t->retries->root))
			attempts = DatumGetInt32(DirectFunctionCall1(numeric_int4,
														 NumericGetDatum(getIthJsonbValueFromContainer(&t->retries->root, i)->val.numeric)));
		max_attempts = (int) number_field(r, "MaxAttempts", 3);
		if (attempts >= max_attempts)
			return false;		/* only the first matching retrier applies */
		delay = number_field(r, "IntervalSeconds", 1) * pow(number_field(r, "BackoffRate", 2.0), attempts);
		if (outbox_jsonb_get(r, "MaxDelaySeconds"))
			delay = Min(delay, number_field(r, "MaxDelaySeconds", 0));
		delay = Min(delay, 99999999.0);
		if (outbox_jsonb_get_string(r, "JitterStrategy") &&
			strcmp(outbox_jsonb_get_string(r, "JitterStrategy"), "FULL") == 0)
#if PG_VERSION_NUM >= 150000
			delay = pg_prng_double(&pg_global_prng_state) * delay;
#else
			delay = ((double) random() / MAX_RANDOM_VALUE) * delay;
#endif
		t->retries = retries_with(t->retries, n, i, attempts + 1);
		t->retry_count++;
		t->phase = SFN_PHASE_RETRY;
		t->work = NULL;
		sfn_thread_schedule(run, t, run->now + (int64) (delay * USECS_PER_SEC));
		return true;
	}
	return false;
}

/* Catch: the first matching catcher's Next, with {Error, Cause} placed by its ResultPath. */
static bool
try_catch(SfnRun *run, SfnThread *t, JsonbContainer *state, const char *type, const char *error,
		  const char *cause)
{
	JsonbValue *catch = outbox_jsonb_get(state, "Catch");
	int			n;

	if (catch == NULL || catch->type != jbvBinary)
		return false;
	n = JsonContainerSize(catch->val.binary.data);
	for (int i = 0; i < n; i++)
	{
		JsonbContainer *c = getIthJsonbValueFromContainer(catch->val.binary.data, i)->val.binary.data;
		JsonbParseState *st = NULL;
		Jsonb	   *error_output;
		Jsonb	   *out;

		if (!sfn_error_matches(outbox_jsonb_get(c, "ErrorEquals")->val.binary.data, error))
			continue;
		pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
		outbox_jsonb_push_string(&st, "Error", error);
		outbox_jsonb_push_string(&st, "Cause", cause ? cause : "");
		error_output = JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL));
		out = sfn_result_path(c, t->input, error_output);
		check_size(out, "state output");
		state_event_typed(run, t, type, "StateExited", "output", out);
		t->state = outbox_jsonb_get_string(c, "Next");
		t->input = out;
		t->phase = SFN_PHASE_ENTER;
		t->token = NULL;
		t->work = NULL;
		sfn_thread_schedule(run, t, run->now);
		return true;
	}
	return false;
}

static void
catch_flow(void *arg)
{
	FlowArgs   *a = arg;

	a->done = try_catch(a->run, a->t, a->state, a->type, a->error, a->cause);
}

static void
state_error(SfnRun *run, SfnThread *t, const char *error, const char *cause)
{
	JsonbContainer *state = sfn_thread_state(run, t);
	char	   *type = state_type(state);
	FlowArgs	a = {run, t, state, type};
	char	   *e2;
	char	   *c2;

	if (error == NULL)
		error = "";
	t->token = NULL;
	if (error_is_terminal(error) ||
		!(strcmp(type, "Task") == 0 || strcmp(type, "Parallel") == 0 || strcmp(type, "Map") == 0))
	{
		thread_fail(run, t, error, cause);
		return;
	}
	if (try_retry(run, t, state, error))
		return;
	a.error = error;
	a.cause = cause;
	if (!data_flow(catch_flow, &a, &e2, &c2))
		thread_fail(run, t, e2, c2);	/* the catcher's own data flow failed */
	else if (!a.done)
		thread_fail(run, t, error, cause);
}

/* The state's work succeeded with result: ResultSelector, ResultPath, OutputPath. */
static void
output_flow(void *arg)
{
	FlowArgs   *a = arg;

	a->out = sfn_state_output(a->state, a->t->input, a->result, context_for(a->run, a->t));
}

static void
state_succeeded(SfnRun *run, SfnThread *t, Jsonb *result)
{
	JsonbContainer *state = sfn_thread_state(run, t);
	char	   *type = state_type(state);
	FlowArgs	a = {run, t, state, type};
	char	   *error;
	char	   *cause;

	a.result = result;
	if (!data_flow(output_flow, &a, &error, &cause))
	{
		state_error(run, t, error, cause);
		return;
	}
	if (strcmp(type, "Parallel") == 0)
		sfn_event(run, t, "ParallelStateSucceeded", NULL, NULL);
	else if (strcmp(type, "Map") == 0 && t->phase == SFN_PHASE_JOIN)
		sfn_event(run, t, "MapStateSucceeded", NULL, NULL);
	t->work = NULL;
	t->pending = 0;
	exit_state(run, t, state, type, a.out);
}

/* ---- threads ending ---- */

static void
finish_execution(SfnRun *run, const char *status, Jsonb *output, const char *error, const char *cause)
{
	run->status = pstrdup(status);
	run->output = output;
	run->error = error ? pstrdup(error) : NULL;
	run->cause = cause ? pstrdup(cause) : NULL;
	run->stop_date = run->now;
	run->dirty = true;
	run->ended = true;
	if (run->parent_token)
		run->notify = lappend(run->notify, run->parent_token);
}

/* Collect the outputs of a join's threads, in index order, and drop the threads. */
static Jsonb *
join_results(SfnRun *run, SfnThread *p)
{
	List	   *children = sfn_store_children(run, p);
	int			n = list_length(children);
	SfnThread **byindex = palloc0(sizeof(SfnThread *) * Max(n, 1));
	JsonbParseState *st = NULL;
	ListCell   *lc;
	int			max_index = -1;

	foreach(lc, children)
	{
		SfnThread  *c = lfirst(lc);

		max_index = Max(max_index, c->index);
	}
	if (max_index + 1 > n)
		byindex = palloc0(sizeof(SfnThread *) * (max_index + 1));
	foreach(lc, children)
	{
		SfnThread  *c = lfirst(lc);

		byindex[c->index] = c;
	}
	pushJsonbValue(&st, WJB_BEGIN_ARRAY, NULL);
	for (int i = 0; i <= max_index; i++)
	{
		JsonbValue	v;

		if (byindex[i] == NULL || byindex[i]->output == NULL)
		{
			v.type = jbvNull;
			pushJsonbValue(&st, WJB_ELEM, &v);
		}
		else
		{
			v = binary_value(byindex[i]->output);
			pushJsonbValue(&st, WJB_ELEM, &v);
		}
		if (byindex[i])
			byindex[i]->deleted = true;
	}
	return JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_ARRAY, NULL));
}

/* Start the Map's next items, as many as MaxConcurrency allows. */
static void
more_items_flow(void *arg)
{
	FlowArgs   *a = arg;
	SfnThread  *p = a->t;
	Jsonb	   *input = JsonbValueToJsonb(outbox_jsonb_get(&p->work->root, "input"));
	int			limit = map_concurrency(a->state, input, context_for(a->run, p));

	while (p->next_item < a->n && (limit == 0 || p->pending < limit))
		map_start_item(a->run, p, a->state);
}

/* A thread under a Map or Parallel ended (well or not): the parent's bookkeeping. */
static void
child_ended(SfnRun *run, SfnThread *c, bool ok)
{
	SfnThread  *p = sfn_store_thread(run, c->parent, false);
	JsonbContainer *state;
	char	   *type;
	char	   *error = NULL;
	char	   *cause = NULL;

	if (p->status != SFN_THREAD_RUNNING || p->phase != SFN_PHASE_JOIN)
		return;					/* the parent already failed or was stopped */
	state = sfn_thread_state(run, p);
	type = state_type(state);
	p->pending--;
	p->dirty = true;
	p->last_event = c->last_event;	/* what follows was caused by the thread's end */

	if (strcmp(type, "Map") == 0)
	{
		int			n = JsonContainerSize(outbox_jsonb_get(&p->work->root, "items")->val.binary.data);

		if (!ok)
		{
			JsonbValue *count = outbox_jsonb_get(state, "ToleratedFailureCount");
			JsonbValue *pct = outbox_jsonb_get(state, "ToleratedFailurePercentage");
			double		tolerated_count = count ? number_field(state, "ToleratedFailureCount", 0) : -1;
			double		tolerated_pct = pct ? number_field(state, "ToleratedFailurePercentage", 0) : -1;

			p->failures++;
			iteration_event(run, p, "MapIterationFailed", c->index);
			if ((count || pct) &&
				((count && p->failures <= tolerated_count) ||
				 (pct && 100.0 * p->failures / n <= tolerated_pct)))
			{
				/* tolerated: its slot holds the error output */
				JsonbParseState *st = NULL;

				pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
				outbox_jsonb_push_string(&st, "Error", c->error ? c->error : "");
				outbox_jsonb_push_string(&st, "Cause", c->cause ? c->cause : "");
				c->output = JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL));
				c->dirty = true;
			}
			else
			{
				error = (count || pct) ? "States.ExceedToleratedFailureThreshold" : c->error;
				cause = (count || pct) ? psprintf("%d of %d items failed", p->failures, n) : c->cause;
				abort_threads(run, p);
				sfn_event(run, p, "MapStateFailed", NULL, NULL);
				state_error(run, p, error, cause);
				return;
			}
		}
		else
			iteration_event(run, p, "MapIterationSucceeded", c->index);
		if (p->next_item < n)
		{
			FlowArgs	a = {run, p, state, type};

			a.n = n;
			if (!data_flow(more_items_flow, &a, &error, &cause))
			{
				abort_threads(run, p);
				sfn_event(run, p, "MapStateFailed", NULL, NULL);
				state_error(run, p, error, cause);
				return;
			}
		}
		if (p->pending == 0 && p->next_item >= n)
			state_succeeded(run, p, join_results(run, p));
		return;
	}

	/* Parallel */
	if (!ok)
	{
		abort_threads(run, p);
		sfn_event(run, p, "ParallelStateFailed", NULL, NULL);
		state_error(run, p, c->error, c->cause);
		return;
	}
	if (p->pending == 0)
		state_succeeded(run, p, join_results(run, p));
}

static void
thread_end(SfnRun *run, SfnThread *t, Jsonb *output)
{
	t->status = SFN_THREAD_SUCCEEDED;
	t->phase = SFN_PHASE_DONE;
	t->output = output;
	t->dirty = true;
	if (t->parent < 0)
	{
		SfnDetails	d;

		sfn_details_begin(&d);
		sfn_details_json(&d, "output", output);
		sfn_event(run, t, "ExecutionSucceeded", NULL, run->keep_history ? sfn_details_end(&d) : NULL);
		finish_execution(run, "SUCCEEDED", output, NULL, NULL);
		return;
	}
	child_ended(run, t, true);
}

static void
thread_fail(SfnRun *run, SfnThread *t, const char *error, const char *cause)
{
	t->status = SFN_THREAD_FAILED;
	t->phase = SFN_PHASE_DONE;
	t->error = error ? pstrdup(error) : NULL;
	t->cause = cause ? pstrdup(cause) : NULL;
	t->token = NULL;
	t->dirty = true;
	if (t->parent < 0)
	{
		error_event(run, t, "ExecutionFailed", error, cause);
		finish_execution(run, "FAILED", NULL, error, cause);
		return;
	}
	child_ended(run, t, false);
}

/*
 * Abort a running thread and everything under it: the state in flight gets
 * its ...StateAborted event, a .sync task's child execution is stopped.
 * The thread stays (a redrive may run it again).
 */
static void
abort_thread(SfnRun *run, SfnThread *t)
{
	char	   *type = state_type(sfn_thread_state(run, t));

	abort_threads(run, t);
	if (t->phase == SFN_PHASE_CALLBACK && t->token && run->persistent)
		sfn_store_stop_children(t->token);
	if (t->phase != SFN_PHASE_ENTER &&
		(strcmp(type, "Task") == 0 || strcmp(type, "Wait") == 0 ||
		 strcmp(type, "Parallel") == 0 || strcmp(type, "Map") == 0))
		sfn_event(run, t, psprintf("%sStateAborted", type), NULL, NULL);
	t->status = SFN_THREAD_ABORTED;
	t->phase = SFN_PHASE_DONE;
	t->token = NULL;
	t->dirty = true;
}

/* Abort every running thread under parent (not parent itself), innermost first. */
static void
abort_threads(SfnRun *run, SfnThread *parent)
{
	ListCell   *lc;

	foreach(lc, sfn_store_children(run, parent))
	{
		SfnThread  *c = lfirst(lc);

		if (c->status == SFN_THREAD_RUNNING)
			abort_thread(run, c);
		if (strcmp(state_type(sfn_thread_state(run, parent)), "Map") == 0 && c->status == SFN_THREAD_ABORTED)
			iteration_event(run, parent, "MapIterationAborted", c->index);
		c->dirty = true;		/* kept: a redrive reruns only what did not succeed */
	}
}

/* Forget every thread under t (a Parallel or Map starting its work afresh). */
static void
drop_threads(SfnRun *run, SfnThread *t)
{
	ListCell   *lc;

	foreach(lc, sfn_store_children(run, t))
	{
		SfnThread  *c = lfirst(lc);

		drop_threads(run, c);
		c->deleted = true;
		c->dirty = true;
	}
}

/* ---- whole executions ---- */

/* A new execution: thread 0 at StartAt, ExecutionStarted. */
void
sfn_run_start(SfnRun *run)
{
	SfnThread  *t = sfn_store_new_thread(run, NULL, 0, "", scope_start(run, ""), run->input);
	SfnDetails	d;

	sfn_details_begin(&d);
	sfn_details_json(&d, "input", run->input);
	sfn_details_text(&d, "roleArn", role_arn(run));
	sfn_event(run, t, "ExecutionStarted", NULL, run->keep_history ? sfn_details_end(&d) : NULL);
	sfn_thread_schedule(run, t, run->now);
}

/* Stop (ABORTED) or time out (TIMED_OUT) a running execution. */
void
sfn_run_abort(SfnRun *run, const char *status, const char *error, const char *cause)
{
	SfnThread  *t = sfn_store_thread(run, 0, false);

	if (t->status == SFN_THREAD_RUNNING)
		abort_thread(run, t);
	error_event(run, t, strcmp(status, "TIMED_OUT") == 0 ? "ExecutionTimedOut" : "ExecutionAborted", error, cause);
	finish_execution(run, status, NULL, error, cause);
}

/*
 * A thread that failed or was aborted runs again: a Parallel or Map state
 * whose threads are still there keeps the ones that succeeded and reruns
 * the others (each from the state it stopped in); anything else enters its
 * state again with the same input.
 */
static void
redrive_thread(SfnRun *run, SfnThread *t)
{
	JsonbContainer *state = sfn_thread_state(run, t);
	char	   *type = state_type(state);
	int			revived = 0;

	t->status = SFN_THREAD_RUNNING;
	t->error = NULL;
	t->cause = NULL;
	t->output = NULL;
	t->token = NULL;
	t->dirty = true;
	if (strcmp(type, "Parallel") == 0 || (strcmp(type, "Map") == 0 && t->work != NULL))
	{
		ListCell   *lc;

		foreach(lc, sfn_store_children(run, t))
		{
			SfnThread  *c = lfirst(lc);

			if (c->status == SFN_THREAD_SUCCEEDED)
				continue;
			redrive_thread(run, c);
			revived++;
		}
	}
	if (revived > 0)
	{
		t->phase = SFN_PHASE_JOIN;
		t->pending = revived;
		t->failures = 0;
		return;
	}
	drop_threads(run, t);
	t->phase = SFN_PHASE_ENTER;
	t->work = NULL;
	t->pending = 0;
	sfn_thread_schedule(run, t, run->now);
}

/* Redrive: what did not succeed runs again, with the same input and definition. */
void
sfn_run_redrive(SfnRun *run)
{
	SfnThread  *t = sfn_store_thread(run, 0, false);
	SfnDetails	d;

	run->redrive_count++;
	run->redrive_date = run->now;
	run->status = pstrdup("RUNNING");
	run->output = NULL;
	run->error = NULL;
	run->cause = NULL;
	run->stop_date = DT_NOBEGIN;
	run->dirty = true;
	sfn_details_begin(&d);
	sfn_details_int(&d, "redriveCount", run->redrive_count);
	sfn_event(run, t, "ExecutionRedriven", NULL, run->keep_history ? sfn_details_end(&d) : NULL);
	redrive_thread(run, t);
}

/* SendTaskHeartbeat: the heartbeat clock starts again (TimeoutSeconds does not move). */
void
sfn_run_heartbeat(SfnRun *run, SfnThread *t)
{
	JsonbContainer *state = sfn_thread_state(run, t);
	int64		heartbeat = seconds_field(state, "HeartbeatSeconds", t->input, context_for(run, t), false);

	if (heartbeat > 0)
	{
		t->heartbeat_at = run->now + heartbeat * USECS_PER_SEC;
		t->dirty = true;
	}
}
