/*-------------------------------------------------------------------------
 *
 * scheduler.c
 *	  The per-database pg_outbox scheduler: runs the due work of every room
 *	  in its database, each batch in a transaction of its own.
 *
 * Started by the launcher with the database OID in bgw_main_arg.  It claims
 * its database's slot (leaving at once if another scheduler holds it), and
 * clears the slot when it exits, however it exits.  It then loops:
 *
 *	  run due work  ->  sleep on the latch (pg_outbox.maintenance_interval)
 *
 * Due work today is the queue room's maintenance (retention, deduplication
 * windows, redrive tasks: src/queue/queue_maint.c).  It runs through the
 * SQL entry point outbox.run_queue_maintenance, which itself switches to the
 * extension owner for table access, so no user code runs here.  If the
 * extension is not installed in the database the scheduler exits cleanly
 * (proc_exit(0)); the launcher retries after pg_outbox.restart_interval,
 * which is how a later CREATE EXTENSION is noticed.  A DROP EXTENSION is
 * noticed on the next iteration the same way.
 *
 * Each transaction follows the fixed order: statement timestamp, start,
 * SPI_connect, snapshot, activity report, the work, SPI_finish, snapshot
 * pop, commit, statistics, idle.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/worker/scheduler.c
 *
 *-------------------------------------------------------------------------
 */
#include "pg_outbox.h"

#include "access/xact.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "core/shmem.h"
#include "worker/worker.h"

PGDLLEXPORT void outbox_scheduler_main(Datum main_arg);

static OutboxSchedulerSlot *my_slot = NULL;

static void
release_slot(int code, Datum arg)
{
	if (my_slot == NULL)
		return;
	SpinLockAcquire(&OutboxShared->scheduler_lock);
	if (my_slot->pid == MyProcPid)
	{
		my_slot->pid = 0;
		my_slot->starting = false;
		my_slot->last_exit = GetCurrentTimestamp();
	}
	SpinLockRelease(&OutboxShared->scheduler_lock);
	my_slot = NULL;
}

static bool
claim_slot(Oid dboid)
{
	int			i;

	SpinLockAcquire(&OutboxShared->scheduler_lock);
	for (i = 0; i < outbox_max_databases; i++)
	{
		OutboxSchedulerSlot *slot = &OutboxShared->schedulers[i];

		if (slot->dboid != dboid)
			continue;
		if (slot->pid != 0 && slot->pid != MyProcPid)
			break;				/* another scheduler serves this database */
		slot->pid = MyProcPid;
		slot->starting = false;
		my_slot = slot;
		break;
	}
	SpinLockRelease(&OutboxShared->scheduler_lock);
	return my_slot != NULL;
}

/*
 * One iteration of due work.  Returns false when the extension is not
 * installed in this database.
 */
static bool
run_due_work(void)
{
	bool		installed;
	int			rc;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "pg_outbox: queue maintenance");

	installed = OidIsValid(get_extension_oid("pg_outbox", true));
	if (installed)
	{
		rc = SPI_execute("SELECT outbox.run_queue_maintenance(0.5)", false, 0);
		if (rc != SPI_OK_SELECT)
			elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(rc));
	}

	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_stat(false);
	pgstat_report_activity(STATE_IDLE, NULL);
	return installed;
}

void
outbox_scheduler_main(Datum main_arg)
{
	Oid			dboid = DatumGetObjectId(main_arg);

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	if (!claim_slot(dboid))
		proc_exit(0);
	before_shmem_exit(release_slot, (Datum) 0);

	BackgroundWorkerInitializeConnectionByOid(dboid, InvalidOid, 0);
	pgstat_report_appname("pg_outbox scheduler");
	ProcessConfigFile(PGC_SIGHUP);

	for (;;)
	{
		if (!run_due_work())
		{
			ereport(DEBUG1,
					(errmsg_internal("pg_outbox is not installed in this database; scheduler exits")));
			proc_exit(0);
		}

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 outbox_maintenance_interval, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
	}
}
