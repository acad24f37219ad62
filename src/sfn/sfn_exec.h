/*-------------------------------------------------------------------------
 *
 * sfn_exec.h
 *	  Executions inside the sfn room: the interpreter's view of one run
 *	  (SfnRun) and its threads (SfnThread), shared by the interpreter
 *	  (sfn_run.c), the task resources (sfn_task.c), the execution store
 *	  (sfn_store.c) and the SQL API (sfn_exec_api.c).
 *
 * An execution is a tree of threads.  Thread 0 runs the top-level states;
 * a Parallel state starts one thread per branch and a Map state one per
 * item, and waits ("join") until they end.  Each step of the interpreter
 * moves one thread through one state transition.  A STANDARD execution
 * keeps its threads and history in tables and each step is a transaction
 * of its own (a due item of kind "sfn" wakes it); an EXPRESS run by
 * start_sync_execution keeps everything in memory.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/sfn/sfn_exec.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef OUTBOX_SFN_EXEC_H
#define OUTBOX_SFN_EXEC_H

#include "datatype/timestamp.h"
#include "fmgr.h"
#include "nodes/pg_list.h"
#include "utils/jsonb.h"

#define SFN_PAYLOAD_MAX		262144	/* 256 KiB: inputs, outputs, results */
#define SFN_ERROR_MAX		256
#define SFN_CAUSE_MAX		32768
#define SFN_HISTORY_MAX		25000
#define SFN_EXPRESS_MAX_SECONDS 300

/* What a thread's next step does */
typedef enum SfnPhase
{
	SFN_PHASE_ENTER,			/* enter state "state" with raw input "input" */
	SFN_PHASE_RETRY,			/* run the state's work again ("work" = effective input) */
	SFN_PHASE_WAIT,				/* a Wait state: leave it when due */
	SFN_PHASE_CALLBACK,			/* a task waits for its token (or times out when due) */
	SFN_PHASE_RESULT,			/* a callback's result or error is ready ("work") */
	SFN_PHASE_JOIN,				/* a Parallel or Map state waits for its threads */
	SFN_PHASE_DONE				/* ended: succeeded, failed or aborted ("status") */
} SfnPhase;

typedef enum SfnThreadStatus
{
	SFN_THREAD_RUNNING,
	SFN_THREAD_SUCCEEDED,
	SFN_THREAD_FAILED,
	SFN_THREAD_ABORTED
} SfnThreadStatus;

typedef struct SfnThread
{
	int32		id;				/* 0: the top level */
	int32		parent;			/* -1 for thread 0 */
	int32		index;			/* branch or item index under the parent */
	char	   *scope;			/* JSON pointer of the scope: "" or "/States/P/Branches/0" */
	char	   *state;			/* current state */
	SfnPhase	phase;
	SfnThreadStatus status;
	Jsonb	   *input;			/* raw input of the current state */
	Jsonb	   *work;			/* phase data (effective input, items, a callback's outcome) */
	Jsonb	   *retries;		/* attempts per retrier: [n0, n1, ...], or NULL */
	int32		retry_count;	/* $$.State.RetryCount */
	char	   *token;			/* task token while in SFN_PHASE_CALLBACK */
	TimestampTz entered_at;
	TimestampTz timeout_at;		/* a callback's TimeoutSeconds, or DT_NOEND */
	TimestampTz heartbeat_at;	/* a callback's HeartbeatSeconds, or DT_NOEND */
	int32		wake;			/* bumped at every schedule: older wake-ups are stale */
	int32		pending;		/* join: threads still running */
	int32		next_item;		/* Map: next item to start */
	int32		failures;		/* Map: failed items so far */
	int32		last_event;		/* previousEventId of its next event */
	Jsonb	   *vars;			/* its variables (Assign), or NULL */
	Jsonb	   *output;			/* when succeeded */
	char	   *error;			/* when failed */
	char	   *cause;
	/* bookkeeping */
	bool		is_new;
	bool		dirty;
	bool		deleted;
	/* the documents as loaded: unchanged ones are not written again */
	Jsonb	   *loaded_input;
	Jsonb	   *loaded_work;
	Jsonb	   *loaded_vars;
	Jsonb	   *loaded_output;
	Jsonb	   *loaded_retries;
	bool		scheduled;
	TimestampTz due_at;			/* when scheduled */
	int64		schedule_seq;	/* in memory: order among threads due at once */
} SfnThread;

typedef struct SfnEvent
{
	int32		id;
	int32		previous;
	TimestampTz timestamp;
	const char *type;
	Jsonb	   *details;		/* {"xxxEventDetails": {...}} or NULL */
} SfnEvent;

typedef struct SfnRun
{
	bool		persistent;		/* STANDARD: tables; else memory */
	bool		keep_history;
	int64		execution_id;
	char	   *arn;
	char	   *name;
	char	   *machine;
	char	   *machine_arn;
	char	   *type;
	int64		machine_id;
	int32		revision;
	Jsonb	   *definition;
	Oid			owner;			/* tasks run as this role */
	Jsonb	   *input;
	TimestampTz start_date;
	TimestampTz timeout_at;		/* the machine's TimeoutSeconds, or DT_NOEND */
	int32		redrive_count;
	TimestampTz redrive_date;
	char	   *status;			/* RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED */
	Jsonb	   *output;
	char	   *error;
	char	   *cause;
	TimestampTz stop_date;
	char	   *parent_token;	/* a parent's .sync task waits on this execution */
	int32		last_event;
	int32		next_thread;
	bool		dirty;
	TimestampTz now;
	List	   *threads;		/* SfnThread *: loaded or made */
	List	   *events;			/* SfnEvent *: not yet stored */
	List	   *notify;			/* parent tokens to complete after this step */
	bool		is_new;			/* not stored yet */
	bool		uses_context;	/* the definition reads $$ somewhere */
	bool		ended;			/* this step ended the execution */
	int64		schedule_seq;
	bool		schedule_timeout;	/* schedule the TimeoutSeconds item at save */
	struct OutboxDueItem *item;	/* the due item being run, reused or finished at save */
	SfnThread  *item_thread;	/* the thread it woke */
} SfnRun;

