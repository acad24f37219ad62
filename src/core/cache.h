/*-------------------------------------------------------------------------
 *
 * cache.h
 *	  Invalidation of the per-backend metadata caches.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/core/cache.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef OUTBOX_CACHE_H
#define OUTBOX_CACHE_H

typedef void (*OutboxCacheResetCallback) (void);

extern void outbox_cache_register_reset(OutboxCacheResetCallback callback);
extern void outbox_cache_watch_relation(Oid relid);

#endif							/* OUTBOX_CACHE_H */
