/*-------------------------------------------------------------------------
 *
 * bus.h
 *	  Internal API of the bus room (EventBridge-style event buses).
 *
 * A bus, its rules and their targets are cached per backend as one
 * BusInfo; the enabled rules' event patterns are compiled into one pattern
 * set, so put_events reads only the cache and matches each event once.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/bus/bus.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef OUTBOX_BUS_H
#define OUTBOX_BUS_H

#include "datatype/timestamp.h"
#include "utils/array.h"
#include "utils/jsonb.h"
#include "utils/tuplestore.h"

#include "core/acl.h"
#include "core/json_path.h"
#include "pattern/pattern.h"

/* EventBridge limits (see shared/reference/eventbridge.md, section 2) */
#define BUS_NAME_MAX			256
#define RULE_NAME_MAX			64
#define TARGET_ID_MAX			64
#define RULE_DESCRIPTION_MAX	512
#define RULE_MAX_TARGETS		5
#define PUT_TARGETS_MAX			10
#define PUT_EVENTS_MAX			10
#define PUT_EVENTS_MAX_BYTES	(1024 * 1024)
#define INPUT_MAX				8192
#define INPUT_PATH_MAX			256
#define INPUT_PATHS_MAP_MAX		100
#define RETRY_MAX_ATTEMPTS		185
#define RETRY_MIN_AGE			60
#define RETRY_MAX_AGE			86400
#define BUS_MAX_HOPS			5		/* bus-to-bus forwarding */

/* Privilege bits of outbox.bus_grant.privileges */
#define BUS_PRIV_PUT		0x01
#define BUS_PRIV_RULES		0x02
#define BUS_PRIV_ADMIN		0x04
#define BUS_PRIV_ALL		0x07

/* GUC */
extern int	outbox_max_rules_per_bus;

typedef enum TargetKind
{
	TARGET_QUEUE,
	TARGET_TOPIC,
	TARGET_FUNCTION,
	TARGET_BUS,
	TARGET_STATE_MACHINE
} TargetKind;

typedef enum InputKind
{
	INPUT_EVENT,				/* the whole event */
	INPUT_CONSTANT,				/* Input */
	INPUT_PATH,					/* InputPath */
	INPUT_TRANSFORMER			/* InputTransformer */
} InputKind;

typedef OutboxPath BusPath;

/* One placeholder of an input template, in order of appearance */
typedef struct TemplatePart
{
	char	   *literal;		/* text before the placeholder */
	char	   *variable;		/* NULL for the trailing literal */
	bool		in_string;		/* inside a JSON string of the template */
} TemplatePart;

typedef struct InputTransformer
{
	int			nvars;
	char	  **var_names;
	BusPath    *var_paths;
	int			nparts;
	TemplatePart *parts;
	bool		json_template;	/* the template is a JSON object or array */
} InputTransformer;

typedef struct TargetInfo
{
	char	   *id;
	char	   *arn;
	TargetKind	kind;
	char	   *endpoint;		/* queue, topic or bus name; function signature */
	Oid			function;
	InputKind	input_kind;
	char	   *input;			/* Input */
	BusPath		input_path;		/* InputPath */
	InputTransformer transformer;
	char	   *message_group_id;	/* SqsParameters.MessageGroupId */
	int			max_attempts;	/* RetryPolicy */
	int			max_age;
	char	   *dead_letter_queue;
	Jsonb	   *definition;		/* the target as put_targets stored it */
} TargetInfo;

typedef struct RuleInfo
{
	int32		rule_id;
	char	   *name;
	char	   *arn;
	char		owner[NAMEDATALEN];
	Oid			owner_oid;
	Jsonb	   *event_pattern;	/* NULL: schedule only */
	char	   *schedule;		/* NULL: pattern only */
	char	   *schedule_token;	/* the current firing's token */
	char	   *schedule_timezone;	/* NULL: UTC */
	bool		enabled;
	char	   *description;
	TimestampTz created_at;
	int			ntargets;
	TargetInfo *targets;
} RuleInfo;

