/*-------------------------------------------------------------------------
 *
 * bus_catalog.c
 *	  The event bus cache, names and ARNs, and rights on buses and rules.
 *
 * A bus is loaded on first use with its grants, rules and targets; the
 * enabled rules' event patterns are compiled into one pattern set.  Any
 * change to the bus tables invalidates every backend's cache through the
 * relcache (core/cache.c), and each lookup first takes in pending
 * invalidations, so put_events sees the rules committed before its
 * statement began.  As in the topic room the reset only marks the cache
 * stale and the memory is freed at the next lookup: one lookup per call.
 * The loads run read-write SPI queries, which take a fresh snapshot with the
 * current command id: what an earlier call of the same statement created
 * (create_topic(...), subscribe(...) in one SELECT) is seen.
 *
 * Rights: a bus belongs to its creator (the default bus to the extension's
 * owner, with put and rules granted to PUBLIC).  put lets a role put
 * events; rules lets it keep rules of its own on the bus; admin covers
 * every rule and the bus itself.  A rule belongs to the role that put it.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/bus/bus_catalog.c
 *
 *-------------------------------------------------------------------------
 */
#include "pg_outbox.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "core/cache.h"
#include "core/security.h"
#include "core/spi_plan.h"
#include "bus/bus.h"

static HTAB *bus_cache = NULL;
static MemoryContext bus_cache_cxt = NULL;
static bool bus_cache_stale = false;
static bool bus_cache_xact_only = false;

static const OutboxPrivilege bus_privileges[] =
{
	{"put", BUS_PRIV_PUT},
	{"rules", BUS_PRIV_RULES},
	{"admin", BUS_PRIV_ADMIN},
	{"all", BUS_PRIV_ALL},
	{NULL, 0}
};

const OutboxAclKind bus_acl = {
	"event bus", bus_privileges, BUS_PRIV_ALL, BUS_PRIV_ADMIN,
	"outbox.bus_grant", "bus_id"
};

static void
bus_cache_reset(void)
{
	bus_cache_stale = true;
}

static void
bus_xact_callback(XactEvent event, void *arg)
{
	if ((event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		 event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT) &&
		bus_cache_xact_only)
	{
		bus_cache_stale = true;
		bus_cache_xact_only = false;
	}
}

void
bus_catalog_init(void)
{
	outbox_cache_register_reset(bus_cache_reset);
	RegisterXactCallback(bus_xact_callback, NULL);
}

static void
bus_cache_create(void)
{
	HASHCTL		ctl;
	Oid			nsp = get_namespace_oid(OUTBOX_SCHEMA, false);

	if (bus_cache_cxt == NULL)
		bus_cache_cxt = AllocSetContextCreate(CacheMemoryContext, "pg_outbox event bus cache",
											  ALLOCSET_DEFAULT_SIZES);
	else
		MemoryContextReset(bus_cache_cxt);
	bus_cache_stale = false;
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = BUS_NAME_MAX + 1;
	ctl.entrysize = sizeof(BusInfo);
	ctl.hcxt = bus_cache_cxt;
	bus_cache = hash_create("pg_outbox event buses", 16, &ctl, HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	outbox_cache_watch_relation(get_relname_relid("event_bus", nsp));
	outbox_cache_watch_relation(get_relname_relid("bus_grant", nsp));
	outbox_cache_watch_relation(get_relname_relid("rule", nsp));
	outbox_cache_watch_relation(get_relname_relid("rule_target", nsp));
	outbox_cache_watch_relation(get_relname_relid("archive", nsp));
}

/* ---- names and ARNs ---- */

/* 1 to max characters: letters, digits and those of "allowed" */
void
bus_check_chars(const char *name, const char *field, const char *allowed, int max)
{
	size_t		len = strlen(name);

	if (len == 0 || len > max)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid %s \"%.64s%s\": length must be between 1 and %d characters",
						field, name, len > 64 ? "..." : "", max)));
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char) name[i]) && strchr(allowed, name[i]) == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid %s \"%s\": only letters, digits and \"%s\" are allowed",
							field, name, allowed)));
}

void
bus_check_name(const char *name, const char *field)
{
	bus_check_chars(name, field, "/._-", BUS_NAME_MAX);
}

void
bus_check_rule_name(const char *name)
{
	bus_check_chars(name, "rule name", "._-", RULE_NAME_MAX);
}

char *
bus_arn(const char *name)
{
	return psprintf("arn:aws:events:%s:%s:event-bus/%s", outbox_region, outbox_account_id, name);
}

/* AWS: rule/NAME on the default bus, rule/BUS/NAME on others */
char *
rule_arn(const char *bus, const char *rule)
{
	if (strcmp(bus, "default") == 0)
		return psprintf("arn:aws:events:%s:%s:rule/%s", outbox_region, outbox_account_id, rule);
	return psprintf("arn:aws:events:%s:%s:rule/%s/%s", outbox_region, outbox_account_id, bus, rule);
}

