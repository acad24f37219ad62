/*-------------------------------------------------------------------------
 *
 * pg_outbox.c
 *	  Module entry point: _PG_init, every GUC of pg_outbox, and the hooks.
 *
 * All GUCs live here, in one place, under the reserved prefix "pg_outbox".
 * Shared-memory sizing would be PGC_POSTMASTER; worker behaviour is
 * PGC_SIGHUP; limits that a session may lower for itself are PGC_USERSET
 * or PGC_SUSET.  Each room then gets its own init call for the rest (hooks,
 * callbacks, worker registration).
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/pg_outbox.c
 *
 *-------------------------------------------------------------------------
 */
#include "pg_outbox.h"

#include "bus/bus.h"
#include "pattern/pattern.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"
#if PG_VERSION_NUM < 150000
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/tuplestore.h"
#endif

#include "core/shmem.h"
#include "utils/varlena.h"
#include "worker/worker.h"

PG_MODULE_MAGIC;

int			outbox_max_message_size_limit = 1048576;
int			outbox_max_receive_batch = 1000;
int			outbox_max_send_batch = 1000;
int			outbox_purge_interval = 60;
int			outbox_max_queues = 4096;
char	   *outbox_region = NULL;
char	   *outbox_account_id = NULL;
bool		outbox_preloaded = false;
int			outbox_max_databases = 16;
char	   *outbox_databases = NULL;
int			outbox_launcher_interval = 10000;
int			outbox_restart_interval = 10;
int			outbox_maintenance_interval = 1000;

void		_PG_init(void);

static bool
check_account_id(char **newval, void **extra, GucSource source)
{
	const char *p;

	for (p = *newval; *p; p++)
	{
		if (*p < '0' || *p > '9')
		{
			GUC_check_errdetail("The account id must consist of digits only.");
			return false;
		}
	}
	if (p - *newval != 12)
	{
		GUC_check_errdetail("The account id must be exactly 12 digits long.");
		return false;
	}
	return true;
}

static bool
check_region(char **newval, void **extra, GucSource source)
{
	const char *p;

	if (**newval == '\0')
	{
		GUC_check_errdetail("The region must not be empty.");
		return false;
	}
	for (p = *newval; *p; p++)
	{
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
		{
			GUC_check_errdetail("The region may only contain lower-case letters, digits, \"-\" and \"_\".");
			return false;
		}
	}
	return true;
}

static bool
check_databases(char **newval, void **extra, GucSource source)
{
	char	   *raw = pstrdup(*newval);
	List	   *names;

	if (!SplitIdentifierString(raw, ',', &names))
	{
		GUC_check_errdetail("List syntax is invalid: give database names separated by commas.");
		pfree(raw);
		list_free(names);
		return false;
	}
	pfree(raw);
	list_free(names);
	return true;
}

