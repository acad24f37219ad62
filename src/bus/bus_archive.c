/*-------------------------------------------------------------------------
 *
 * bus_archive.c
 *	  Archives (events a bus received, kept for a retention period) and
 *	  replays (archived events of a time window sent to the bus's rules
 *	  again).
 *
 * Archiving happens in the transaction that puts the event: an archive
 * keeps exactly the events that committed.  The events a bus receives from
 * put_events and from other buses are archived; replayed and scheduled
 * events are not (a replay must not feed its own archive).
 *
 * A replay is a due item of kind "replay": each run sends up to
 * REPLAY_BATCH events, in event-time order from a cursor kept in
 * outbox.replay, to the bus's rules (or only the FilterArns rules), each
 * with "replay-name" added, and records its progress in the same
 * transaction; so a crash replays no event twice through our in-database
 * targets.  CANCELLING stops it at the next batch.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/bus/bus_archive.c
 *
 *-------------------------------------------------------------------------
 */
#include "pg_outbox.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "core/clock.h"
#include "core/jsonb_util.h"
#include "core/security.h"
#include "core/spi_plan.h"
#include "bus/bus.h"
#include "worker/worker.h"

#define ARCHIVE_NAME_MAX	48
#define REPLAY_NAME_MAX		64
#define REPLAY_BATCH		500

char *
archive_arn(const char *name)
{
	return psprintf("arn:aws:events:%s:%s:archive/%s", outbox_region, outbox_account_id, name);
}

static char *
replay_arn(const char *name)
{
	return psprintf("arn:aws:events:%s:%s:replay/%s", outbox_region, outbox_account_id, name);
}

/* "name" or "arn:...:archive/name" */
static const char *
archive_name_from_arn(const char *s)
{
	const char *p = strstr(s, ":archive/");

	return strncmp(s, "arn:", 4) == 0 && p ? p + strlen(":archive/") : s;
}

