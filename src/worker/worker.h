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

/* One scheduler slot per served database, in shared memory. */
typedef struct OutboxSchedulerSlot
{
	Oid			dboid;			/* InvalidOid: free */
	pid_t		pid;			/* 0: not running */
	bool		starting;		/* registered, not yet claimed */
	TimestampTz last_start;
	TimestampTz last_exit;
	TimestampTz last_warning;	/* last "no worker slot" warning */
} OutboxSchedulerSlot;

/* GUCs (pg_outbox.c) */
extern int	outbox_max_databases;
extern char *outbox_databases;
extern int	outbox_launcher_interval;	/* ms */
extern int	outbox_restart_interval;	/* s */
extern int	outbox_maintenance_interval;	/* ms */

extern void outbox_worker_register_launcher(void);

#endif							/* OUTBOX_WORKER_H */