void
_PG_init(void)
{
	outbox_preloaded = process_shared_preload_libraries_in_progress;

	DefineCustomIntVariable("pg_outbox.max_message_size",
							"Largest message, in bytes, that any queue may accept.",
							"Counts the body plus message attribute names, types and values, "
							"as SQS does.  A queue's MaximumMessageSize may not exceed it.",
							&outbox_max_message_size_limit,
							1048576, 1024, 64 * 1024 * 1024,
							PGC_SUSET, GUC_UNIT_BYTE,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_outbox.max_receive_batch",
							"Largest max_number_of_messages accepted by receive_message.",
							"SQS allows at most 10; pg_outbox allows larger batches up to this cap.",
							&outbox_max_receive_batch,
							1000, 1, 100000,
							PGC_USERSET, 0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_outbox.max_send_batch",
							"Largest number of entries in one send_message_batch call.",
							"SQS allows at most 10; pg_outbox allows larger batches up to this cap.",
							&outbox_max_send_batch,
							1000, 1, 100000,
							PGC_USERSET, 0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_outbox.purge_interval",
							"Minimum time between two purge_queue calls on one queue.",
							"SQS refuses a second purge within 60 seconds; 0 disables the check.",
							&outbox_purge_interval,
							60, 0, 3600,
							PGC_SUSET, GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomStringVariable("pg_outbox.region",
							   "Region part of the ARNs pg_outbox shows (QueueArn, TopicArn, ...).",
							   NULL,
							   &outbox_region,
							   "local",
							   PGC_SUSET, 0,
							   check_region, NULL, NULL);

	DefineCustomStringVariable("pg_outbox.account_id",
							   "Account part of the ARNs pg_outbox shows.",
							   "Twelve digits, as in AWS.",
							   &outbox_account_id,
							   "000000000000",
							   PGC_SUSET, 0,
							   check_account_id, NULL, NULL);

	/*
	 * Shared-memory sizes can only be defined while preloading: a library
	 * loaded later (no shared_preload_libraries, e.g. a managed service)
	 * may not create PGC_POSTMASTER settings, and has no shared memory to
	 * size anyway.
	 */
	if (process_shared_preload_libraries_in_progress)
	{
		DefineCustomIntVariable("pg_outbox.max_queues",
								"Most queues whose receive position is kept in shared memory.",
								"Queues beyond this still work, but a long-running transaction elsewhere slows their receives.",
								&outbox_max_queues,
								4096, 16, 1000000,
								PGC_POSTMASTER, 0,
								NULL, NULL, NULL);

		DefineCustomIntVariable("pg_outbox.max_databases",
								"Most databases the pg_outbox launcher serves at once.",
								"Each served database uses one background worker (its scheduler).",
								&outbox_max_databases,
								16, 1, 1024,
								PGC_POSTMASTER, 0,
								NULL, NULL, NULL);
	}

	DefineCustomStringVariable("pg_outbox.databases",
							   "Databases the pg_outbox launcher serves; empty means every database.",
							   "A comma-separated list of database names.",
							   &outbox_databases,
							   "",
							   PGC_SIGHUP, 0,
							   check_databases, NULL, NULL);

	DefineCustomIntVariable("pg_outbox.launcher_interval",
							"How often the launcher looks for databases to serve.",
							NULL,
							&outbox_launcher_interval,
							10000, 100, 3600 * 1000,
							PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_outbox.restart_interval",
							"Shortest time between two starts of the scheduler of one database.",
							"Keeps a database whose scheduler keeps failing from spinning.",
							&outbox_restart_interval,
							10, 1, 3600,
							PGC_SIGHUP, GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_outbox.maintenance_interval",
							"How often each scheduler runs queue maintenance (retention, redrive).",
							NULL,
							&outbox_maintenance_interval,
							1000, 10, 3600 * 1000,
							PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_outbox.max_workers",
							"Pooled workers per database that run invocations and event source mappings.",
							NULL,
							&outbox_max_workers,
							2, 1, OUTBOX_MAX_WORKERS_PER_DB,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_outbox.worker_idle_timeout",
							"How long a pooled worker without work waits before it exits.",
							NULL,
							&outbox_worker_idle_timeout,
							10, 1, 3600,
							PGC_SIGHUP, GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_outbox.xmin_warning_age",
							"Warn when a snapshot this old holds back the xmin horizon (0: never).",
							NULL,
							&outbox_xmin_warning_age,
							600, 0, 86400 * 7,
							PGC_SIGHUP, GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_outbox.max_rules_per_bus",
							"Most rules an event bus may have.",
							"EventBridge's default quota is 300.",
							&outbox_max_rules_per_bus,
							300, 1, 100000,
							PGC_SUSET, 0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_outbox.max_event_pattern_length",
							"Longest accepted event pattern, in characters of compact JSON.",
							"EventBridge's default quota is 2048.",
							&outbox_max_event_pattern_length,
							2048, 2, 1024 * 1024,
							PGC_SUSET, 0,
							NULL, NULL, NULL);

	MarkGUCPrefixReserved("pg_outbox");

	if (outbox_preloaded)
	{
		outbox_shmem_install_hooks();
		outbox_worker_register_launcher();
	}

	outbox_queue_init();
	outbox_worker_init();
	outbox_topic_init();
	outbox_bus_init();
	outbox_sfn_init();
}

#if PG_VERSION_NUM < 150000
/* PostgreSQL 14: what InitMaterializedSRF does in 15 and later. */
void
outbox_init_materialized_srf(FunctionCallInfo fcinfo, int flags)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext old;
	TupleDesc	desc;

	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) ||
		(rsinfo->allowedModes & SFRM_Materialize) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("set-valued function called in context that cannot accept a set")));
	old = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	if (flags & MAT_SRF_USE_EXPECTED_DESC)
		desc = CreateTupleDescCopy(rsinfo->expectedDesc);
	else if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	if (flags & MAT_SRF_BLESS)
		BlessTupleDesc(desc);
	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setResult = tuplestore_begin_heap(true, false, work_mem);
	rsinfo->setDesc = desc;
	MemoryContextSwitchTo(old);
}
#endif
