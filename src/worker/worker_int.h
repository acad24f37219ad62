/*-------------------------------------------------------------------------
 *
 * worker_int.h
 *	  Declarations shared by the files of the worker room: calling user
 *	  code, due items, event source mappings, the worker pool.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/worker/worker_int.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef OUTBOX_WORKER_INT_H
#define OUTBOX_WORKER_INT_H

#include "utils/elog.h"
#include "utils/jsonb.h"
#include "utils/resowner.h"

#include "worker/worker.h"

typedef struct WorkerSubxact
{
	MemoryContext cxt;
	ResourceOwner owner;
} WorkerSubxact;

/* invoke.c */
extern void worker_subxact_begin(WorkerSubxact *sx);
extern void worker_subxact_release(WorkerSubxact *sx);
extern ErrorData *worker_subxact_abort(WorkerSubxact *sx);
extern char *worker_function_arn(Oid fn);
extern void worker_send_destination(const char *queue, Jsonb *record, Oid run_as);
extern Jsonb *worker_destination_record(Oid fn, const char *request_id, const char *condition,
										int invoke_count, Jsonb *payload, WorkerCallResult *r);

/* due.c */
extern char *worker_enqueue_invocation(Oid fn, Oid run_as, Jsonb *payload);
extern void worker_due_init(void);
extern bool worker_run_one_item(void);
extern TimestampTz worker_next_due(void);

/* mapping.c */
extern int	worker_run_mappings(bool *more);
extern bool worker_have_mappings(void);
extern bool worker_mapped_queues_have_messages(void);

/* pool.c: wake-ups, activity and per-database counters */
extern void worker_wake_at_commit(void);
extern void worker_note_wake_at(TimestampTz when);
extern void worker_set_activity(const char *what);
extern void worker_count(int what);
extern void worker_pool_dispatch(OutboxSchedulerSlot *slot);
extern void worker_pool_reap(OutboxSchedulerSlot *slot);

#define WORKER_COUNT_RUN		0
#define WORKER_COUNT_FAILED		1
#define WORKER_COUNT_RETRIED	2

#endif							/* OUTBOX_WORKER_INT_H */
