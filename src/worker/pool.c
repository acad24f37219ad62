/*-------------------------------------------------------------------------
 *
 * pool.c
 *	  The pool of workers of each database: starting them, waking them at
 *	  commit, what they do, and the outbox.workers view.
 *
 * Each database's scheduler (scheduler.c) owns up to pg_outbox.max_workers
 * pooled workers, dynamic background workers of type "pg_outbox worker"
 * whose slots live beside the scheduler's in shared memory.  A worker
 * loops: run due items (one transaction each), then one batch of every
 * event source mapping; when a pass finds nothing it marks itself idle,
 * checks once more, and sleeps on its latch; after
 * pg_outbox.worker_idle_timeout seconds without work it exits.
 *
 * Waking.  A transaction that queues an invocation, changes a mapping or
 * (when the database has mappings) sends a message wakes the database at
 * commit, never before and never on rollback: the latch of an idle worker
 * if there is one, else the scheduler's, which starts a worker when the
 * pool is not full.  Because a worker marks itself idle before its last
 * check, a commit can never fall between that check and its sleep
 * unnoticed.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/worker/pool.c
 *
 *-------------------------------------------------------------------------
 */
#include "pg_outbox.h"

#include "access/xact.h"
#include "commands/dbcommands.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "core/shmem.h"
#include "worker/worker_int.h"

PGDLLEXPORT void outbox_worker_main(Datum main_arg);

int			outbox_max_workers = 2;
int			outbox_worker_idle_timeout = 10;

static OutboxSchedulerSlot *cached_slot = NULL;
static OutboxWorkerSlot *my_worker = NULL;	/* set in a pooled worker */
static bool wake_pending = false;
static TimestampTz next_wake = DT_NOEND;

/* The slot of the current database, or NULL (no preload, not served). */
OutboxSchedulerSlot *
outbox_worker_my_slot(void)
{
	if (OutboxShared == NULL || !OidIsValid(MyDatabaseId))
		return NULL;
	if (cached_slot && cached_slot->dboid == MyDatabaseId)
		return cached_slot;
	cached_slot = NULL;
	for (int i = 0; i < outbox_max_databases; i++)
		if (OutboxShared->schedulers[i].dboid == MyDatabaseId)
			cached_slot = &OutboxShared->schedulers[i];
	return cached_slot;
}

/* Wake an idle worker of the database, or its scheduler. */
static void
wake_database(void)
{
	OutboxSchedulerSlot *slot = outbox_worker_my_slot();
	Latch	   *scheduler;

	if (slot == NULL)
		return;
	pg_memory_barrier();
	for (int i = 0; i < OUTBOX_MAX_WORKERS_PER_DB; i++)
	{
		OutboxWorkerSlot *w = &slot->workers[i];
		Latch	   *latch = w->latch;

		if (w->pid != 0 && w->idle && latch != NULL)
		{
			SetLatch(latch);
			return;
		}
	}
	scheduler = slot->latch;
	if (slot->pid != 0 && scheduler != NULL)
		SetLatch(scheduler);
}

static void
pool_xact_callback(XactEvent event, void *arg)
{
	if (!wake_pending)
		return;
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT)
		wake_database();
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT ||
		event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT ||
		event == XACT_EVENT_PREPARE)
		wake_pending = false;
}

void
outbox_worker_init(void)
{
	RegisterXactCallback(pool_xact_callback, NULL);
	worker_due_init();
}

/* Wake the database's workers when the current transaction commits. */
void
worker_wake_at_commit(void)
{
	wake_pending = true;
}

/* Called by the queue room when a transaction that sent messages commits. */
void
outbox_worker_notify_send(void)
{
	OutboxSchedulerSlot *slot = outbox_worker_my_slot();

	if (slot && pg_atomic_read_u32(&slot->wake_on_send) != 0)
		wake_database();
}

/* A worker's next timed look: a batch waiting for its batching window. */
void
worker_note_wake_at(TimestampTz when)
{
	if (when < next_wake)
		next_wake = when;
}

void
worker_set_activity(const char *what)
{
	OutboxSchedulerSlot *slot = outbox_worker_my_slot();
	char	   *dest = NULL;

	if (my_worker)
	{
		dest = my_worker->activity;
		my_worker->state_since = GetCurrentTimestamp();
	}
	else if (slot && slot->pid == MyProcPid)
	{
		dest = slot->activity;
		slot->state_since = GetCurrentTimestamp();
	}
	if (dest)
		strlcpy(dest, what ? what : "", OUTBOX_ACTIVITY_LEN);
}

void
worker_count(int what)
{
	OutboxSchedulerSlot *slot = outbox_worker_my_slot();

	if (slot)
		pg_atomic_fetch_add_u64(&slot->counters[what], 1);
}

/* ------------------------------------------------------------ the worker */

static void
release_worker(int code, Datum arg)
{
	if (my_worker == NULL)
		return;
	SpinLockAcquire(&OutboxShared->scheduler_lock);
	my_worker->latch = NULL;
	my_worker->idle = false;
	my_worker->pid = 0;
	my_worker->starting = false;
	SpinLockRelease(&OutboxShared->scheduler_lock);
	my_worker = NULL;
}

