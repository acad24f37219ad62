/*-------------------------------------------------------------------------
 *
 * launcher.c
 *	  The pg_outbox launcher: one static background worker that keeps one
 *	  scheduler running in every database that pg_outbox serves.
 *
 * The launcher is registered in _PG_init when the library is preloaded.  It
 * connects to shared catalogs only and, every pg_outbox.launcher_interval
 * (and whenever one of its schedulers exits), scans pg_database: templates
 * and databases that refuse connections are skipped, and with
 * pg_outbox.databases set only the listed ones are served.  For each
 * database without a live scheduler it starts one as a dynamic worker
 * (BGW_NEVER_RESTART, bgw_notify_pid = the launcher), so the launcher, not
 * the postmaster, decides about restarts: a database whose scheduler exited
 * less than pg_outbox.restart_interval ago waits, which stops a crashing
 * database from spinning.  A scheduler in a database without the extension
 * exits at once and is retried on the same throttle -- that is how CREATE
 * EXTENSION is noticed without a hook.
 *
 * Slots.  Shared memory holds a fixed array of scheduler slots (database,
 * pid, start time).  A scheduler claims its slot on start and clears it on
 * exit; a restarted launcher therefore finds the schedulers that are still
 * running and does not start a second one for their databases.  When the
 * slots (pg_outbox.max_databases) or the server's background worker
 * processes run out, the launcher logs a WARNING with a hint and keeps
 * serving the databases it has; it never errors out.
 *
 * See src/worker/README.md for the state diagram.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/worker/launcher.c
 *
 *-------------------------------------------------------------------------
 */
#include "pg_outbox.h"

#include <signal.h>

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_database.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"

#include "core/shmem.h"
#include "worker/worker.h"

PGDLLEXPORT void outbox_launcher_main(Datum main_arg);

typedef struct DatabaseEntry
{
	Oid			dboid;
	char		name[NAMEDATALEN];
} DatabaseEntry;

void
outbox_worker_register_launcher(void)
{
	BackgroundWorker worker;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = 10;
	strlcpy(worker.bgw_library_name, "pg_outbox", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, "outbox_launcher_main", BGW_MAXLEN);
	strlcpy(worker.bgw_name, "pg_outbox launcher", BGW_MAXLEN);
	strlcpy(worker.bgw_type, "pg_outbox launcher", BGW_MAXLEN);
	RegisterBackgroundWorker(&worker);
}

/* Is the database named in pg_outbox.databases (or is the list empty)? */
static bool
database_is_served(const char *name)
{
	char	   *raw;
	List	   *names;
	ListCell   *lc;
	bool		served = false;

	if (outbox_databases == NULL || outbox_databases[0] == '\0')
		return true;
	raw = pstrdup(outbox_databases);
	if (!SplitIdentifierString(raw, ',', &names))
		return false;			/* the check hook rejects this; be safe */
	foreach(lc, names)
	{
		if (strcmp((char *) lfirst(lc), name) == 0)
			served = true;
	}
	return served;
}