/* Keep an event in the bus's archives that match it (in this transaction). */
void
bus_archive_event(BusInfo *b, BusEvent *e)
{
	static SPIPlanPtr plan = NULL;
	int		   *hits;
	int			n = 0;
	JsonbValue *time;

	if (b->narchives == 0 || e->replay)
		return;
	if (plan == NULL)
	{
		Oid			types[4] = {INT4OID, TEXTOID, TEXTOID, JSONBOID};

		plan = outbox_prepare_plan("INSERT INTO outbox.archived_event (archive_id, event_time, event_id, event,"
								   " archived_at) VALUES ($1, $2::timestamptz, $3, $4, outbox.clock_now())"
								   " ON CONFLICT DO NOTHING", 4, types);
	}
	hits = palloc(sizeof(int) * b->narchives);
	if (b->archive_patterns)
		n = pattern_set_match(b->archive_patterns, e->event, hits);
	time = outbox_jsonb_get(&e->event->root, "time");
	for (int i = 0; i < b->narchives; i++)
	{
		bool		keep = b->archives[i].event_pattern == NULL;
		Datum		vals[4];

		for (int k = 0; k < n && !keep; k++)
			keep = hits[k] == i;
		if (!keep)
			continue;
		vals[0] = Int32GetDatum(b->archives[i].archive_id);
		vals[1] = CStringGetTextDatum(time && time->type == jbvString ?
									  pnstrdup(time->val.string.val, time->val.string.len) : "now");
		vals[2] = CStringGetTextDatum(e->id);
		vals[3] = JsonbPGetDatum(e->event);
		if (SPI_execute_plan(plan, vals, NULL, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "could not archive event %s", e->id);
	}
	pfree(hits);
}

/* ---- SQL functions ---- */

PG_FUNCTION_INFO_V1(outbox_create_archive);
Datum
outbox_create_archive(PG_FUNCTION_ARGS)
{
	char	   *name = outbox_arg_text(fcinfo, 0, "archive_name");
	char	   *source = outbox_arg_text(fcinfo, 1, "event_source_arn");
	char	   *description = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));
	Jsonb	   *pattern = PG_ARGISNULL(3) ? NULL : PG_GETARG_JSONB_P(3);
	int32		retention = PG_ARGISNULL(4) ? 0 : PG_GETARG_INT32(4);
	OutboxCall	call;
	BusInfo    *b;
	Oid			types[6] = {TEXTOID, INT4OID, TEXTOID, JSONBOID, INT4OID, NAMEOID};
	Datum		vals[6];
	char		nulls[6] = {' ', ' ', ' ', ' ', ' ', ' '};
	Datum		result;

	bus_check_chars(name, "archive name", "._-", ARCHIVE_NAME_MAX);
	if (retention < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid \"retention_days\": %d must not be negative", retention),
				 errhint("0 keeps the events forever.")));
	if (pattern)
		pattern_validate(pattern, PATTERN_EVENTBRIDGE);
	outbox_call_begin(&call);
	b = bus_lookup(source, false);
	bus_check_rights(b, BUS_PRIV_ADMIN, "create_archive");
	vals[0] = CStringGetTextDatum(name);
	vals[1] = Int32GetDatum(b->bus_id);
	vals[2] = description ? CStringGetTextDatum(description) : (Datum) 0;
	nulls[2] = description ? ' ' : 'n';
	vals[3] = pattern ? JsonbPGetDatum(pattern) : (Datum) 0;
	nulls[3] = pattern ? ' ' : 'n';
	vals[4] = Int32GetDatum(retention);
	vals[5] = DirectFunctionCall1(namein, CStringGetDatum(GetUserNameFromId(outbox_current_caller, false)));
	if (SPI_execute_with_args("INSERT INTO outbox.archive (archive_name, bus_id, description, event_pattern,"
							  " retention_days, owner, created_at) VALUES ($1, $2, $3, $4, $5, $6, outbox.clock_now())"
							  " ON CONFLICT (archive_name) DO NOTHING", 6, types, vals, nulls, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not create archive \"%s\"", name);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("archive \"%s\" already exists", name)));
	CommandCounterIncrement();
	result = outbox_call_text_result(archive_arn(name));
	outbox_call_end(&call);
	PG_RETURN_DATUM(result);
}

/* Find an archive: its row, and the admin right on its bus. */
static HeapTuple
archive_row(const char *name, TupleDesc *desc, BusInfo **b, const char *action)
{
	Oid			type = TEXTOID;
	Datum		val = CStringGetTextDatum(name);
	HeapTuple	tup;

	if (SPI_execute_with_args("SELECT a.*, b.bus_name FROM outbox.archive a JOIN outbox.event_bus b USING (bus_id)"
							  " WHERE a.archive_name = $1", 1, &type, &val, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read archive \"%s\"", name);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("archive \"%s\" does not exist", name)));
	tup = SPI_copytuple(SPI_tuptable->vals[0]);
	*desc = CreateTupleDescCopy(SPI_tuptable->tupdesc);
	*b = bus_lookup(outbox_spi_text(tup, *desc, "bus_name"), false);
	bus_check_rights(*b, BUS_PRIV_ADMIN, action);
	return tup;
}