/* Items, then mappings.  Returns true when it did something. */
static bool
worker_pass(void)
{
	bool		did = false;
	bool		more = false;
	bool		installed = true;

	for (int i = 0; i < 1000 && installed; i++)
	{
		bool		ran = false;

		CHECK_FOR_INTERRUPTS();
		SetCurrentStatementStartTimestamp();
		StartTransactionCommand();
		PushActiveSnapshot(GetTransactionSnapshot());
		installed = OidIsValid(get_extension_oid("pg_outbox", true));
		if (installed)
		{
			pgstat_report_activity(STATE_RUNNING, "pg_outbox: due items");
			ran = worker_run_one_item();
		}
		PopActiveSnapshot();
		CommitTransactionCommand();
		if (!ran)
			break;
		did = true;
	}
	if (!installed)
		proc_exit(0);

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "pg_outbox: event source mappings");
	if (worker_run_mappings(&more) > 0)
		did = true;
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_stat(false);
	pgstat_report_activity(STATE_IDLE, NULL);
	return did;
}

void
outbox_worker_main(Datum main_arg)
{
	int			index = DatumGetInt32(main_arg);
	Oid			dboid;
	OutboxSchedulerSlot *slot = NULL;
	TimestampTz idle_since;

	memcpy(&dboid, MyBgworkerEntry->bgw_extra, sizeof(Oid));
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	SpinLockAcquire(&OutboxShared->scheduler_lock);
	for (int i = 0; i < outbox_max_databases; i++)
		if (OutboxShared->schedulers[i].dboid == dboid)
			slot = &OutboxShared->schedulers[i];
	if (slot && index >= 0 && index < OUTBOX_MAX_WORKERS_PER_DB &&
		(slot->workers[index].pid == 0 || slot->workers[index].pid == MyProcPid))
	{
		my_worker = &slot->workers[index];
		my_worker->pid = MyProcPid;
		my_worker->starting = false;
		my_worker->idle = false;
		my_worker->latch = MyLatch;
		my_worker->state_since = GetCurrentTimestamp();
	}
	SpinLockRelease(&OutboxShared->scheduler_lock);
	if (my_worker == NULL)
		proc_exit(0);
	before_shmem_exit(release_worker, (Datum) 0);

	BackgroundWorkerInitializeConnectionByOid(dboid, InvalidOid, 0);
	pgstat_report_appname("pg_outbox worker");
	ProcessConfigFile(PGC_SIGHUP);

	idle_since = GetCurrentTimestamp();
	for (;;)
	{
		long		timeout;
		int			rc;

		next_wake = DT_NOEND;
		if (worker_pass())
		{
			idle_since = GetCurrentTimestamp();
			continue;
		}

		/* idle first, then look once more: a commit cannot slip between */
		my_worker->idle = true;
		pg_memory_barrier();
		ResetLatch(MyLatch);
		if (worker_pass())
		{
			my_worker->idle = false;
			idle_since = GetCurrentTimestamp();
			continue;
		}

		timeout = outbox_worker_idle_timeout * 1000L -
			TimestampDifferenceMilliseconds(idle_since, GetCurrentTimestamp());
		if (timeout <= 0)
			proc_exit(0);
		if (next_wake != DT_NOEND)
			timeout = Min(timeout, Max(1, TimestampDifferenceMilliseconds(GetCurrentTimestamp(), next_wake)));
		worker_set_activity(NULL);
		rc = WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, timeout,
					   PG_WAIT_EXTENSION);
		my_worker->idle = false;
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		if (rc & WL_LATCH_SET)
			idle_since = GetCurrentTimestamp();
	}
}

/* ---------------------------------------------------- scheduler's side */

/*
 * There is work: wake an idle worker, or start one if the pool has room.
 * Called by the scheduler of the database.
 */
