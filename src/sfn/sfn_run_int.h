/*-------------------------------------------------------------------------
 *
 * sfn_run_int.h
 *	  What the interpreter's two files share: sfn_run.c enters states and
 *	  does their work, sfn_thread.c decides what happens after (Retry,
 *	  Catch, a thread ending or failing, a whole execution starting,
 *	  stopping or being redriven).
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/sfn/sfn_run_int.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef OUTBOX_SFN_RUN_INT_H
#define OUTBOX_SFN_RUN_INT_H

#include "sfn/sfn_exec.h"

/* What the pieces of data flow below work on */
typedef struct SfnFlowArgs
{
	SfnRun	   *run;
	SfnThread  *t;
	JsonbContainer *state;
	const char *type;
	const char *error;
	const char *cause;
	Jsonb	   *result;
	Jsonb	   *out;
	Jsonb	   *assigned;
	int			n;
	bool		done;
} SfnFlowArgs;

/* sfn_run.c */
extern char *sfn_state_type(JsonbContainer *state);
extern JsonbValue sfn_binary_value(Jsonb *j);
extern char *sfn_scope_start(SfnRun *run, const char *scope);
extern char *sfn_role_arn(SfnRun *run);
extern void sfn_iteration_event(SfnRun *run, SfnThread *map, const char *type, int index);
extern void sfn_error_event(SfnRun *run, SfnThread *t, const char *type, const char *error, const char *cause);
extern Jsonb *sfn_flow_context(SfnRun *run, SfnThread *t);
extern void sfn_check_size(Jsonb *j, const char *what);
extern int64 sfn_seconds_field(JsonbContainer *state, const char *field, Jsonb *doc, Jsonb *context,
							   bool allow_zero);
extern bool sfn_data_flow(void (*fn) (void *), void *arg, char **error, char **cause);
extern void sfn_exit_state(SfnRun *run, SfnThread *t, JsonbContainer *state, const char *type, Jsonb *out,
						   Jsonb *assigned);
extern void sfn_goto_state(SfnRun *run, SfnThread *t, char *next, Jsonb *in);
extern void sfn_exited_event(SfnRun *run, SfnThread *t, const char *type, Jsonb *out, Jsonb *assigned);
extern Jsonb *sfn_assign(SfnRun *run, SfnThread *t, JsonbContainer *holder, Jsonb *dollar);
extern int	sfn_map_concurrency(JsonbContainer *state, Jsonb *input, Jsonb *context);
extern void sfn_map_start_item(SfnRun *run, SfnThread *t, JsonbContainer *state);

/* sfn_thread.c */
extern void sfn_state_error(SfnRun *run, SfnThread *t, const char *error, const char *cause);
extern void sfn_state_succeeded(SfnRun *run, SfnThread *t, Jsonb *result);
extern void sfn_thread_end(SfnRun *run, SfnThread *t, Jsonb *output);
extern void sfn_thread_fail(SfnRun *run, SfnThread *t, const char *error, const char *cause);
extern void sfn_drop_threads(SfnRun *run, SfnThread *t);

#endif							/* OUTBOX_SFN_RUN_INT_H */