PG_FUNCTION_INFO_V1(outbox_describe_archive);
Datum
outbox_describe_archive(PG_FUNCTION_ARGS)
{
	char	   *name = (char *) archive_name_from_arn(outbox_arg_text(fcinfo, 0, "archive_name"));
	OutboxCall	call;
	BusInfo    *b;
	TupleDesc	desc;
	HeapTuple	tup;
	JsonbParseState *st = NULL;
	Jsonb	   *pattern;
	Datum		arg;
	Oid			type = INT4OID;
	char	   *description;
	Datum		result;

	outbox_call_begin(&call);
	tup = archive_row(name, &desc, &b, "describe_archive");
	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	outbox_jsonb_push_string(&st, "ArchiveName", name);
	outbox_jsonb_push_string(&st, "ArchiveArn", archive_arn(name));
	outbox_jsonb_push_string(&st, "EventSourceArn", b->arn);
	if ((description = outbox_spi_text(tup, desc, "description")) != NULL)
		outbox_jsonb_push_string(&st, "Description", description);
	if ((pattern = outbox_spi_jsonb(tup, desc, "event_pattern")) != NULL)
	{
		JsonbValue	v;

		v.type = jbvBinary;
		v.val.binary.data = &pattern->root;
		v.val.binary.len = VARSIZE(pattern) - VARHDRSZ;
		outbox_jsonb_push_value(&st, "EventPattern", &v);
	}
	outbox_jsonb_push_string(&st, "RetentionDays", psprintf("%d", outbox_spi_int(tup, desc, "retention_days")));
	outbox_jsonb_push_string(&st, "State", "ENABLED");
	arg = Int32GetDatum(outbox_spi_int(tup, desc, "archive_id"));
	if (SPI_execute_with_args("SELECT count(*)::text, coalesce(sum(pg_column_size(event)), 0)::text"
							  " FROM outbox.archived_event WHERE archive_id = $1", 1, &type, &arg, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not count archive \"%s\"", name);
	outbox_jsonb_push_string(&st, "EventCount", SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1));
	outbox_jsonb_push_string(&st, "SizeBytes", SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2));
	result = outbox_call_jsonb_result(JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL)));
	outbox_call_end(&call);
	PG_RETURN_DATUM(result);
}

