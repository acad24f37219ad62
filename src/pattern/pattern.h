/*-------------------------------------------------------------------------
 *
 * pattern.h
 *	  The pattern room's interface: EventBridge event patterns and SNS
 *	  filter policies, compiled into one matcher per set of rules.
 *
 * A caller (a bus's rules, a topic's subscriptions, or the SQL test
 * functions) builds a PatternSet once, adds every pattern with an index of
 * its own choosing, freezes it, and then matches any number of events
 * against it.  A set lives in its own memory context: delete the context
 * (pattern_set_free) when the rules change.  Matching allocates only in a
 * scratch context that is reset before it returns.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/pattern/pattern.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef OUTBOX_PATTERN_H
#define OUTBOX_PATTERN_H

#include "utils/jsonb.h"

/* Which language a pattern is written in, and what it is matched against. */
typedef enum PatternDialect
{
	PATTERN_EVENTBRIDGE,		/* event pattern, matched against an event */
	PATTERN_SNS_ATTRIBUTES,		/* filter policy on typed message attributes */
	PATTERN_SNS_BODY			/* filter policy on a JSON message body */
} PatternDialect;

typedef struct PatternSet PatternSet;

/* GUC: longest accepted event pattern, in characters (compact JSON). */
extern int	outbox_max_event_pattern_length;

/* Raise 22023 naming the path and the reason when the pattern is invalid. */
extern void pattern_validate(Jsonb *pattern, PatternDialect dialect);

extern PatternSet *pattern_set_create(MemoryContext parent, PatternDialect dialect);
extern void pattern_set_add(PatternSet *set, Jsonb *pattern, int index);
extern void pattern_set_freeze(PatternSet *set);
extern void pattern_set_free(PatternSet *set);
extern int	pattern_set_size(PatternSet *set);

/*
 * Match one event (or attribute object, for PATTERN_SNS_ATTRIBUTES) against
 * every pattern in the set.  The indexes of the matching patterns are
 * written to matched[] in ascending order, without duplicates; matched must
 * have room for as many entries as patterns were added.  Returns the count.
 * An event that is not an object matches nothing.
 */
extern int	pattern_set_match(PatternSet *set, Jsonb *event, int *matched);

#endif							/* OUTBOX_PATTERN_H */
