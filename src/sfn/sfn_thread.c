/*-------------------------------------------------------------------------
 *
 * sfn_thread.c
 *	  The interpreter, after a state's work: Retry and Catch, a thread
 *	  ending or failing (and its Parallel or Map parent joining, tolerating
 *	  or failing), aborting threads, and whole executions starting,
 *	  stopping, timing out and being redriven.
 *
 * Retry counts live per retrier and restart whenever a state is entered
 * anew.  A thread that ends hands its output to its parent, and the last
 * one lets the parent go on, in the same step; a failing thread fails its
 * parent (its siblings are aborted) unless a Map tolerates it.  Threads of
 * a failed execution are kept, so that a redrive reruns only the branches
 * and items that did not succeed.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/sfn/sfn_thread.c
 *
 *-------------------------------------------------------------------------
 */
#include "pg_outbox.h"

#include <math.h>

#if PG_VERSION_NUM >= 150000
#include "common/pg_prng.h"
#endif
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

#include "core/jsonb_util.h"
#include "sfn/sfn.h"
#include "sfn/sfn_run_int.h"

static void abort_threads(SfnRun *run, SfnThread *parent);

/*
 * Only a thread in a Parallel or Map state has threads under it: leaving
 * such a state (joined, caught, dropped) takes them away.
 */
static bool
has_threads(const char *type)
{
	return strcmp(type, "Parallel") == 0 || strcmp(type, "Map") == 0;
}

static void abort_thread(SfnRun *run, SfnThread *t);

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
		sfn_check_size(out, "state output");
		sfn_exited_event(run, t, type, out, sfn_assign(run, t, c, error_output));
		sfn_drop_threads(run, t);	/* a caught Parallel or Map leaves nothing behind */
		sfn_goto_state(run, t, outbox_jsonb_get_string(c, "Next"), out);
		return true;
	}
	return false;
}

static void
catch_flow(void *arg)
{
	SfnFlowArgs   *a = arg;

	a->done = try_catch(a->run, a->t, a->state, a->type, a->error, a->cause);
}

void
sfn_state_error(SfnRun *run, SfnThread *t, const char *error, const char *cause)
{
	JsonbContainer *state = sfn_thread_state(run, t);
	char	   *type = sfn_state_type(state);
	SfnFlowArgs	a = {run, t, state, type};
	char	   *e2;
	char	   *c2;

	if (error == NULL)
		error = "";
	t->token = NULL;
	if (t->phase == SFN_PHASE_JOIN)
		abort_threads(run, t);	/* a Map that failed while starting its items */
	if (error_is_terminal(error) ||
		!(strcmp(type, "Task") == 0 || strcmp(type, "Parallel") == 0 || strcmp(type, "Map") == 0))
	{
		sfn_thread_fail(run, t, error, cause);
		return;
	}
	if (try_retry(run, t, state, error))
		return;
	a.error = error;
	a.cause = cause;
	if (!sfn_data_flow(catch_flow, &a, &e2, &c2))
		sfn_thread_fail(run, t, e2, c2);	/* the catcher's own data flow failed */
	else if (!a.done)
		sfn_thread_fail(run, t, error, cause);
}

/* The state's work succeeded with result: ResultSelector, ResultPath, OutputPath. */
static void
output_flow(void *arg)
{
	SfnFlowArgs   *a = arg;

	Jsonb	   *context = sfn_flow_context(a->run, a->t);
	Jsonb	   *selected = sfn_select_result(a->state, a->result, context);

	a->out = sfn_place_result(a->state, a->t->input, selected, context);
	sfn_check_size(a->out, "state output");	/* the state's error, not a thread's */
	a->assigned = sfn_assign(a->run, a->t, a->state, selected);
}