const char *
bus_name_from_arn(const char *name_or_arn)
{
	const char *p;

	if (strncmp(name_or_arn, "arn:", 4) != 0)
		return name_or_arn;
	p = strstr(name_or_arn, ":event-bus/");
	if (p == NULL || strncmp(name_or_arn, "arn:aws:events:", 15) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid event bus ARN \"%s\"", name_or_arn),
				 errdetail("An event bus ARN has the form arn:aws:events:<region>:<account>:event-bus/<name>.")));
	return p + strlen(":event-bus/");
}

/* ---- loading ---- */

static void
load_targets(BusInfo *b)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtype = INT4OID;
	Datum		arg = Int32GetDatum(b->bus_id);

	if (plan == NULL)
		plan = outbox_prepare_plan("SELECT t.rule_id, t.target_id, t.definition FROM outbox.rule_target t"
								   " JOIN outbox.rule r USING (rule_id) WHERE r.bus_id = $1"
								   " ORDER BY t.rule_id, t.target_id", 1, &argtype);
	if (SPI_execute_plan(plan, &arg, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the targets of event bus \"%s\"", b->name);
	MemoryContextSwitchTo(bus_cache_cxt);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		int32		rule_id = outbox_spi_int(tup, desc, "rule_id");

		for (int r = 0; r < b->nrules; r++)
		{
			RuleInfo   *rule = &b->rules[r];

			if (rule->rule_id != rule_id)
				continue;
			if (rule->targets == NULL)
				rule->targets = palloc0(sizeof(TargetInfo) * RULE_MAX_TARGETS);
			if (rule->ntargets < RULE_MAX_TARGETS)
				bus_parse_target(outbox_spi_jsonb(tup, desc, "definition"),
								 &rule->targets[rule->ntargets++], false);
		}
	}
}

static void
load_archives(BusInfo *b)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtype = INT4OID;
	Datum		arg = Int32GetDatum(b->bus_id);

	if (plan == NULL)
		plan = outbox_prepare_plan("SELECT archive_id, archive_name, event_pattern FROM outbox.archive"
								   " WHERE bus_id = $1 ORDER BY archive_name", 1, &argtype);
	if (SPI_execute_plan(plan, &arg, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the archives of event bus \"%s\"", b->name);
	MemoryContextSwitchTo(bus_cache_cxt);
	b->narchives = (int) SPI_processed;
	b->archives = palloc0(sizeof(ArchiveInfo) * Max(b->narchives, 1));
	b->archive_patterns = NULL;
	for (int i = 0; i < b->narchives; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		ArchiveInfo *a = &b->archives[i];

		a->archive_id = outbox_spi_int(tup, desc, "archive_id");
		a->name = outbox_spi_text(tup, desc, "archive_name");
		a->event_pattern = outbox_spi_jsonb(tup, desc, "event_pattern");
		if (a->event_pattern)
		{
			if (b->archive_patterns == NULL)
				b->archive_patterns = pattern_set_create(bus_cache_cxt, PATTERN_EVENTBRIDGE);
			pattern_set_add(b->archive_patterns, a->event_pattern, i);
		}
	}
	if (b->archive_patterns)
		pattern_set_freeze(b->archive_patterns);
}