/* The databases to serve, allocated in the caller's memory context. */
static List *
databases_to_serve(void)
{
	MemoryContext caller = CurrentMemoryContext;
	List	   *result = NIL;
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tup;

	StartTransactionCommand();
	rel = table_open(DatabaseRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);
	while (HeapTupleIsValid(tup = heap_getnext(scan, ForwardScanDirection)))
	{
		Form_pg_database db = (Form_pg_database) GETSTRUCT(tup);
		MemoryContext old;
		DatabaseEntry *entry;

		if (db->datistemplate || !db->datallowconn)
			continue;
		if (!database_is_served(NameStr(db->datname)))
			continue;
		old = MemoryContextSwitchTo(caller);
		entry = palloc(sizeof(DatabaseEntry));
		entry->dboid = db->oid;
		strlcpy(entry->name, NameStr(db->datname), NAMEDATALEN);
		result = lappend(result, entry);
		MemoryContextSwitchTo(old);
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	CommitTransactionCommand();
	return result;
}

/*
 * Find the slot of a database; with "claim", take a free one.  Caller holds
 * the slots lock.
 */
static OutboxSchedulerSlot *
slot_for_database(Oid dboid, bool claim)
{
	int			i;
	OutboxSchedulerSlot *free_slot = NULL;

	for (i = 0; i < outbox_max_databases; i++)
	{
		OutboxSchedulerSlot *slot = &OutboxShared->schedulers[i];

		if (slot->dboid == dboid)
			return slot;
		if (slot->dboid == InvalidOid && free_slot == NULL)
			free_slot = slot;
	}
	if (claim && free_slot)
	{
		free_slot->dboid = dboid;
		free_slot->pid = 0;
		free_slot->last_start = 0;
		free_slot->last_exit = 0;
		free_slot->last_warning = 0;
	}
	return claim ? free_slot : NULL;
}

static void
start_scheduler(DatabaseEntry *db, TimestampTz now)
{
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;
	OutboxSchedulerSlot *slot;
	bool		running;

	SpinLockAcquire(&OutboxShared->scheduler_lock);
	slot = slot_for_database(db->dboid, true);
	if (slot == NULL)
	{
		SpinLockRelease(&OutboxShared->scheduler_lock);
		ereport(WARNING,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("pg_outbox cannot serve database \"%s\": all %d scheduler slots are in use",
						db->name, outbox_max_databases),
				 errhint("Raise \"pg_outbox.max_databases\" (needs a restart) or list the databases to serve in \"pg_outbox.databases\".")));
		return;
	}
	running = slot->pid != 0 || slot->starting;
	if (running ||
		(slot->last_exit != 0 &&
		 !TimestampDifferenceExceeds(slot->last_exit, now, outbox_restart_interval * 1000)))
	{
		SpinLockRelease(&OutboxShared->scheduler_lock);
		return;
	}
	slot->starting = true;
	slot->last_start = now;
	SpinLockRelease(&OutboxShared->scheduler_lock);

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	strlcpy(worker.bgw_library_name, "pg_outbox", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, "outbox_scheduler_main", BGW_MAXLEN);
	snprintf(worker.bgw_name, BGW_MAXLEN, "pg_outbox scheduler for database %s", db->name);
	strlcpy(worker.bgw_type, "pg_outbox scheduler", BGW_MAXLEN);
	worker.bgw_main_arg = ObjectIdGetDatum(db->dboid);
	worker.bgw_notify_pid = MyProcPid;

	if (!RegisterDynamicBackgroundWorker(&worker, &handle))
	{
		bool		warn;

		SpinLockAcquire(&OutboxShared->scheduler_lock);
		slot->starting = false;
		slot->last_exit = now;
		/* say it once a minute per database, not at every scan */
		warn = slot->last_warning == 0 || TimestampDifferenceExceeds(slot->last_warning, now, 60 * 1000);
		if (warn)
			slot->last_warning = now;
		SpinLockRelease(&OutboxShared->scheduler_lock);
		if (warn)
			ereport(WARNING,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("pg_outbox could not start a scheduler for database \"%s\": no background worker slot is free",
						db->name),
				 errhint("Raise \"max_worker_processes\" (needs a restart).")));
	}
}

/*
 * A scheduler that was registered but never got to claim its slot (it
 * failed to start, or exited early) leaves "starting" set; clear it once
 * the worker is known to be gone, so the throttle applies and it is retried.
 */
static void
reap_stale_starts(TimestampTz now)
{
	int			i;

	SpinLockAcquire(&OutboxShared->scheduler_lock);
	for (i = 0; i < outbox_max_databases; i++)
	{
		OutboxSchedulerSlot *slot = &OutboxShared->schedulers[i];

		if (slot->starting && slot->pid == 0 &&
			TimestampDifferenceExceeds(slot->last_start, now, 60 * 1000))
		{
			slot->starting = false;
			slot->last_exit = now;
		}
		else if (slot->pid != 0 && kill(slot->pid, 0) != 0 && errno == ESRCH)
		{
			/* exited without clearing its slot (it cannot, after a crash) */
			slot->pid = 0;
			slot->starting = false;
			slot->last_exit = now;
		}
	}
	SpinLockRelease(&OutboxShared->scheduler_lock);
}

void
outbox_launcher_main(Datum main_arg)
{
	MemoryContext loop_cxt;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	BackgroundWorkerInitializeConnection(NULL, NULL, 0);
	pgstat_report_appname("pg_outbox launcher");
	OutboxShared->launcher_pid = MyProcPid;

	loop_cxt = AllocSetContextCreate(TopMemoryContext, "pg_outbox launcher loop",
									 ALLOCSET_DEFAULT_SIZES);
	ereport(LOG, (errmsg("pg_outbox launcher started")));

	for (;;)
	{
		MemoryContext old = MemoryContextSwitchTo(loop_cxt);
		TimestampTz now = GetCurrentTimestamp();
		List	   *dbs;
		ListCell   *lc;

		reap_stale_starts(now);
		dbs = databases_to_serve();
		foreach(lc, dbs)
			start_scheduler((DatabaseEntry *) lfirst(lc), now);

		MemoryContextSwitchTo(old);
		MemoryContextReset(loop_cxt);

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 outbox_launcher_interval, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
	}
}