void
sfn_state_succeeded(SfnRun *run, SfnThread *t, Jsonb *result)
{
	JsonbContainer *state = sfn_thread_state(run, t);
	char	   *type = sfn_state_type(state);
	SfnFlowArgs	a = {run, t, state, type};
	char	   *error;
	char	   *cause;

	a.result = result;
	if (!sfn_data_flow(output_flow, &a, &error, &cause))
	{
		sfn_state_error(run, t, error, cause);
		return;
	}
	if (strcmp(type, "Parallel") == 0)
		sfn_event(run, t, "ParallelStateSucceeded", NULL, NULL);
	else if (strcmp(type, "Map") == 0 && t->phase == SFN_PHASE_JOIN)
		sfn_event(run, t, "MapStateSucceeded", NULL, NULL);
	t->work = NULL;
	t->pending = 0;
	sfn_exit_state(run, t, state, type, a.out, a.assigned);
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
			v = sfn_binary_value(byindex[i]->output);
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
	SfnFlowArgs   *a = arg;
	SfnThread  *p = a->t;
	Jsonb	   *input = JsonbValueToJsonb(outbox_jsonb_get(&p->work->root, "input"));
	int			limit = sfn_map_concurrency(a->state, input, sfn_flow_context(a->run, p));

	while (p->next_item < a->n && (limit == 0 || p->pending < limit))
		sfn_map_start_item(a->run, p, a->state);
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
	if (strcmp(sfn_state_type(sfn_thread_state(run, p)), "Map") == 0 && p->work == NULL)
		elog(ERROR, "Map thread %d of execution %s has no items", p->id, run->arn);
	state = sfn_thread_state(run, p);
	type = sfn_state_type(state);
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
			sfn_iteration_event(run, p, "MapIterationFailed", c->index);
			if ((count || pct) && !error_is_terminal(c->error ? c->error : "") &&
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
				sfn_state_error(run, p, error, cause);
				return;
			}
		}
		else
			sfn_iteration_event(run, p, "MapIterationSucceeded", c->index);
		if (p->next_item < n)
		{
			SfnFlowArgs	a = {run, p, state, type};

			a.n = n;
			if (!sfn_data_flow(more_items_flow, &a, &error, &cause))
			{
				abort_threads(run, p);
				sfn_event(run, p, "MapStateFailed", NULL, NULL);
				sfn_state_error(run, p, error, cause);
				return;
			}
		}
		if (p->pending == 0 && p->next_item >= n)
			sfn_state_succeeded(run, p, join_results(run, p));
		return;
	}

	/* Parallel */
	if (!ok)
	{
		abort_threads(run, p);
		sfn_event(run, p, "ParallelStateFailed", NULL, NULL);
		sfn_state_error(run, p, c->error, c->cause);
		return;
	}
	if (p->pending == 0)
		sfn_state_succeeded(run, p, join_results(run, p));
}

void
sfn_thread_end(SfnRun *run, SfnThread *t, Jsonb *output)
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

void
sfn_thread_fail(SfnRun *run, SfnThread *t, const char *error, const char *cause)
{
	t->status = SFN_THREAD_FAILED;
	t->phase = SFN_PHASE_DONE;
	t->error = error ? pstrdup(error) : NULL;
	t->cause = cause ? pstrdup(cause) : NULL;
	t->token = NULL;
	t->dirty = true;
	if (t->parent < 0)
	{
		sfn_error_event(run, t, "ExecutionFailed", error, cause);
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
	char	   *type = sfn_state_type(sfn_thread_state(run, t));

	if (has_threads(type))
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
	bool		map = strcmp(sfn_state_type(sfn_thread_state(run, parent)), "Map") == 0;

	foreach(lc, sfn_store_children(run, parent))
	{
		SfnThread  *c = lfirst(lc);

		if (c->status != SFN_THREAD_RUNNING)
			continue;			/* kept: a redrive reruns only what did not succeed */
		abort_thread(run, c);
		if (map)
			sfn_iteration_event(run, parent, "MapIterationAborted", c->index);
	}
}

/* Forget every thread under t (a Parallel or Map starting its work afresh). */
void
sfn_drop_threads(SfnRun *run, SfnThread *t)
{
	ListCell   *lc;

	foreach(lc, sfn_store_children(run, t))
	{
		SfnThread  *c = lfirst(lc);

		if (has_threads(sfn_state_type(sfn_thread_state(run, c))))
			sfn_drop_threads(run, c);
		c->deleted = true;
		c->dirty = true;
	}
}

/* ---- whole executions ---- */

/* A new execution: thread 0 at StartAt, ExecutionStarted. */
void
sfn_run_start(SfnRun *run)
{
	SfnThread  *t = sfn_store_new_thread(run, NULL, 0, "", sfn_scope_start(run, ""), run->input);
	SfnDetails	d;

	sfn_details_begin(&d);
	sfn_details_json(&d, "input", run->input);
	sfn_details_text(&d, "roleArn", sfn_role_arn(run));
	sfn_event(run, t, "ExecutionStarted", NULL, run->keep_history ? sfn_details_end(&d) : NULL);
	sfn_thread_schedule(run, t, run->now);
}

/* Stop (ABORTED), time out (TIMED_OUT) or fail (FAILED) a running execution from outside its states. */
void
sfn_run_abort(SfnRun *run, const char *status, const char *error, const char *cause)
{
	SfnThread  *t = sfn_store_thread(run, 0, false);

	if (t->status == SFN_THREAD_RUNNING)
		abort_thread(run, t);
	sfn_error_event(run, t, strcmp(status, "TIMED_OUT") == 0 ? "ExecutionTimedOut" :
					strcmp(status, "FAILED") == 0 ? "ExecutionFailed" : "ExecutionAborted", error, cause);
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
	char	   *type = sfn_state_type(state);
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
	sfn_drop_threads(run, t);
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
	/* the execution's TimeoutSeconds clock starts again */
	run->timeout_at = sfn_store_timeout_at(run);
	run->schedule_timeout = run->timeout_at != DT_NOEND;
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
	int64		heartbeat = sfn_seconds_field(state, "HeartbeatSeconds", t->input, sfn_flow_context(run, t), false);

	if (heartbeat > 0)
	{
		t->heartbeat_at = run->now + heartbeat * USECS_PER_SEC;
		t->dirty = true;
	}
}