static BusInfo *
bus_load(const char *name)
{
	static SPIPlanPtr bus_plan = NULL;
	static SPIPlanPtr grant_plan = NULL;
	static SPIPlanPtr rule_plan = NULL;
	Datum		arg;
	HeapTuple	tup;
	TupleDesc	desc;
	BusInfo    *b;
	bool		found;
	bool		isnull;
	MemoryContext old;

	if (bus_plan == NULL)
	{
		Oid			argtype = TEXTOID;

		bus_plan = outbox_prepare_plan("SELECT * FROM outbox.event_bus WHERE bus_name = $1", 1, &argtype);
		argtype = INT4OID;
		grant_plan = outbox_prepare_plan("SELECT grantee::text, privileges FROM outbox.bus_grant"
										 " WHERE bus_id = $1 ORDER BY grantee", 1, &argtype);
		rule_plan = outbox_prepare_plan("SELECT * FROM outbox.rule WHERE bus_id = $1 ORDER BY rule_name",
										1, &argtype);
	}
	arg = CStringGetTextDatum(name);
	if (SPI_execute_plan(bus_plan, &arg, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read event bus \"%s\"", name);
	if (SPI_processed == 0)
		return NULL;

	old = MemoryContextSwitchTo(bus_cache_cxt);
	tup = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	b = hash_search(bus_cache, name, HASH_ENTER, &found);
	b->bus_id = outbox_spi_int(tup, desc, "bus_id");
	b->arn = bus_arn(name);
	strlcpy(b->owner, NameStr(*DatumGetName(outbox_spi_column(tup, desc, "owner", &isnull))), NAMEDATALEN);
	b->description = outbox_spi_text(tup, desc, "description");
	b->created_at = outbox_spi_timestamp(tup, desc, "created_at");
	b->rights_role = InvalidOid;
	b->patterns = NULL;
	b->nrules = 0;
	b->rules = NULL;

	arg = Int32GetDatum(b->bus_id);
	if (SPI_execute_plan(grant_plan, &arg, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the grants of event bus \"%s\"", name);
	MemoryContextSwitchTo(bus_cache_cxt);
	b->ngrants = (int) SPI_processed;
	b->grants = palloc0(sizeof(OutboxGrant) * Max(b->ngrants, 1));
	for (int i = 0; i < b->ngrants; i++)
	{
		strlcpy(b->grants[i].grantee, SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1),
				NAMEDATALEN);
		b->grants[i].privileges = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[i],
															  SPI_tuptable->tupdesc, 2, &isnull));
	}

	if (SPI_execute_plan(rule_plan, &arg, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the rules of event bus \"%s\"", name);
	MemoryContextSwitchTo(bus_cache_cxt);
	b->nrules = (int) SPI_processed;
	b->rules = palloc0(sizeof(RuleInfo) * Max(b->nrules, 1));
	for (int i = 0; i < b->nrules; i++)
	{
		RuleInfo   *r = &b->rules[i];

		tup = SPI_tuptable->vals[i];
		desc = SPI_tuptable->tupdesc;
		r->rule_id = outbox_spi_int(tup, desc, "rule_id");
		r->name = outbox_spi_text(tup, desc, "rule_name");
		r->arn = rule_arn(name, r->name);
		strlcpy(r->owner, NameStr(*DatumGetName(outbox_spi_column(tup, desc, "owner", &isnull))), NAMEDATALEN);
		r->owner_oid = get_role_oid(r->owner, true);
		r->event_pattern = outbox_spi_jsonb(tup, desc, "event_pattern");
		r->schedule = outbox_spi_text(tup, desc, "schedule_expression");
		r->schedule_token = outbox_spi_uuid_text(tup, desc, "schedule_token");
		r->schedule_timezone = outbox_spi_text(tup, desc, "schedule_timezone");
		r->enabled = outbox_spi_bool(tup, desc, "enabled");
		r->description = outbox_spi_text(tup, desc, "description");
		r->created_at = outbox_spi_timestamp(tup, desc, "created_at");
		if (r->enabled && r->event_pattern)
		{
			if (b->patterns == NULL)
				b->patterns = pattern_set_create(bus_cache_cxt, PATTERN_EVENTBRIDGE);
			pattern_set_add(b->patterns, r->event_pattern, i);
		}
	}
	if (b->patterns)
		pattern_set_freeze(b->patterns);
	load_targets(b);
	load_archives(b);
	MemoryContextSwitchTo(old);
	return b;
}

/*
 * Find a bus by name or ARN.  SPI must be connected (as the extension
 * owner).  The result is valid until the next lookup.
 */
BusInfo *
bus_lookup(const char *name_or_arn, bool missing_ok)
{
	const char *name = bus_name_from_arn(name_or_arn);
	BusInfo    *b;

	bus_check_name(name, "event bus name");
	AcceptInvalidationMessages();
	if (bus_cache == NULL || bus_cache_stale)
		bus_cache_create();
	b = hash_search(bus_cache, name, HASH_FIND, NULL);
	if (b == NULL)
	{
		if (IsolationUsesXactSnapshot())
			bus_cache_xact_only = true;
		PG_TRY();
		{
			b = bus_load(name);
		}
		PG_CATCH();
		{
			bus_cache_stale = true;
			PG_RE_THROW();
		}
		PG_END_TRY();
	}
	if (b == NULL && !missing_ok)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("event bus \"%s\" does not exist", name)));
	return b;
}

RuleInfo *
bus_find_rule(BusInfo *b, const char *name)
{
	for (int i = 0; i < b->nrules; i++)
		if (strcmp(b->rules[i].name, name) == 0)
			return &b->rules[i];
	return NULL;
}

/* ---- rights ---- */

int
bus_rights_of(BusInfo *b, Oid role)
{
	if (b->rights_role != role)
	{
		b->rights = outbox_acl_rights(&bus_acl, b->owner, b->grants, b->ngrants, role);
		b->rights_role = role;
	}
	return b->rights;
}

void
bus_check_rights(BusInfo *b, int privilege, const char *action)
{
	int			rights = bus_rights_of(b, outbox_current_caller);

	if (privilege == 0 ? rights == 0 : (rights & privilege) != privilege)
		outbox_acl_deny(&bus_acl, b->name, privilege, action, outbox_current_caller);
}

/* Changing a rule: its owner (with "rules" on the bus) or a bus admin. */
void
bus_check_rule_rights(BusInfo *b, RuleInfo *r, const char *action)
{
	int			rights = bus_rights_of(b, outbox_current_caller);

	if (rights & BUS_PRIV_ADMIN)
		return;
	if ((rights & BUS_PRIV_RULES) && OidIsValid(r->owner_oid) &&
		has_privs_of_role(outbox_current_caller, r->owner_oid))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied for rule \"%s\" of event bus \"%s\"", r->name, b->name),
			 errdetail("%s needs to be the rule's owner (\"%s\") or to hold \"admin\" on the event bus.",
					   action, r->owner)));
}
