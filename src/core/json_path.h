/*-------------------------------------------------------------------------
 *
 * json_path.h
 *	  A small JSONPath (EventBridge's and the States Language's subset).
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/core/json_path.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef OUTBOX_JSON_PATH_H
#define OUTBOX_JSON_PATH_H

#include "utils/jsonb.h"

#define OUTBOX_PATH_MAX		256

typedef struct OutboxPathStep
{
	char	   *name;			/* NULL: an index or a wildcard */
	int			index;			/* -1: wildcard */
} OutboxPathStep;

typedef struct OutboxPath
{
	int			nsteps;
	OutboxPathStep *steps;
	bool		wildcard;		/* the result is an array of matches */
} OutboxPath;

/* Parse "$..."; errors (22023) name "field". */
extern void outbox_path_parse(const char *text, const char *field, OutboxPath *out);
/* The value the path selects in doc; NULL for nothing. */
extern Jsonb *outbox_path_eval(OutboxPath *path, Jsonb *doc);

#endif							/* OUTBOX_JSON_PATH_H */
