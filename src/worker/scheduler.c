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
 *	  queue maintenance (every pg_outbox.maintenance_interval)
 *	  -> look for work: due items, queues with event source mappings
 *	     holding visible messages -> wake or start a pooled worker (pool.c)
 *	  -> sleep on the latch until the next maintenance, the earliest due
 *	     item, or a wake-up sent at commit
 *
 * The scheduler runs no user code itself: items and mapping batches run in
 * the pooled workers.  With its housekeeping it also looks at the xmin
 * horizon and at the queue tables, and warns (at most every ten minutes)
 * when an old snapshot, a pile of dead rows or a blocked autovacuum keeps
 * the queues from being vacuumed: the known death spiral of queues in
 * PostgreSQL.
 *
 * Queue maintenance (retention, deduplication windows, redrive tasks:
 * src/queue/queue_maint.c) runs through the
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
#include "catalog/pg_type.h"
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

#include "core/clock.h"
#include "core/shmem.h"
#include "worker/worker_int.h"

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
		my_slot->latch = NULL;
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
		slot->latch = MyLatch;
		slot->state_since = GetCurrentTimestamp();
		my_slot = slot;
		break;
	}
	SpinLockRelease(&OutboxShared->scheduler_lock);
	return my_slot != NULL;
}

int			outbox_xmin_warning_age = 600;

/*
 * Warn (at most every ten minutes) when a snapshot older than
 * pg_outbox.xmin_warning_age holds back the xmin horizon: dead messages
 * cannot be vacuumed meanwhile, and queue tables swell.
 */
static void
check_xmin_horizon(void)
{
	static TimestampTz last_warning = 0;
	TimestampTz now = GetCurrentTimestamp();
	Datum		arg = Int32GetDatum(outbox_xmin_warning_age);
	Oid			argtype = INT4OID;

	if (outbox_xmin_warning_age <= 0 || now - last_warning < 600 * USECS_PER_SEC)
		return;
	if (SPI_execute_with_args("SELECT 'backend ' || pid || ' (' || coalesce(usename, '?') || ', '"
							  " || coalesce(state, '?') || ')', extract(epoch FROM now() - xact_start)::bigint"
							  " FROM pg_stat_activity WHERE backend_xmin IS NOT NULL AND pid <> pg_backend_pid()"
							  " AND xact_start < now() - make_interval(secs => $1)"
							  " UNION ALL SELECT 'prepared transaction ' || quote_literal(gid),"
							  " extract(epoch FROM now() - prepared)::bigint FROM pg_prepared_xacts"
							  " WHERE prepared < now() - make_interval(secs => $1)"
							  " ORDER BY 2 DESC LIMIT 1",
							  1, &argtype, &arg, NULL, true, 1) == SPI_OK_SELECT && SPI_processed == 1)
	{
		char	   *who = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		char	   *secs = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);

		last_warning = now;
		ereport(WARNING,
				(errmsg("pg_outbox: %s has held a snapshot for %s seconds; dead queue messages cannot be vacuumed meanwhile",
						who, secs),
				 errhint("End long transactions and idle-in-transaction sessions (see idle_in_transaction_session_timeout); queue tables grow until they end.")));
	}
}

/*
 * Warn (at most every ten minutes) when a queue table piles up dead rows
 * that vacuum is not removing, or when an autovacuum worker on a queue
 * table has been waiting for a lock: both end in bloated, slow queues.
 */
static void
check_queue_tables(void)
{
	static TimestampTz last_warning = 0;
	TimestampTz now = GetCurrentTimestamp();

	if (outbox_xmin_warning_age <= 0 || now - last_warning < 600 * USECS_PER_SEC)
		return;
	if (SPI_execute("SELECT format('table %s has %s dead rows beside %s live ones (last vacuum %s)',"
					" s.relid::regclass, s.n_dead_tup, s.n_live_tup,"
					" coalesce(greatest(s.last_vacuum, s.last_autovacuum)::text, 'never'))"
					" FROM pg_stat_all_tables s WHERE s.schemaname = 'outbox'"
					" AND s.relname IN ('message', 'message_unlogged', 'due_item')"
					" AND s.n_dead_tup > greatest(1000000, 4 * s.n_live_tup)"
					" UNION ALL SELECT format('autovacuum worker %s has waited %s s for a lock (%s)', a.pid,"
					" extract(epoch FROM now() - a.state_change)::bigint, left(a.query, 60))"
					" FROM pg_stat_activity a WHERE a.backend_type = 'autovacuum worker'"
					" AND a.wait_event_type = 'Lock' AND a.query LIKE '%outbox.%'"
					" AND a.state_change < now() - interval '1 minute'"
					" LIMIT 1", true, 1) == SPI_OK_SELECT && SPI_processed == 1)
	{
		last_warning = now;
		ereport(WARNING,
				(errmsg("pg_outbox: %s; queue tables are not being vacuumed",
						SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1)),
				 errhint("Look for long transactions, locks held on outbox tables, and autovacuum settings (autovacuum_vacuum_cost_limit, autovacuum_naptime).")));
	}
}

