/*-------------------------------------------------------------------------
 *
 * cache.c
 *	  Invalidation of the per-backend metadata caches (queues, grants,
 *	  subscriptions, rules, state machines).
 *
 * Each room keeps what it reads on every call (a queue's attributes and
 * grants, a topic's compiled filter policies, ...) in a backend-local cache.
 * The metadata tables carry a statement-level trigger, outbox._invalidate_cache,
 * that calls CacheInvalidateRelcache on the table; every backend (and worker)
 * then receives a relcache invalidation for it, at the latest when it next
 * starts a transaction or takes a lock.  The relcache callback registered
 * here resets every room's cache when one of the watched tables -- or
 * everything, relid = InvalidOid -- is invalidated.  A cache is rebuilt
 * lazily on next use, so a reset is cheap.  This is pg_cron's scheme
 * (job_metadata.c).
 *
 * Within the changing transaction the invalidation is applied at the next
 * CommandCounterIncrement, so a queue created earlier in the same
 * transaction is seen by the next statement.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/core/cache.c
 *
 *-------------------------------------------------------------------------
 */
#include "pg_outbox.h"

#include "commands/trigger.h"
#include "fmgr.h"
#include "utils/inval.h"
#include "utils/rel.h"

#include "core/cache.h"
#include "core/security.h"

#define MAX_RESET_CALLBACKS 16
#define MAX_WATCHED_RELATIONS 32

static OutboxCacheResetCallback reset_callbacks[MAX_RESET_CALLBACKS];
static int	n_reset_callbacks = 0;
static Oid	watched_relations[MAX_WATCHED_RELATIONS];
static int	n_watched_relations = 0;
static bool relcache_callback_registered = false;

static void
reset_all(void)
{
	int			i;

	for (i = 0; i < n_reset_callbacks; i++)
		reset_callbacks[i] ();
	n_watched_relations = 0;
	outbox_security_reset_cache();
}

static void
outbox_relcache_callback(Datum arg, Oid relid)
{
	int			i;

	if (!OidIsValid(relid))
	{
		reset_all();
		return;
	}
	for (i = 0; i < n_watched_relations; i++)
	{
		if (watched_relations[i] == relid)
		{
			reset_all();
			return;
		}
	}
}

void
outbox_cache_register_reset(OutboxCacheResetCallback callback)
{
	if (!relcache_callback_registered)
	{
		CacheRegisterRelcacheCallback(outbox_relcache_callback, (Datum) 0);
		relcache_callback_registered = true;
	}
	if (n_reset_callbacks >= MAX_RESET_CALLBACKS)
		elog(ERROR, "too many pg_outbox cache reset callbacks");
	reset_callbacks[n_reset_callbacks++] = callback;
}

/*
 * Remember that the caches depend on this relation.  Called while a cache is
 * being filled; the list is cleared with the caches.
 */
void
outbox_cache_watch_relation(Oid relid)
{
	int			i;

	for (i = 0; i < n_watched_relations; i++)
		if (watched_relations[i] == relid)
			return;
	if (n_watched_relations < MAX_WATCHED_RELATIONS)
		watched_relations[n_watched_relations++] = relid;
}

PG_FUNCTION_INFO_V1(outbox_invalidate_cache);
Datum
outbox_invalidate_cache(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("outbox._invalidate_cache() must be called as a trigger")));

	CacheInvalidateRelcache(trigdata->tg_relation);

	return PointerGetDatum(NULL);
}
