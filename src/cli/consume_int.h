/*-------------------------------------------------------------------------
 *
 * consume_int.h
 *	  What consume.c shares with batch.c: the stop flag, receiving with
 *	  cancel and reconnect, settling messages in batches.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/cli/consume_int.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef OUTBOX_CONSUME_INT_H
#define OUTBOX_CONSUME_INT_H

#include <signal.h>
#include <spawn.h>

#include "cli.h"

extern char **environ;

typedef struct ConsumeSettings
{
	int			visibility;
	int			wait;
	bool		exit_when_empty;
} ConsumeSettings;

extern double consume_now(void);
extern void consume_sleep_ms(int ms);
extern bool consume_stop_requested(void);
extern void consume_request_stop(void);
extern PGresult *consume_receive(PGconn **conn, const char *queue, int n, int visibility, int wait);
extern void consume_settle(PGconn **conn, const char *queue, char **handles, int n, int visibility);
extern void consume_spawnattr(posix_spawnattr_t *attr, const sigset_t *oldmask);
extern int	consume_batch(const char *queue, char **command, ConsumeSettings *cs);

#endif							/* OUTBOX_CONSUME_INT_H */