void
worker_pool_dispatch(OutboxSchedulerSlot *slot)
{
	int			free_index = -1;
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;
	int			limit = Min(outbox_max_workers, OUTBOX_MAX_WORKERS_PER_DB);

	SpinLockAcquire(&OutboxShared->scheduler_lock);
	for (int i = 0; i < OUTBOX_MAX_WORKERS_PER_DB; i++)
	{
		OutboxWorkerSlot *w = &slot->workers[i];

		if (w->pid != 0 && w->idle && w->latch)
		{
			Latch	   *latch = w->latch;

			SpinLockRelease(&OutboxShared->scheduler_lock);
			SetLatch(latch);
			return;
		}
		if (w->starting || w->pid != 0)
			continue;
		if (free_index < 0 && i < limit)
			free_index = i;
	}
	for (int i = 0; i < OUTBOX_MAX_WORKERS_PER_DB; i++)
		if (slot->workers[i].starting)
			free_index = -1;	/* one start at a time */
	if (free_index >= 0)
	{
		slot->workers[free_index].starting = true;
		slot->workers[free_index].state_since = GetCurrentTimestamp();
	}
	SpinLockRelease(&OutboxShared->scheduler_lock);
	if (free_index < 0)
		return;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	strlcpy(worker.bgw_library_name, "pg_outbox", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, "outbox_worker_main", BGW_MAXLEN);
	snprintf(worker.bgw_name, BGW_MAXLEN, "pg_outbox worker %d for database %u", free_index, slot->dboid);
	strlcpy(worker.bgw_type, "pg_outbox worker", BGW_MAXLEN);
	worker.bgw_main_arg = Int32GetDatum(free_index);
	memcpy(worker.bgw_extra, &slot->dboid, sizeof(Oid));
	worker.bgw_notify_pid = MyProcPid;
	if (!RegisterDynamicBackgroundWorker(&worker, &handle))
	{
		SpinLockAcquire(&OutboxShared->scheduler_lock);
		slot->workers[free_index].starting = false;
		SpinLockRelease(&OutboxShared->scheduler_lock);
		if (GetCurrentTimestamp() - slot->last_warning > 60 * USECS_PER_SEC)
		{
			slot->last_warning = GetCurrentTimestamp();
			ereport(WARNING,
					(errmsg("pg_outbox could not start a worker: no background worker slot is free"),
					 errhint("Raise max_worker_processes (it must cover the launcher, one scheduler per database and pg_outbox.max_workers per database).")));
		}
	}
}

/* Forget starts that never came up (the postmaster refused the worker). */
void
worker_pool_reap(OutboxSchedulerSlot *slot)
{
	TimestampTz now = GetCurrentTimestamp();

	SpinLockAcquire(&OutboxShared->scheduler_lock);
	for (int i = 0; i < OUTBOX_MAX_WORKERS_PER_DB; i++)
	{
		OutboxWorkerSlot *w = &slot->workers[i];

		if (w->starting && w->pid == 0 && now - w->state_since > 10 * USECS_PER_SEC)
			w->starting = false;
	}
	SpinLockRelease(&OutboxShared->scheduler_lock);
}

/* ------------------------------------------------------------ the view */

PG_FUNCTION_INFO_V1(outbox_worker_status);
Datum
outbox_worker_status(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	InitMaterializedSRF(fcinfo, 0);
	if (OutboxShared == NULL)
		return (Datum) 0;
	if (OutboxShared->launcher_pid != 0)
	{
		Datum		v[9] = {0};
		bool		n[9] = {true, false, false, false, true, true, true, true, true};

		v[1] = Int32GetDatum(OutboxShared->launcher_pid);
		v[2] = CStringGetTextDatum("launcher");
		v[3] = CStringGetTextDatum("running");
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, n);
	}
	for (int i = 0; i < outbox_max_databases; i++)
	{
		OutboxSchedulerSlot copy;
		OutboxSchedulerSlot *slot = &OutboxShared->schedulers[i];
		char	   *dbname;

		SpinLockAcquire(&OutboxShared->scheduler_lock);
		memcpy(&copy, slot, sizeof(copy));
		SpinLockRelease(&OutboxShared->scheduler_lock);
		if (!OidIsValid(copy.dboid) || (copy.pid == 0 && !copy.starting))
			continue;
		dbname = get_database_name(copy.dboid);
		{
			Datum		v[9];
			bool		n[9] = {false};

			v[0] = CStringGetDatum(dbname ? dbname : "?");
			v[0] = DirectFunctionCall1(namein, v[0]);
			v[1] = Int32GetDatum(copy.pid);
			n[1] = copy.pid == 0;
			v[2] = CStringGetTextDatum("scheduler");
			v[3] = CStringGetTextDatum(copy.pid == 0 ? "starting" : "running");
			v[4] = CStringGetTextDatum(copy.activity);
			n[4] = copy.activity[0] == '\0';
			v[5] = TimestampTzGetDatum(copy.state_since);
			n[5] = copy.state_since == 0;
			for (int c = 0; c < 3; c++)
				v[6 + c] = Int64GetDatum((int64) pg_atomic_read_u64(&slot->counters[c]));
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, n);
		}
		for (int w = 0; w < OUTBOX_MAX_WORKERS_PER_DB; w++)
		{
			OutboxWorkerSlot *ws = &copy.workers[w];
			Datum		v[9];
			bool		n[9] = {false, false, false, false, false, false, true, true, true};

			if (ws->pid == 0 && !ws->starting)
				continue;
			v[0] = DirectFunctionCall1(namein, CStringGetDatum(dbname ? dbname : "?"));
			v[1] = Int32GetDatum(ws->pid);
			n[1] = ws->pid == 0;
			v[2] = CStringGetTextDatum("worker");
			v[3] = CStringGetTextDatum(ws->pid == 0 ? "starting" : ws->idle ? "idle" : "running");
			v[4] = CStringGetTextDatum(ws->activity);
			n[4] = ws->activity[0] == '\0';
			v[5] = TimestampTzGetDatum(ws->state_since);
			n[5] = ws->state_since == 0;
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, n);
		}
	}
	return (Datum) 0;
}