PG_FUNCTION_INFO_V1(outbox_delete_archive);
Datum
outbox_delete_archive(PG_FUNCTION_ARGS)
{
	char	   *name = (char *) archive_name_from_arn(outbox_arg_text(fcinfo, 0, "archive_name"));
	OutboxCall	call;
	BusInfo    *b;
	TupleDesc	desc;
	HeapTuple	tup;
	Oid			type = INT4OID;
	Datum		arg;

	outbox_call_begin(&call);
	tup = archive_row(name, &desc, &b, "delete_archive");
	arg = Int32GetDatum(outbox_spi_int(tup, desc, "archive_id"));
	if (SPI_execute_with_args("DELETE FROM outbox.archive WHERE archive_id = $1", 1, &type, &arg, NULL, false, 0)
		!= SPI_OK_DELETE)
		elog(ERROR, "could not delete archive \"%s\"", name);
	CommandCounterIncrement();
	outbox_call_end(&call);
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(outbox_start_replay);
Datum
outbox_start_replay(PG_FUNCTION_ARGS)
{
	char	   *name = outbox_arg_text(fcinfo, 0, "replay_name");
	char	   *archive = (char *) archive_name_from_arn(outbox_arg_text(fcinfo, 1, "event_source_arn"));
	TimestampTz start;
	TimestampTz end;
	Jsonb	   *destination = PG_ARGISNULL(4) ? NULL : PG_GETARG_JSONB_P(4);
	char	   *description = PG_ARGISNULL(5) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(5));
	OutboxCall	call;
	BusInfo    *b;
	TupleDesc	desc;
	HeapTuple	tup;
	ArrayBuildState *rules = NULL;
	Oid			types[7] = {TEXTOID, INT4OID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID, TEXTARRAYOID, NAMEOID};
	Datum		vals[7];
	char		nulls[7] = {' ', ' ', ' ', ' ', ' ', ' ', ' '};
	JsonbParseState *st = NULL;
	Datum		result;

	outbox_arg_not_null(fcinfo, 2, "event_start_time");
	outbox_arg_not_null(fcinfo, 3, "event_end_time");
	start = PG_GETARG_TIMESTAMPTZ(2);
	end = PG_GETARG_TIMESTAMPTZ(3);
	bus_check_chars(name, "replay name", "._-", REPLAY_NAME_MAX);
	if (start >= end)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid replay window: \"event_start_time\" must be before \"event_end_time\"")));
	outbox_call_begin(&call);
	tup = archive_row(archive, &desc, &b, "start_replay");
	if (destination)
	{
		JsonbValue *arn = outbox_jsonb_get(&destination->root, "Arn");
		JsonbValue *filter = outbox_jsonb_get(&destination->root, "FilterArns");

		if (!JB_ROOT_IS_OBJECT(destination) || JB_ROOT_IS_SCALAR(destination))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid \"destination\": expected {\"Arn\": bus, \"FilterArns\": [rule ARNs]}")));
		if (arn && (arn->type != jbvString ||
					strcmp(bus_name_from_arn(pnstrdup(arn->val.string.val, arn->val.string.len)), b->name) != 0))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid \"destination.Arn\": a replay goes to its archive's event bus \"%s\"", b->name)));
		if (filter && filter->type == jbvBinary && JsonContainerIsArray(filter->val.binary.data))
		{
			for (uint32 i = 0; i < JsonContainerSize(filter->val.binary.data); i++)
			{
				JsonbValue *r = getIthJsonbValueFromContainer(filter->val.binary.data, i);
				char	   *rname;
				const char *slash;

				if (r->type != jbvString)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("invalid \"destination.FilterArns\": expected rule ARNs")));
				rname = pnstrdup(r->val.string.val, r->val.string.len);
				slash = strrchr(rname, '/');
				rname = slash ? pstrdup(slash + 1) : rname;
				if (bus_find_rule(b, rname) == NULL)
					ereport(ERROR,
							(errcode(ERRCODE_UNDEFINED_OBJECT),
							 errmsg("invalid \"destination.FilterArns\": rule \"%s\" does not exist on event bus \"%s\"",
									rname, b->name)));
				rules = accumArrayResult(rules, CStringGetTextDatum(rname), false, TEXTOID, CurrentMemoryContext);
			}
		}
		else if (filter)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid \"destination.FilterArns\": expected an array of rule ARNs")));
	}
	vals[0] = CStringGetTextDatum(name);
	vals[1] = Int32GetDatum(outbox_spi_int(tup, desc, "archive_id"));
	vals[2] = description ? CStringGetTextDatum(description) : (Datum) 0;
	nulls[2] = description ? ' ' : 'n';
	vals[3] = TimestampTzGetDatum(start);
	vals[4] = TimestampTzGetDatum(end);
	vals[5] = rules ? makeArrayResult(rules, CurrentMemoryContext) : (Datum) 0;
	nulls[5] = rules ? ' ' : 'n';
	vals[6] = DirectFunctionCall1(namein, CStringGetDatum(GetUserNameFromId(outbox_current_caller, false)));
	if (SPI_execute_with_args("INSERT INTO outbox.replay (replay_name, archive_id, description, event_start_time,"
							  " event_end_time, filter_rules, state, owner, replay_start_time)"
							  " VALUES ($1, $2, $3, $4, $5, $6, 'STARTING', $7, outbox.clock_now())"
							  " ON CONFLICT (replay_name) DO NOTHING", 7, types, vals, nulls, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not start replay \"%s\"", name);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("replay \"%s\" already exists", name)));
	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	outbox_jsonb_push_string(&st, "replay", name);
	(void) outbox_due_schedule("replay", outbox_now(), outbox_current_caller, InvalidOid,
							   JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL)));
	result = outbox_call_text_result(replay_arn(name));
	outbox_call_end(&call);
	PG_RETURN_DATUM(result);
}

/* A replay's row; the caller must have started it or administer its bus. */
static HeapTuple
replay_row(const char *name, TupleDesc *desc, BusInfo **b)
{
	Oid			type = TEXTOID;
	Datum		val = CStringGetTextDatum(name);
	HeapTuple	tup;
	Oid			owner;
	bool		filter_null_dummy;

	if (SPI_execute_with_args("SELECT r.*, a.archive_name, b.bus_name FROM outbox.replay r"
							  " JOIN outbox.archive a USING (archive_id) JOIN outbox.event_bus b USING (bus_id)"
							  " WHERE r.replay_name = $1", 1, &type, &val, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read replay \"%s\"", name);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("replay \"%s\" does not exist", name)));
	tup = SPI_copytuple(SPI_tuptable->vals[0]);
	*desc = CreateTupleDescCopy(SPI_tuptable->tupdesc);
	*b = bus_lookup(outbox_spi_text(tup, *desc, "bus_name"), false);
	owner = get_role_oid(NameStr(*DatumGetName(outbox_spi_column(tup, *desc, "owner", &filter_null_dummy))), true);
	if (!(OidIsValid(owner) && has_privs_of_role(outbox_current_caller, owner)))
		bus_check_rights(*b, BUS_PRIV_ADMIN, "describe_replay");
	return tup;
}

