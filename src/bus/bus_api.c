/*-------------------------------------------------------------------------
 *
 * bus_api.c
 *	  The SQL-callable functions of the bus room.
 *
 * Each function reads and checks its arguments, opens a call (core/
 * security.c), looks the bus up once, checks the caller's right, and hands
 * over to the room's internal API.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/bus/bus_api.c
 *
 *-------------------------------------------------------------------------
 */
#include "pg_outbox.h"

#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"

#include "core/acl.h"
#include "core/jsonb_util.h"
#include "core/security.h"
#include "bus/bus.h"

#define TEXT_OR_NULL(n)	(PG_ARGISNULL(n) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(n)))

void
outbox_bus_init(void)
{
	bus_catalog_init();
	bus_events_init();
	bus_schedule_init();
	bus_archive_init();
}

/* The bus argument: "default" when null. */
static char *
bus_arg(FunctionCallInfo fcinfo, int n)
{
	return PG_ARGISNULL(n) ? pstrdup("default") : text_to_cstring(PG_GETARG_TEXT_PP(n));
}

/* Begin a call, find the bus and the rule (an error if either is missing). */
static RuleInfo *
call_open_rule(OutboxCall *call, const char *bus, const char *rule, BusInfo **b)
{
	RuleInfo   *r;

	outbox_call_begin(call);
	*b = bus_lookup(bus, false);
	bus_check_rule_name(rule);
	r = bus_find_rule(*b, rule);
	if (r == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("rule \"%s\" does not exist on event bus \"%s\"", rule, (*b)->name)));
	return r;
}

/* ---- buses ---- */

PG_FUNCTION_INFO_V1(outbox_create_event_bus);
Datum
outbox_create_event_bus(PG_FUNCTION_ARGS)
{
	char	   *name = outbox_arg_text(fcinfo, 0, "name");
	char	   *description = TEXT_OR_NULL(1);
	OutboxCall	call;
	Datum		result;

	outbox_call_begin(&call);
	result = outbox_call_text_result(bus_create(name, description));
	outbox_call_end(&call);
	PG_RETURN_DATUM(result);
}