/*
 * Look for work in one transaction: the earliest due item (*next_due) and
 * whether a worker should run now.  Returns false when the extension is not
 * installed.
 */
static bool
look_for_work(bool *work, TimestampTz *next_due, bool maintenance, bool *maintenance_did)
{
	bool		installed;

	*work = false;
	*maintenance_did = false;
	*next_due = DT_NOEND;
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	PushActiveSnapshot(GetTransactionSnapshot());
	installed = OidIsValid(get_extension_oid("pg_outbox", true));
	if (installed)
	{
		bool		mappings;

		if (maintenance)
		{
			pgstat_report_activity(STATE_RUNNING, "pg_outbox: queue maintenance");
			worker_set_activity("queue maintenance");
			if (SPI_execute("SELECT outbox.run_queue_maintenance(0.5)", false, 0) != SPI_OK_SELECT)
				elog(ERROR, "queue maintenance failed");
			{
				bool		isnull;
				Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

				*maintenance_did = !isnull && DatumGetInt64(d) > 0;
			}
			if (SPI_execute("SELECT outbox.run_topic_maintenance(), outbox.run_bus_maintenance(),"
							" outbox.run_sfn_maintenance()", false, 0) != SPI_OK_SELECT)
				elog(ERROR, "topic, bus and state machine maintenance failed");
			check_xmin_horizon();
			check_queue_tables();
		}
		pgstat_report_activity(STATE_RUNNING, "pg_outbox: looking for work");
		*next_due = worker_next_due();
		mappings = worker_have_mappings();
		pg_atomic_write_u32(&my_slot->wake_on_send, mappings ? 1 : 0);
		*work = *next_due <= outbox_now() ||
			(mappings && worker_mapped_queues_have_messages());
		worker_set_activity(NULL);
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
	TimestampTz next_maintenance = 0;
	int			idle_rounds = 0;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	if (!claim_slot(dboid))
		proc_exit(0);
	before_shmem_exit(release_slot, (Datum) 0);
	for (int c = 0; c < 3; c++)
		pg_atomic_write_u64(&my_slot->counters[c], 0);

	BackgroundWorkerInitializeConnectionByOid(dboid, InvalidOid, 0);
	pgstat_report_appname("pg_outbox scheduler");
	ProcessConfigFile(PGC_SIGHUP);

	for (;;)
	{
		TimestampTz now = GetCurrentTimestamp();
		TimestampTz next_due;
		bool		maintenance = now >= next_maintenance;
		bool		work;
		bool		maintenance_did;
		long		timeout;

		if (!look_for_work(&work, &next_due, maintenance, &maintenance_did))
		{
			ereport(DEBUG1,
					(errmsg_internal("pg_outbox is not installed in this database; scheduler exits")));
			proc_exit(0);
		}
		worker_pool_reap(my_slot);
		if (work)
			worker_pool_dispatch(my_slot);

		/*
		 * Housekeeping that found nothing to do backs off, up to ten
		 * intervals: an idle database costs (almost) nothing.  Wake-ups at
		 * commit and due items are not delayed by it.
		 */
		if (maintenance)
		{
			idle_rounds = maintenance_did ? 0 : Min(idle_rounds + 1, 4);
			next_maintenance = now + (int64) outbox_maintenance_interval * 1000 *
				Min(1 << idle_rounds, 10);
		}

		now = GetCurrentTimestamp();
		timeout = TimestampDifferenceMilliseconds(now, next_maintenance);
		/* mapped queues also fill by time (delays, visibility timeouts) */
		if (pg_atomic_read_u32(&my_slot->wake_on_send) != 0)
			timeout = Min(timeout, outbox_maintenance_interval);
		if (next_due != DT_NOEND && !work)
		{
			/* the test clock may run ahead of the real one */
			TimestampTz clock = outbox_now();

			timeout = Min(timeout, next_due <= clock ? 0 : TimestampDifferenceMilliseconds(clock, next_due));
		}
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 Max(timeout, 1), PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
	}
}