static void
push_time(JsonbParseState **st, const char *key, TimestampTz t)
{
	if (t)
		outbox_jsonb_push_string(st, key, worker_iso_time(t));
}

PG_FUNCTION_INFO_V1(outbox_describe_replay);
Datum
outbox_describe_replay(PG_FUNCTION_ARGS)
{
	char	   *name = outbox_arg_text(fcinfo, 0, "replay_name");
	OutboxCall	call;
	BusInfo    *b;
	TupleDesc	desc;
	HeapTuple	tup;
	JsonbParseState *st = NULL;
	char	   *s;
	Datum		result;

	outbox_call_begin(&call);
	tup = replay_row(name, &desc, &b);
	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	outbox_jsonb_push_string(&st, "ReplayName", name);
	outbox_jsonb_push_string(&st, "ReplayArn", replay_arn(name));
	outbox_jsonb_push_string(&st, "EventSourceArn", archive_arn(outbox_spi_text(tup, desc, "archive_name")));
	outbox_jsonb_push_string(&st, "DestinationArn", b->arn);
	if ((s = outbox_spi_text(tup, desc, "description")) != NULL)
		outbox_jsonb_push_string(&st, "Description", s);
	outbox_jsonb_push_string(&st, "State", outbox_spi_text(tup, desc, "state"));
	if ((s = outbox_spi_text(tup, desc, "state_reason")) != NULL)
		outbox_jsonb_push_string(&st, "StateReason", s);
	push_time(&st, "EventStartTime", outbox_spi_timestamp(tup, desc, "event_start_time"));
	push_time(&st, "EventEndTime", outbox_spi_timestamp(tup, desc, "event_end_time"));
	push_time(&st, "EventLastReplayedTime", outbox_spi_timestamp(tup, desc, "event_last_replayed_time"));
	push_time(&st, "ReplayStartTime", outbox_spi_timestamp(tup, desc, "replay_start_time"));
	push_time(&st, "ReplayEndTime", outbox_spi_timestamp(tup, desc, "replay_end_time"));
	outbox_jsonb_push_string(&st, "EventsReplayed", SPI_getvalue(tup, desc, SPI_fnumber(desc, "events_replayed")));
	result = outbox_call_jsonb_result(JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL)));
	outbox_call_end(&call);
	PG_RETURN_DATUM(result);
}

PG_FUNCTION_INFO_V1(outbox_cancel_replay);
Datum
outbox_cancel_replay(PG_FUNCTION_ARGS)
{
	char	   *name = outbox_arg_text(fcinfo, 0, "replay_name");
	OutboxCall	call;
	BusInfo    *b;
	TupleDesc	desc;
	HeapTuple	tup;
	char	   *state;
	Oid			type = TEXTOID;
	Datum		val = CStringGetTextDatum(name);

	outbox_call_begin(&call);
	tup = replay_row(name, &desc, &b);
	state = outbox_spi_text(tup, desc, "state");
	if (strcmp(state, "STARTING") != 0 && strcmp(state, "RUNNING") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("replay \"%s\" is %s and cannot be cancelled", name, state)));
	if (SPI_execute_with_args("UPDATE outbox.replay SET state = 'CANCELLING' WHERE replay_name = $1",
							  1, &type, &val, NULL, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "could not cancel replay \"%s\"", name);
	outbox_call_end(&call);
	PG_RETURN_TEXT_P(cstring_to_text("CANCELLING"));
}

/* ---- the replay itself (due items of kind "replay") ---- */

