/*-------------------------------------------------------------------------
 *
 * pg_outbox.h
 *	  Declarations shared by every room of pg_outbox: the GUC variables,
 *	  the per-room initialisation entry points called from _PG_init, and
 *	  the few version shims we need.
 *
 * Each room (core, queue, pattern, worker, ...) keeps its own header for
 * its internal API; this file only holds what crosses rooms.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/pg_outbox.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_OUTBOX_H
#define PG_OUTBOX_H

#include "postgres.h"

/* Version shims: one line each, only for versions we build on (14-17). */
#if PG_VERSION_NUM < 150000
#define MarkGUCPrefixReserved(prefix) EmitWarningsOnPlaceholders(prefix)
#endif

#if PG_VERSION_NUM >= 160000
#define outbox_proc_aclcheck(fn, role, mode) object_aclcheck(ProcedureRelationId, (fn), (role), (mode))
#define outbox_proc_ownercheck(fn, role) object_ownercheck(ProcedureRelationId, (fn), (role))
#else
#define outbox_proc_aclcheck(fn, role, mode) pg_proc_aclcheck((fn), (role), (mode))
#define outbox_proc_ownercheck(fn, role) pg_proc_ownercheck((fn), (role))
#endif

/*
 * PostgreSQL 14 has no InitMaterializedSRF: our set-returning functions use
 * only its two flags, so a small equivalent (pg_outbox.c) stands in.
 */
#if PG_VERSION_NUM < 150000
#include "fmgr.h"
#define MAT_SRF_USE_EXPECTED_DESC	0x01
#define MAT_SRF_BLESS				0x02
extern void outbox_init_materialized_srf(FunctionCallInfo fcinfo, int flags);
#define InitMaterializedSRF(fcinfo, flags) outbox_init_materialized_srf((fcinfo), (flags))
#endif

#define OUTBOX_SCHEMA "outbox"

/* GUC variables (defined in pg_outbox.c) */
extern int	outbox_max_message_size_limit;	/* bytes */
extern int	outbox_max_receive_batch;	/* messages per receive_message call */
extern int	outbox_max_send_batch;	/* entries per send_message_batch call */
extern int	outbox_purge_interval;	/* seconds between two purges of a queue */
extern int	outbox_max_queues;	/* queue marks in shared memory */
extern char *outbox_region;
extern char *outbox_account_id;

/* Set when the library was loaded through shared_preload_libraries. */
extern bool outbox_preloaded;

/* Room initialisation, called once from _PG_init. */
extern void outbox_queue_init(void);
extern void outbox_topic_init(void);
extern void outbox_bus_init(void);
extern void outbox_sfn_init(void);

#endif							/* PG_OUTBOX_H */