typedef struct ArchiveInfo
{
	int32		archive_id;
	char	   *name;
	Jsonb	   *event_pattern;	/* NULL: every event */
} ArchiveInfo;

typedef struct BusInfo
{
	char		name[BUS_NAME_MAX + 1];	/* hash key: keep first */
	int32		bus_id;
	char	   *arn;
	char		owner[NAMEDATALEN];
	char	   *description;
	TimestampTz created_at;
	int			ngrants;
	OutboxGrant *grants;
	int			nrules;
	RuleInfo   *rules;			/* by name */
	PatternSet *patterns;		/* enabled rules with a pattern; index = rule */
	int			narchives;
	ArchiveInfo *archives;
	PatternSet *archive_patterns;	/* archives with a pattern; index = archive */
	Oid			rights_role;
	int			rights;
} BusInfo;

/* An event on its way: the envelope and what the templates need */
typedef struct BusEvent
{
	Jsonb	   *event;			/* the envelope */
	char	   *id;
	TimestampTz ingestion;
	int			hops;			/* bus-to-bus forwards so far */
	const char *replay;			/* the replay it belongs to, or NULL */
	char	  **only_rules;		/* a replay's FilterArns, as rule names */
	int			nonly_rules;
} BusEvent;

/* bus_catalog.c */
extern void bus_catalog_init(void);
extern BusInfo *bus_lookup(const char *name_or_arn, bool missing_ok);
extern char *bus_arn(const char *name);
extern char *rule_arn(const char *bus, const char *rule);
extern const char *bus_name_from_arn(const char *name_or_arn);
extern RuleInfo *bus_find_rule(BusInfo *b, const char *name);
extern void bus_check_chars(const char *name, const char *field, const char *allowed, int max);
extern void bus_check_name(const char *name, const char *field);
extern void bus_check_rule_name(const char *name);
extern int	bus_rights_of(BusInfo *b, Oid role);
extern void bus_check_rights(BusInfo *b, int privilege, const char *action);
extern void bus_check_rule_rights(BusInfo *b, RuleInfo *r, const char *action);
extern const OutboxAclKind bus_acl;

/* bus_rules.c */
extern char *bus_create(const char *name, const char *description);
extern void bus_drop(BusInfo *b);
extern char *bus_put_rule(BusInfo *b, const char *name, Jsonb *pattern, const char *schedule,
						  const char *timezone, const char *state, const char *description);
extern void bus_set_rule_state(BusInfo *b, RuleInfo *r, bool enabled);
extern void bus_delete_rule(BusInfo *b, RuleInfo *r);
extern Jsonb *bus_put_targets(BusInfo *b, RuleInfo *r, Jsonb *targets);
extern Jsonb *bus_remove_targets(BusInfo *b, RuleInfo *r, ArrayType *ids);
extern void bus_parse_target(Jsonb *definition, TargetInfo *t, bool check);

/* bus_input.c */
extern void bus_parse_transformer(JsonbContainer *def, const char *field, InputTransformer *out);
extern char *bus_target_input(RuleInfo *r, TargetInfo *t, BusEvent *e);

/* bus_events.c */
extern void bus_events_init(void);
extern char *bus_iso_seconds(TimestampTz t);
extern void bus_dispatch(BusInfo *b, BusEvent *e);
extern void bus_put_events(Jsonb *entries, Tuplestorestate *store, TupleDesc desc);
extern void bus_deliver_rule(BusInfo *b, RuleInfo *r, BusEvent *e);

/* bus_archive.c */
extern void bus_archive_init(void);
extern void bus_archive_event(BusInfo *b, BusEvent *e);
extern char *archive_arn(const char *name);

/* bus_schedule.c */
extern void bus_schedule_init(void);
extern void bus_check_schedule(const char *expr);
extern void bus_check_timezone(const char *name);
extern void bus_schedule_rule(const char *bus, const char *rule, const char *schedule, const char *timezone,
							  const char *token, Oid owner, TimestampTz after, TimestampTz anchor);

#endif							/* OUTBOX_BUS_H */