static void
run_replay(OutboxDueItem *item)
{
	Jsonb	   *payload = (Jsonb *) item->payload;
	JsonbValue *nv = payload ? outbox_jsonb_get(&payload->root, "replay") : NULL;
	char	   *name;
	OutboxUserSwitch sw;
	HeapTuple	tup;
	TupleDesc	desc;
	char	   *state;
	BusInfo    *b;
	Datum		vals[5];
	char		nulls[5] = {' ', ' ', ' ', ' ', ' '};
	Oid			types[5] = {INT4OID, TIMESTAMPTZOID, TIMESTAMPTZOID, TIMESTAMPTZOID, TEXTOID};
	int			done = 0;
	TimestampTz last_time = 0;
	char	   *last_id = NULL;
	Datum		filter;
	bool		filter_null;
	BusEvent	e;
	MemoryContext cxt = CurrentMemoryContext;

	if (nv == NULL || nv->type != jbvString)
	{
		outbox_due_finish(item);
		return;
	}
	name = pnstrdup(nv->val.string.val, nv->val.string.len);
	outbox_become_owner(&sw);
	SPI_connect();
	vals[0] = CStringGetTextDatum(name);
	if (SPI_execute_with_args("SELECT r.*, b.bus_name FROM outbox.replay r JOIN outbox.archive a USING (archive_id)"
							  " JOIN outbox.event_bus b USING (bus_id) WHERE r.replay_name = $1 FOR UPDATE OF r",
							  1, &types[4], vals, NULL, false, 1) != SPI_OK_SELECT || SPI_processed == 0)
	{
		SPI_finish();
		outbox_restore_user(&sw);
		outbox_due_finish(item);
		return;
	}
	MemoryContextSwitchTo(cxt);
	tup = SPI_copytuple(SPI_tuptable->vals[0]);
	desc = CreateTupleDescCopy(SPI_tuptable->tupdesc);
	state = outbox_spi_text(tup, desc, "state");
	if (strcmp(state, "STARTING") != 0 && strcmp(state, "RUNNING") != 0)
	{
		if (strcmp(state, "CANCELLING") == 0)
			SPI_execute_with_args("UPDATE outbox.replay SET state = 'CANCELLED', replay_end_time = outbox.clock_now()"
								  " WHERE replay_name = $1", 1, &types[4], vals, NULL, false, 0);
		SPI_finish();
		outbox_restore_user(&sw);
		outbox_due_finish(item);
		return;
	}
	b = bus_lookup(outbox_spi_text(tup, desc, "bus_name"), false);
	memset(&e, 0, sizeof(e));
	e.replay = name;
	filter = outbox_spi_column(tup, desc, "filter_rules", &filter_null);
	if (!filter_null)
	{
		Datum	   *elems;
		bool	   *enulls;

		deconstruct_array(DatumGetArrayTypeP(filter), TEXTOID, -1, false, TYPALIGN_INT,
						  &elems, &enulls, &e.nonly_rules);
		e.only_rules = palloc(sizeof(char *) * Max(e.nonly_rules, 1));
		for (int i = 0; i < e.nonly_rules; i++)
			e.only_rules[i] = TextDatumGetCString(elems[i]);
	}

	/* the next batch, in event-time order after the cursor */
	vals[0] = Int32GetDatum(outbox_spi_int(tup, desc, "archive_id"));
	vals[1] = TimestampTzGetDatum(outbox_spi_timestamp(tup, desc, "event_start_time"));
	vals[2] = TimestampTzGetDatum(outbox_spi_timestamp(tup, desc, "event_end_time"));
	vals[3] = TimestampTzGetDatum(outbox_spi_timestamp(tup, desc, "cursor_time"));
	nulls[3] = vals[3] ? ' ' : 'n';
	vals[4] = outbox_spi_text(tup, desc, "cursor_id") ? CStringGetTextDatum(outbox_spi_text(tup, desc, "cursor_id")) : (Datum) 0;
	nulls[4] = vals[4] ? ' ' : 'n';
	if (SPI_execute_with_args(psprintf("SELECT event_time, event_id, event FROM outbox.archived_event"
									   " WHERE archive_id = $1 AND event_time >= $2 AND event_time < $3"
									   " AND ($4::timestamptz IS NULL OR (event_time, event_id) > ($4, $5::text))"
									   " ORDER BY event_time, event_id LIMIT %d", REPLAY_BATCH),
							  5, types, vals, nulls, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the events of replay \"%s\"", name);
	{
		SPITupleTable *events = SPI_tuptable;
		uint64		n = SPI_processed;

		MemoryContextSwitchTo(cxt);
		for (uint64 i = 0; i < n; i++)
		{
			HeapTuple	et = events->vals[i];
			Jsonb	   *ev = outbox_spi_jsonb(et, events->tupdesc, "event");
			JsonbParseState *st = NULL;
			JsonbIterator *it = JsonbIteratorInit(&ev->root);
			JsonbValue	v;
			char	   *key;

			/* the event, marked with the replay's name */
			pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
			while (outbox_jsonb_next_pair(&it, &key, &v))
				outbox_jsonb_push_value(&st, key, &v);
			outbox_jsonb_push_string(&st, "replay-name", name);
			e.event = JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL));
			e.id = outbox_spi_text(et, events->tupdesc, "event_id");
			e.ingestion = outbox_now();
			bus_dispatch(b, &e);
			MemoryContextSwitchTo(cxt);
			last_time = outbox_spi_timestamp(et, events->tupdesc, "event_time");
			last_id = e.id;
			done++;
		}
	}
	{
		Oid			utypes[5] = {TEXTOID, INT4OID, TIMESTAMPTZOID, TEXTOID, BOOLOID};
		Datum		uvals[5];
		char		unulls[5] = {' ', ' ', ' ', ' ', ' '};
		bool		finished = done < REPLAY_BATCH;

		uvals[0] = CStringGetTextDatum(name);
		uvals[1] = Int32GetDatum(done);
		uvals[2] = TimestampTzGetDatum(last_time);
		unulls[2] = done ? ' ' : 'n';
		uvals[3] = last_id ? CStringGetTextDatum(last_id) : (Datum) 0;
		unulls[3] = last_id ? ' ' : 'n';
		uvals[4] = BoolGetDatum(finished);
		if (SPI_execute_with_args("UPDATE outbox.replay SET events_replayed = events_replayed + $2,"
								  " cursor_time = coalesce($3, cursor_time), cursor_id = coalesce($4, cursor_id),"
								  " event_last_replayed_time = CASE WHEN $2 > 0 THEN outbox.clock_now()"
								  " ELSE event_last_replayed_time END,"
								  " state = CASE WHEN $5 THEN 'COMPLETED' ELSE 'RUNNING' END,"
								  " replay_end_time = CASE WHEN $5 THEN outbox.clock_now() END"
								  " WHERE replay_name = $1", 5, utypes, uvals, unulls, false, 0) != SPI_OK_UPDATE)
			elog(ERROR, "could not record the progress of replay \"%s\"", name);
		SPI_finish();
		outbox_restore_user(&sw);
		if (finished)
			outbox_due_finish(item);
		else
			outbox_due_postpone(item, outbox_now(), item->attempts, NULL);
	}
}

void
bus_archive_init(void)
{
	outbox_due_register("replay", run_replay);
}

PG_FUNCTION_INFO_V1(outbox_run_bus_maintenance);
Datum
outbox_run_bus_maintenance(PG_FUNCTION_ARGS)
{
	OutboxCall	call;
	int64		n;

	outbox_call_begin(&call);
	if (SPI_execute("DELETE FROM outbox.archived_event e USING outbox.archive a"
					" WHERE e.archive_id = a.archive_id AND a.retention_days > 0"
					" AND e.archived_at < outbox.clock_now() - make_interval(days => a.retention_days)",
					false, 0) != SPI_OK_DELETE)
		elog(ERROR, "could not expire archived events");
	n = (int64) SPI_processed;
	outbox_call_end(&call);
	PG_RETURN_INT64(n);
}
