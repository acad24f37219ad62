/*-------------------------------------------------------------------------
 *
 * queue_shared.c
 *	  The per-queue entry in shared memory: the queue's low-water mark
 *	  (queue_cursor.c) and its approximate counters (queue_stats.c).
 *
 * A shared hash table keyed by (database, queue id), sized by
 * pg_outbox.max_queues.  An entry is made on first use and lives until the
 * server stops; its "incarnation" is the queue's created_at, so a queue id
 * that comes back in a re-created extension starts from a clean entry.
 * When the table is full, queue_shared_get returns NULL and callers fall
 * back to the slow but correct path (scan from 0, count rows).
 *
 * Locking: AddinShmemInitLock guards the hash table itself (shared to
 * find, exclusive to insert); each entry's spinlock guards its fields.
 * Each backend finds a queue's entry once per fill of its queue cache and
 * keeps the pointer in the cached QueueInfo.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/queue/queue_shared.c
 *
 *-------------------------------------------------------------------------
 */
#include "pg_outbox.h"

#include "miscadmin.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/hsearch.h"

#include "queue/queue.h"

static HTAB *queue_shared = NULL;

Size
queue_shared_shmem_size(void)
{
	return add_size(hash_estimate_size(outbox_max_queues, sizeof(QueueShared)),
					queue_cursor_shmem_size());
}

void
queue_shared_shmem_init(void)
{
	HASHCTL		ctl;

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(QueueSharedKey);
	ctl.entrysize = sizeof(QueueShared);
	queue_shared = ShmemInitHash("pg_outbox queues", outbox_max_queues, outbox_max_queues,
								 &ctl, HASH_ELEM | HASH_BLOBS);
	queue_cursor_shmem_init();
}

static void
reset_entry(QueueShared *entry, TimestampTz incarnation)
{
	entry->incarnation = incarnation;
	entry->low = 0;
	entry->generation++;
	memset(&entry->counters, 0, sizeof(entry->counters));
}

QueueShared *
queue_shared_get(QueueInfo *q)
{
	QueueSharedKey key;
	QueueShared *entry;
	bool		found;

	/*
	 * The cache entry remembers its shared entry: entries are never freed
	 * while the server runs, and the queue's incarnation was checked when
	 * it was found.
	 */
	if (q->shared_known)
		return q->shared;
	if (queue_shared == NULL)
		return NULL;
	memset(&key, 0, sizeof(key));
	key.dboid = MyDatabaseId;
	key.queue_id = q->queue_id;

	LWLockAcquire(AddinShmemInitLock, LW_SHARED);
	entry = hash_search(queue_shared, &key, HASH_FIND, NULL);
	LWLockRelease(AddinShmemInitLock);
	if (entry == NULL)
	{
		LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
		entry = hash_search(queue_shared, &key, HASH_ENTER_NULL, &found);
		if (entry && !found)
		{
			SpinLockInit(&entry->mutex);
			entry->generation = 0;
			reset_entry(entry, q->created_at);
		}
		LWLockRelease(AddinShmemInitLock);
		if (entry == NULL)
			return NULL;
	}

	SpinLockAcquire(&entry->mutex);
	if (entry->incarnation != q->created_at)
		reset_entry(entry, q->created_at);
	SpinLockRelease(&entry->mutex);
	return entry;
}
