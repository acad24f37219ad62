/*-------------------------------------------------------------------------
 *
 * worker.h
 *	  The background worker room: launcher and per-database schedulers.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/worker/worker.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef OUTBOX_WORKER_H
#define OUTBOX_WORKER_H

#include "datatype/timestamp.h"
#include "port/atomics.h"
#include "storage/latch.h"
#include "utils/jsonb.h"

#define OUTBOX_MAX_WORKERS_PER_DB	16
#define OUTBOX_ACTIVITY_LEN			64

/* One pooled worker of a database (src/worker/pool.c). */
typedef struct OutboxWorkerSlot
{
	pid_t		pid;			/* 0: free */
	bool		starting;		/* registered, not yet running */
	bool		idle;			/* waiting on its latch for work */
	Latch	   *latch;
	TimestampTz state_since;
	char		activity[OUTBOX_ACTIVITY_LEN];
} OutboxWorkerSlot;

/* One scheduler slot per served database, in shared memory. */
typedef struct OutboxSchedulerSlot
{
	Oid			dboid;			/* InvalidOid: free */
	pid_t		pid;			/* 0: not running */
	bool		starting;		/* registered, not yet claimed */
	TimestampTz last_start;
	TimestampTz last_exit;
	TimestampTz last_warning;	/* last "no worker slot" warning */
	Latch	   *latch;			/* the scheduler's, while it runs */
	pg_atomic_uint32 wake_on_send;	/* event source mappings exist */
	pg_atomic_uint64 counters[3];	/* items run, failed, retried */
	TimestampTz state_since;
	char		activity[OUTBOX_ACTIVITY_LEN];
	OutboxWorkerSlot workers[OUTBOX_MAX_WORKERS_PER_DB];
} OutboxSchedulerSlot;

/* GUCs (pg_outbox.c) */
extern int	outbox_max_databases;
extern char *outbox_databases;
extern int	outbox_launcher_interval;	/* ms */
extern int	outbox_restart_interval;	/* s */
extern int	outbox_maintenance_interval;	/* ms */
extern int	outbox_max_workers;	/* pooled workers per database */
extern int	outbox_worker_idle_timeout;	/* s */
extern int	outbox_xmin_warning_age;	/* s */

extern void outbox_worker_register_launcher(void);

/*
 * Due items for other rooms (due.c): a room registers a handler for its kind
 * of item in _PG_init and schedules items in the caller's transaction; a
 * worker runs each due item in a subtransaction of its own transaction and
 * the handler finishes it (outbox_due_finish) or moves it later
 * (outbox_due_postpone).  A handler that raises is retried with back-off.
 */
typedef struct OutboxDueItem
{
	int64		item_id;
	char	   *kind;
	Oid			run_as;
	Oid			function;		/* or InvalidOid */
	void	   *payload;		/* Jsonb *, or NULL */
	char	   *request_id;
	int			attempts;
	TimestampTz enqueued_at;
	/* what the handler decided, applied after its subtransaction (see due.c) */
	int			disposition;	/* OUTBOX_DUE_KEEP, _FINISH, _POSTPONE, _RESCHEDULE */
	TimestampTz next_due;
	int			next_attempts;
	char	   *next_error;
	void	   *next_payload;
} OutboxDueItem;

#define OUTBOX_DUE_KEEP			0
#define OUTBOX_DUE_FINISH		1
#define OUTBOX_DUE_POSTPONE		2
#define OUTBOX_DUE_RESCHEDULE	3

typedef void (*OutboxDueHandler) (OutboxDueItem *item);

extern void outbox_due_register(const char *kind, OutboxDueHandler handler);
extern char *outbox_due_schedule(const char *kind, TimestampTz due_at, Oid run_as, Oid function,
								 void *payload);
extern void outbox_due_finish(OutboxDueItem *item);
extern void outbox_due_reschedule(OutboxDueItem *item, TimestampTz due_at, void *payload);
extern void outbox_due_postpone(OutboxDueItem *item, TimestampTz due_at, int attempts,
								const char *error);

/*
 * Calling user code (invoke.c), for rooms whose deliveries run SQL
 * functions: the function's settings, a call as a role in a subtransaction
 * with a timeout, and whether a failure is worth retrying.
 */
typedef struct WorkerFunctionConfig
{
	bool		exists;
	int			timeout_seconds;
	int			maximum_retry_attempts;
	int			maximum_event_age_seconds;
	char	   *on_success;		/* queue name or NULL */
	char	   *on_failure;
	int			reserved_concurrency;	/* -1: unreserved */
} WorkerFunctionConfig;

typedef struct WorkerCallResult
{
	bool		ok;
	Jsonb	   *result;			/* NULL for void or null */
	int			sqlerrcode;
	char	   *message;
} WorkerCallResult;

extern void worker_check_handler(Oid fn, const char *field);
extern Oid	worker_resolve_handler(const char *endpoint, const char *field);
extern void worker_function_config(Oid fn, WorkerFunctionConfig *cfg);
extern void worker_call_function(Oid fn, Oid run_as, Jsonb *payload, int timeout_ms,
								 WorkerCallResult *r);
extern bool worker_error_is_retryable(int sqlerrcode);
extern char *worker_iso_time(TimestampTz t);

/* pool.c: for other rooms */
extern void outbox_worker_notify_send(void);
extern OutboxSchedulerSlot *outbox_worker_my_slot(void);
extern void outbox_worker_init(void);

#endif							/* OUTBOX_WORKER_H */