PG_FUNCTION_INFO_V1(outbox_delete_event_bus);
Datum
outbox_delete_event_bus(PG_FUNCTION_ARGS)
{
	char	   *name = outbox_arg_text(fcinfo, 0, "name");
	OutboxCall	call;
	BusInfo    *b;

	outbox_call_begin(&call);
	b = bus_lookup(name, false);
	bus_check_rights(b, BUS_PRIV_ADMIN, "delete_event_bus");
	bus_drop(b);
	outbox_call_end(&call);
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(outbox_list_event_buses);
Datum
outbox_list_event_buses(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	OutboxCall	call;
	char	  **names;
	int			n;

	InitMaterializedSRF(fcinfo, 0);
	outbox_call_begin(&call);
	if (SPI_execute("SELECT bus_name FROM outbox.event_bus ORDER BY bus_name", true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not list event buses");
	n = (int) SPI_processed;
	names = palloc(sizeof(char *) * Max(n, 1));
	for (int i = 0; i < n; i++)
		names[i] = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
	for (int i = 0; i < n; i++)
	{
		BusInfo    *b = bus_lookup(names[i], true);
		Datum		vals[5];
		bool		nulls[5] = {false, false, false, false, false};

		if (b == NULL || bus_rights_of(b, outbox_current_caller) == 0)
			continue;
		vals[0] = CStringGetTextDatum(b->name);
		vals[1] = CStringGetTextDatum(b->arn);
		vals[2] = DirectFunctionCall1(namein, CStringGetDatum(b->owner));
		nulls[3] = b->description == NULL;
		vals[3] = b->description ? CStringGetTextDatum(b->description) : (Datum) 0;
		vals[4] = Int32GetDatum(b->nrules);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, vals, nulls);
	}
	outbox_call_end(&call);
	return (Datum) 0;
}

static void
grant_or_revoke(FunctionCallInfo fcinfo, bool is_grant)
{
	char	   *name = outbox_arg_text(fcinfo, 0, "name");
	ArrayType  *privileges = (outbox_arg_not_null(fcinfo, 1, "privileges"), PG_GETARG_ARRAYTYPE_P(1));
	char	   *grantee = outbox_arg_text(fcinfo, 2, "grantee");
	int			bits = outbox_acl_parse(&bus_acl, privileges);
	OutboxCall	call;
	BusInfo    *b;

	outbox_call_begin(&call);
	b = bus_lookup(name, false);
	bus_check_rights(b, BUS_PRIV_ADMIN, is_grant ? "grant_event_bus" : "revoke_event_bus");
	outbox_acl_store(&bus_acl, b->bus_id, bits, grantee, is_grant);
	outbox_call_end(&call);
}

PG_FUNCTION_INFO_V1(outbox_grant_event_bus);
Datum
outbox_grant_event_bus(PG_FUNCTION_ARGS)
{
	grant_or_revoke(fcinfo, true);
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(outbox_revoke_event_bus);
Datum
outbox_revoke_event_bus(PG_FUNCTION_ARGS)
{
	grant_or_revoke(fcinfo, false);
	PG_RETURN_VOID();
}

/* ---- rules ---- */

PG_FUNCTION_INFO_V1(outbox_put_rule);
Datum
outbox_put_rule(PG_FUNCTION_ARGS)
{
	char	   *name = outbox_arg_text(fcinfo, 0, "name");
	char	   *bus = bus_arg(fcinfo, 1);
	Jsonb	   *pattern = PG_ARGISNULL(2) ? NULL : PG_GETARG_JSONB_P(2);
	char	   *schedule = TEXT_OR_NULL(3);
	char	   *state = PG_ARGISNULL(4) ? pstrdup("ENABLED") : text_to_cstring(PG_GETARG_TEXT_PP(4));
	char	   *description = TEXT_OR_NULL(5);
	char	   *timezone = TEXT_OR_NULL(6);
	OutboxCall	call;
	BusInfo    *b;
	Datum		result;

	outbox_call_begin(&call);
	b = bus_lookup(bus, false);
	result = outbox_call_text_result(bus_put_rule(b, name, pattern, schedule, timezone, state, description));
	outbox_call_end(&call);
	PG_RETURN_DATUM(result);
}

static void
set_state(FunctionCallInfo fcinfo, bool enabled)
{
	char	   *name = outbox_arg_text(fcinfo, 0, "name");
	char	   *bus = bus_arg(fcinfo, 1);
	OutboxCall	call;
	BusInfo    *b;
	RuleInfo   *r = call_open_rule(&call, bus, name, &b);

	bus_check_rule_rights(b, r, enabled ? "enable_rule" : "disable_rule");
	bus_set_rule_state(b, r, enabled);
	outbox_call_end(&call);
}

PG_FUNCTION_INFO_V1(outbox_enable_rule);
Datum
outbox_enable_rule(PG_FUNCTION_ARGS)
{
	set_state(fcinfo, true);
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(outbox_disable_rule);
Datum
outbox_disable_rule(PG_FUNCTION_ARGS)
{
	set_state(fcinfo, false);
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(outbox_delete_rule);
Datum
outbox_delete_rule(PG_FUNCTION_ARGS)
{
	char	   *name = outbox_arg_text(fcinfo, 0, "name");
	char	   *bus = bus_arg(fcinfo, 1);
	OutboxCall	call;
	BusInfo    *b;
	RuleInfo   *r;

	outbox_call_begin(&call);
	b = bus_lookup(bus, false);
	bus_check_rule_name(name);
	r = bus_find_rule(b, name);
	if (r)
	{
		bus_check_rule_rights(b, r, "delete_rule");
		bus_delete_rule(b, r);
	}
	outbox_call_end(&call);
	PG_RETURN_VOID();
}

static Jsonb *
describe(BusInfo *b, RuleInfo *r)
{
	JsonbParseState *st = NULL;
	JsonbValue	v;

	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	outbox_jsonb_push_string(&st, "Name", r->name);
	outbox_jsonb_push_string(&st, "Arn", r->arn);
	outbox_jsonb_push_string(&st, "EventBusName", b->name);
	if (r->event_pattern)
	{
		v.type = jbvBinary;
		v.val.binary.data = &r->event_pattern->root;
		v.val.binary.len = VARSIZE(r->event_pattern) - VARHDRSZ;
		outbox_jsonb_push_value(&st, "EventPattern", &v);
	}
	if (r->schedule)
		outbox_jsonb_push_string(&st, "ScheduleExpression", r->schedule);
	if (r->schedule_timezone)
		outbox_jsonb_push_string(&st, "ScheduleExpressionTimezone", r->schedule_timezone);
	outbox_jsonb_push_string(&st, "State", r->enabled ? "ENABLED" : "DISABLED");
	if (r->description)
		outbox_jsonb_push_string(&st, "Description", r->description);
	outbox_jsonb_push_string(&st, "CreatedBy", r->owner);
	return JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL));
}

PG_FUNCTION_INFO_V1(outbox_describe_rule);
Datum
outbox_describe_rule(PG_FUNCTION_ARGS)
{
	char	   *name = outbox_arg_text(fcinfo, 0, "name");
	char	   *bus = bus_arg(fcinfo, 1);
	OutboxCall	call;
	BusInfo    *b;
	RuleInfo   *r = call_open_rule(&call, bus, name, &b);
	Datum		result;

	bus_check_rights(b, 0, "describe_rule");
	result = outbox_call_jsonb_result(describe(b, r));
	outbox_call_end(&call);
	PG_RETURN_DATUM(result);
}

PG_FUNCTION_INFO_V1(outbox_list_rules);
Datum
outbox_list_rules(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *bus = bus_arg(fcinfo, 0);
	char	   *prefix = TEXT_OR_NULL(1);
	OutboxCall	call;
	BusInfo    *b;

	InitMaterializedSRF(fcinfo, 0);
	outbox_call_begin(&call);
	b = bus_lookup(bus, false);
	bus_check_rights(b, 0, "list_rules");
	for (int i = 0; i < b->nrules; i++)
	{
		RuleInfo   *r = &b->rules[i];
		Datum		vals[8];
		bool		nulls[8] = {false, false, false, false, false, false, false, false};

		if (prefix && strncmp(r->name, prefix, strlen(prefix)) != 0)
			continue;
		vals[0] = CStringGetTextDatum(r->name);
		vals[1] = CStringGetTextDatum(r->arn);
		nulls[2] = r->event_pattern == NULL;
		vals[2] = r->event_pattern ? JsonbPGetDatum(r->event_pattern) : (Datum) 0;
		nulls[3] = r->schedule == NULL;
		vals[3] = r->schedule ? CStringGetTextDatum(r->schedule) : (Datum) 0;
		vals[4] = CStringGetTextDatum(r->enabled ? "ENABLED" : "DISABLED");
		nulls[5] = r->description == NULL;
		vals[5] = r->description ? CStringGetTextDatum(r->description) : (Datum) 0;
		vals[6] = DirectFunctionCall1(namein, CStringGetDatum(r->owner));
		vals[7] = Int32GetDatum(r->ntargets);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, vals, nulls);
	}
	outbox_call_end(&call);
	return (Datum) 0;
}

/* ---- targets ---- */

PG_FUNCTION_INFO_V1(outbox_put_targets);
Datum
outbox_put_targets(PG_FUNCTION_ARGS)
{
	char	   *rule = outbox_arg_text(fcinfo, 0, "rule");
	Jsonb	   *targets = (outbox_arg_not_null(fcinfo, 1, "targets"), PG_GETARG_JSONB_P(1));
	char	   *bus = bus_arg(fcinfo, 2);
	OutboxCall	call;
	BusInfo    *b;
	RuleInfo   *r = call_open_rule(&call, bus, rule, &b);
	Datum		result;

	bus_check_rule_rights(b, r, "put_targets");
	result = outbox_call_jsonb_result(bus_put_targets(b, r, targets));
	outbox_call_end(&call);
	PG_RETURN_DATUM(result);
}

PG_FUNCTION_INFO_V1(outbox_remove_targets);
Datum
outbox_remove_targets(PG_FUNCTION_ARGS)
{
	char	   *rule = outbox_arg_text(fcinfo, 0, "rule");
	ArrayType  *ids = (outbox_arg_not_null(fcinfo, 1, "ids"), PG_GETARG_ARRAYTYPE_P(1));
	char	   *bus = bus_arg(fcinfo, 2);
	OutboxCall	call;
	BusInfo    *b;
	RuleInfo   *r = call_open_rule(&call, bus, rule, &b);
	Datum		result;

	bus_check_rule_rights(b, r, "remove_targets");
	result = outbox_call_jsonb_result(bus_remove_targets(b, r, ids));
	outbox_call_end(&call);
	PG_RETURN_DATUM(result);
}

PG_FUNCTION_INFO_V1(outbox_list_targets_by_rule);
Datum
outbox_list_targets_by_rule(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *rule = outbox_arg_text(fcinfo, 0, "rule");
	char	   *bus = bus_arg(fcinfo, 1);
	OutboxCall	call;
	BusInfo    *b;
	RuleInfo   *r;

	InitMaterializedSRF(fcinfo, 0);
	r = call_open_rule(&call, bus, rule, &b);
	bus_check_rights(b, 0, "list_targets_by_rule");
	for (int i = 0; i < r->ntargets; i++)
	{
		Datum		vals[3];
		bool		nulls[3] = {false, false, false};

		vals[0] = CStringGetTextDatum(r->targets[i].id);
		vals[1] = CStringGetTextDatum(r->targets[i].arn);
		vals[2] = JsonbPGetDatum(r->targets[i].definition);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, vals, nulls);
	}
	outbox_call_end(&call);
	return (Datum) 0;
}

/* ---- events ---- */

PG_FUNCTION_INFO_V1(outbox_put_events);
Datum
outbox_put_events(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Jsonb	   *entries = (outbox_arg_not_null(fcinfo, 0, "entries"), PG_GETARG_JSONB_P(0));
	OutboxCall	call;

	InitMaterializedSRF(fcinfo, 0);
	outbox_call_begin(&call);
	bus_put_events(entries, rsinfo->setResult, rsinfo->setDesc);
	outbox_call_end(&call);
	return (Datum) 0;
}