/* sfn_run.c: the interpreter */
extern void sfn_run_step(SfnRun *run, SfnThread *t);
extern void sfn_run_start(SfnRun *run);
extern void sfn_run_abort(SfnRun *run, const char *status, const char *error, const char *cause);
extern void sfn_run_redrive(SfnRun *run);
extern void sfn_thread_schedule(SfnRun *run, SfnThread *t, TimestampTz at);
extern void sfn_event(SfnRun *run, SfnThread *t, const char *type, const char *details_key,
					  Jsonb *details);
extern Jsonb *sfn_context_object(SfnRun *run, SfnThread *t, const char *state);
extern JsonbContainer *sfn_scope_states(SfnRun *run, const char *scope);
extern JsonbContainer *sfn_thread_state(SfnRun *run, SfnThread *t);
extern bool sfn_error_matches(JsonbContainer *error_equals, const char *error);
extern void sfn_run_heartbeat(SfnRun *run, SfnThread *t);

/* sfn_task.c: what a Task state's Resource does */
typedef enum SfnTaskOutcome
{
	SFN_TASK_DONE,				/* result is set */
	SFN_TASK_FAILED,			/* error and cause are set */
	SFN_TASK_WAITING			/* waits for the task token; "submitted" is set */
} SfnTaskOutcome;

typedef struct SfnTaskCall
{
	const char *resource;
	const char *resource_type;	/* for the history: function, sqs, sns, events, states, lambda */
	const char *resource_name;	/* for the history: name, sendMessage, ... */
	bool		wait_for_token;
	bool		sync;			/* states:startExecution.sync(:2) */
	bool		sync2;
	Jsonb	   *parameters;		/* the effective input */
	Jsonb	   *context;
	char	   *token;
	int			timeout_seconds;	/* 0: none */
	/* outcome */
	Jsonb	   *result;
	Jsonb	   *submitted;
	char	   *error;
	char	   *cause;
} SfnTaskCall;

extern bool sfn_task_describe(const char *resource, SfnTaskCall *call);
extern Jsonb *sfn_task_sync_result(SfnTaskCall *call, Jsonb *description);
extern SfnTaskOutcome sfn_task_run(SfnRun *run, SfnThread *t, SfnTaskCall *call);

/*
 * A task's token while its request is being sent: a completion arriving
 * in the same backend before the task waits (the task's own function, a
 * trigger) is kept here and applied when the request returns.
 */
extern const char *sfn_early_token;
extern Jsonb *sfn_early_outcome;
extern MemoryContext sfn_early_cxt;

/* sfn_store.c: executions in tables */
extern SfnThread *sfn_store_thread(SfnRun *run, int32 id, bool missing_ok);
extern List *sfn_store_children(SfnRun *run, SfnThread *parent);
extern SfnThread *sfn_store_new_thread(SfnRun *run, SfnThread *parent, int32 index, const char *scope,
									   const char *state, Jsonb *input);
extern void sfn_store_save(SfnRun *run);
extern SfnRun *sfn_store_load(int64 id, const char *arn, bool lock);
extern void sfn_store_stop_children(const char *token);
extern TimestampTz sfn_store_timeout_at(SfnRun *run);
extern Jsonb *sfn_task_outcome(Jsonb *output, const char *error, const char *cause);
extern char *sfn_new_token(SfnRun *run, SfnThread *t);
extern Jsonb *sfn_store_definition(int64 machine_id, int32 revision, bool *uses_context);
extern void sfn_store_prepare(SfnRun *run, const char *machine_ref, Jsonb *input, const char *name,
							  Oid caller);
extern char *sfn_store_start(const char *machine, Jsonb *input, const char *name, Oid caller,
							 const char *parent_token, bool *created);
extern bool sfn_store_complete_token(const char *token, Jsonb *output, const char *error,
									 const char *cause, bool heartbeat, bool quiet);
extern void sfn_store_init(void);

/* sfn_exec_api.c */
extern char *sfn_execution_arn(const char *type, const char *machine, const char *name);
extern Jsonb *sfn_describe_run(SfnRun *run, bool sync2_output);
extern char *sfn_json_text(Jsonb *j);
extern char *sfn_limited_text_arg(FunctionCallInfo fcinfo, int n, const char *field, int max);
extern Jsonb *sfn_json(const char *text);

/* the details object of a history event */
typedef struct SfnDetails
{
	JsonbParseState *st;
} SfnDetails;
extern void sfn_details_begin(SfnDetails *d);
extern void sfn_details_text(SfnDetails *d, const char *key, const char *value);
extern void sfn_details_int(SfnDetails *d, const char *key, int64 value);
extern void sfn_details_json(SfnDetails *d, const char *key, Jsonb *value);
extern Jsonb *sfn_details_end(SfnDetails *d);

#endif							/* OUTBOX_SFN_EXEC_H */
