/*-------------------------------------------------------------------------
 *
 * bus_events.c
 *	  put_events: entries checked one by one, the event envelope, matching
 *	  against the bus's compiled rules, and delivery to the targets.
 *
 * An entry that is malformed (no Source, DetailType or Detail; a Detail
 * that is not a JSON object; a reserved "aws." source; an unknown bus or
 * one the caller may not put to) gets its ErrorCode and ErrorMessage and
 * changes nothing; the good entries are routed.  Nothing is raised for
 * them, so a failed entry never aborts the caller's transaction -- and the
 * good ones still commit or roll back with it.  Only request-level
 * problems raise: not an array, 0 or more than 10 entries, more than 1 MiB,
 * or no entry with Source, DetailType and Detail at all.
 *
 * Targets of kind queue and topic are written in the caller's transaction,
 * as the rule's owner; what the owner cannot help (the queue is gone, a
 * right was revoked, the input is too large) goes to the target's
 * dead-letter queue.  Function and bus targets become due items of kind
 * "events", run by the workers after commit with the target's RetryPolicy:
 * up to MaximumRetryAttempts retries, 1, 2, 4 ... 60 seconds apart, within
 * MaximumEventAgeInSeconds; then the dead-letter queue.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/bus/bus_events.c
 *
 *-------------------------------------------------------------------------
 */
#include "pg_outbox.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
#include "utils/uuid.h"

#include "core/clock.h"
#include "core/jsonb_util.h"
#include "core/security.h"
#include "bus/bus.h"
#include "sfn/sfn.h"
#include "queue/queue.h"
#include "topic/topic.h"
#include "worker/worker.h"

#define RETRY_MAX_DELAY_SECS	60

/* ISO 8601 in UTC to the second, as EventBridge writes "time" */
char *
bus_iso_seconds(TimestampTz t)
{
	struct pg_tm tm;
	fsec_t		fsec;

	if (timestamp2tm(t, NULL, &tm, &fsec, NULL, NULL) != 0)
		return pstrdup("");
	return psprintf("%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year, tm.tm_mon, tm.tm_mday,
					tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* ---- dead letters ---- */

/*
 * A delivery that failed for good: to the target's dead-letter queue with
 * EventBridge's six attributes, or to the log.  SPI must be connected, as
 * the extension owner.
 */
static void
dead_letter(const char *rule, const char *target, const char *dlq, Oid owner, const char *body,
			const char *code, const char *error, const char *condition, int retries)
{
	bool		ok = false;
	char	   *dlq_error = NULL;

	if (dlq)
	{
		JsonbParseState *st = NULL;

		pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
		outbox_jsonb_push_string_attribute(&st, "RULE_ARN", rule);
		outbox_jsonb_push_string_attribute(&st, "TARGET_ARN", target);
		outbox_jsonb_push_string_attribute(&st, "ERROR_CODE", code);
		outbox_jsonb_push_string_attribute(&st, "ERROR_MESSAGE", error);
		if (condition)
			outbox_jsonb_push_string_attribute(&st, "EXHAUSTED_RETRY_CONDITION", condition);
		outbox_jsonb_push_string_attribute(&st, "RETRY_ATTEMPTS", psprintf("%d", retries));
		queue_send_as(dlq, cstring_to_text(body),
					  JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL)),
					  NULL, NULL, owner, &ok, &dlq_error);
		if (ok)
			return;
	}
	ereport(LOG,
			(errmsg("pg_outbox dropped an event for target %s of rule %s: %s", target, rule, error),
			 dlq_error ? errdetail("The dead-letter queue did not take it either: %s", dlq_error) :
			 errhint("Give the target a DeadLetterConfig to keep such events.")));
}

/* ---- routing ---- */

static void
schedule_async(RuleInfo *r, TargetInfo *t, BusEvent *e, const char *bus_name, const char *input)
{
	JsonbParseState *st = NULL;
	JsonbValue	v;

	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	outbox_jsonb_push_string(&st, "bus", bus_name);
	outbox_jsonb_push_string(&st, "rule", r->name);
	outbox_jsonb_push_string(&st, "target", t->id);
	outbox_jsonb_push_string(&st, "input", input);
	v.type = jbvBinary;
	v.val.binary.data = &e->event->root;
	v.val.binary.len = VARSIZE(e->event) - VARHDRSZ;
	outbox_jsonb_push_value(&st, "event", &v);
	v.type = jbvNumeric;
	v.val.numeric = int64_to_numeric(e->hops);
	outbox_jsonb_push_value(&st, "hops", &v);
	(void) outbox_due_schedule("events", outbox_now(), r->owner_oid,
							   t->kind == TARGET_FUNCTION ? t->function : InvalidOid,
							   JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL)));
}

static void
deliver(BusInfo *b, RuleInfo *r, TargetInfo *t, BusEvent *e)
{
	char	   *input = bus_target_input(r, t, e);
	bool		ok = true;
	char	   *error = NULL;

	switch (t->kind)
	{
		case TARGET_QUEUE:
			queue_send_as(t->endpoint, cstring_to_text(input), NULL, t->message_group_id,
						  t->message_group_id ? e->id : NULL, r->owner_oid, &ok, &error);
			break;
		case TARGET_TOPIC:
			topic_publish_as(t->endpoint, cstring_to_text(input), r->owner_oid, &ok, &error);
			break;
		case TARGET_FUNCTION:
			if (outbox_jsonb_parse_or_null(input, strlen(input)) == NULL)
			{
				ok = false;
				error = pstrdup("the input for a function must be JSON");
			}
			else if (OidIsValid(r->owner_oid))
				schedule_async(r, t, e, b->name, input);
			break;
		case TARGET_BUS:
			if (OidIsValid(r->owner_oid))
				schedule_async(r, t, e, b->name, input);
			break;
		case TARGET_STATE_MACHINE:
			sfn_start_as(t->endpoint, input, r->owner_oid, &ok, &error);
			break;
	}
	if (!ok)
		dead_letter(r->arn, t->arn, t->dead_letter_queue, r->owner_oid, input, "ClientError", error, NULL, 0);
}

/* Deliver an event to one rule's targets (a scheduled rule's firing). */
void
bus_deliver_rule(BusInfo *b, RuleInfo *r, BusEvent *e)
{
	for (int k = 0; k < r->ntargets; k++)
		deliver(b, r, &r->targets[k], e);
}

/* Match an event against the bus's enabled rules and deliver it. */
void
bus_dispatch(BusInfo *b, BusEvent *e)
{
	int		   *hits;
	int			n;

	if (b->patterns == NULL)
		return;
	hits = palloc(sizeof(int) * b->nrules);
	n = pattern_set_match(b->patterns, e->event, hits);
	for (int i = 0; i < n; i++)
	{
		RuleInfo   *r = &b->rules[hits[i]];
		bool		wanted = e->only_rules == NULL;

		for (int k = 0; k < e->nonly_rules && !wanted; k++)
			wanted = strcmp(e->only_rules[k], r->name) == 0;
		if (wanted)
			bus_deliver_rule(b, r, e);
	}
	pfree(hits);
}

/* ---- put_events ---- */

typedef struct Entry
{
	const char *code;			/* NULL: good */
	char	   *message;
	char	   *source;
	char	   *detail_type;
	Jsonb	   *detail;
	JsonbValue *resources;
	TimestampTz time;
	char	   *bus;
} Entry;

static char *
entry_string(JsonbContainer *c, const char *key, bool *bad)
{
	JsonbValue *v = outbox_jsonb_get(c, key);

	if (v == NULL || v->type == jbvNull)
		return NULL;
	if (v->type != jbvString)
	{
		*bad = true;
		return NULL;
	}
	return pnstrdup(v->val.string.val, v->val.string.len);
}

/* Read one entry; bad ones get a code and a message.  Adds to *size. */
static void
read_entry(JsonbValue *v, Entry *e, int64 *size, bool *complete)
{
	JsonbContainer *c;
	bool		bad = false;
	JsonbValue *detail;
	char	   *time;

	memset(e, 0, sizeof(*e));
	if (v->type != jbvBinary || !JsonContainerIsObject(v->val.binary.data))
	{
		e->code = "InvalidArgument";
		e->message = pstrdup("an entry must be a JSON object");
		return;
	}
	c = v->val.binary.data;
	e->source = entry_string(c, "Source", &bad);
	e->detail_type = entry_string(c, "DetailType", &bad);
	e->bus = entry_string(c, "EventBusName", &bad);
	time = entry_string(c, "Time", &bad);
	detail = outbox_jsonb_get(c, "Detail");
	e->resources = outbox_jsonb_get(c, "Resources");
	if (e->source)
		*size += strlen(e->source);
	if (e->detail_type)
		*size += strlen(e->detail_type);
	if (detail && detail->type == jbvString)
		*size += detail->val.string.len;
	if (time)
		*size += 14;
	if (e->source && e->detail_type && detail)
		*complete = true;

	if (bad)
	{
		e->code = "InvalidArgument";
		e->message = pstrdup("Source, DetailType, EventBusName and Time must be strings");
	}
	else if (e->source == NULL || e->detail_type == NULL || detail == NULL)
	{
		e->code = "InvalidArgument";
		e->message = psprintf("the entry has no %s", e->source == NULL ? "Source" :
							  e->detail_type == NULL ? "DetailType" : "Detail");
	}
	else if (strncmp(e->source, "aws.", 4) == 0)
	{
		e->code = "NotAuthorizedForSourceException";
		e->message = psprintf("the source \"%s\" is reserved", e->source);
	}
	else if (detail->type == jbvString &&
			 ((e->detail = outbox_jsonb_parse_or_null(detail->val.string.val, detail->val.string.len)) == NULL ||
			  !JB_ROOT_IS_OBJECT(e->detail) || JB_ROOT_IS_SCALAR(e->detail)))
	{
		e->code = "MalformedDetail";
		e->message = pstrdup("Detail must be a JSON object");
	}
	else if (detail->type != jbvString &&
			 (detail->type != jbvBinary || !JsonContainerIsObject(detail->val.binary.data)))
	{
		e->code = "MalformedDetail";
		e->message = pstrdup("Detail must be a JSON object");
	}
	else if (e->resources && (e->resources->type != jbvBinary ||
							  !JsonContainerIsArray(e->resources->val.binary.data)))
	{
		e->code = "InvalidArgument";
		e->message = pstrdup("Resources must be an array of strings");
	}
	else if (time && !outbox_parse_iso_timestamp(time, 1970, &e->time))
	{
		e->code = "InvalidArgument";
		e->message = psprintf("Time \"%s\" is not an ISO 8601 time", time);
	}
	if (e->code == NULL && detail->type == jbvBinary)
	{
		e->detail = JsonbValueToJsonb(detail);
		*size += VARSIZE(e->detail) - VARHDRSZ;
	}
	if (e->code == NULL && e->resources)
	{
		for (uint32 i = 0; i < JsonContainerSize(e->resources->val.binary.data); i++)
		{
			JsonbValue *r = getIthJsonbValueFromContainer(e->resources->val.binary.data, i);

			if (r->type != jbvString)
			{
				e->code = "InvalidArgument";
				e->message = pstrdup("Resources must be an array of strings");
				break;
			}
			*size += r->val.string.len;
		}
	}
}

static Jsonb *
envelope(Entry *e, const char *id, TimestampTz now)
{
	JsonbParseState *st = NULL;
	JsonbValue	v;

	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	outbox_jsonb_push_string(&st, "version", "0");
	outbox_jsonb_push_string(&st, "id", id);
	outbox_jsonb_push_string(&st, "detail-type", e->detail_type);
	outbox_jsonb_push_string(&st, "source", e->source);
	outbox_jsonb_push_string(&st, "account", outbox_account_id);
	outbox_jsonb_push_string(&st, "time", bus_iso_seconds(e->time ? e->time : now));
	outbox_jsonb_push_string(&st, "region", outbox_region);
	if (e->resources)
		outbox_jsonb_push_value(&st, "resources", e->resources);
	else
	{
		v.type = jbvString;
		v.val.string.val = "resources";
		v.val.string.len = 9;
		pushJsonbValue(&st, WJB_KEY, &v);
		pushJsonbValue(&st, WJB_BEGIN_ARRAY, NULL);
		pushJsonbValue(&st, WJB_END_ARRAY, NULL);
	}
	v.type = jbvBinary;
	v.val.binary.data = &e->detail->root;
	v.val.binary.len = VARSIZE(e->detail) - VARHDRSZ;
	outbox_jsonb_push_value(&st, "detail", &v);
	return JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL));
}

static bool
bus_name_ok(const char *name)
{
	size_t		len = strlen(name);

	if (len == 0 || len > BUS_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char) name[i]) && strchr("/._-", name[i]) == NULL)
			return false;
	return true;
}

/*
 * PutEvents.  SPI must be connected, as the extension owner; results go to
 * the tuple store in the order of the entries.
 */
void
bus_put_events(Jsonb *entries, Tuplestorestate *store, TupleDesc desc)
{
	int			n;
	Entry	   *es;
	int64		size = 0;
	bool		complete = false;
	TimestampTz now = outbox_now();

	if (!JB_ROOT_IS_ARRAY(entries) || JB_ROOT_IS_SCALAR(entries))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid \"entries\": expected a JSON array of entries")));
	n = JB_ROOT_COUNT(entries);
	if (n == 0 || n > PUT_EVENTS_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid \"entries\": %d given, 1 to %d are allowed", n, PUT_EVENTS_MAX)));
	es = palloc(sizeof(Entry) * n);
	for (int i = 0; i < n; i++)
		read_entry(getIthJsonbValueFromContainer(&entries->root, i), &es[i], &size, &complete);
	if (size > PUT_EVENTS_MAX_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("put_events request of %lld bytes is larger than %d bytes", (long long) size, PUT_EVENTS_MAX_BYTES),
				 errdetail("The size counts Source, DetailType, Detail, Resources and 14 bytes for a Time, as EventBridge does.")));
	if (!complete)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid \"entries\": no entry has Source, DetailType and Detail")));

	for (int i = 0; i < n; i++)
	{
		Entry	   *e = &es[i];
		Datum		vals[3];
		bool		nulls[3] = {false, true, true};
		char		id[37];

		if (e->code == NULL)
		{
			const char *name = e->bus ? e->bus : "default";
			BusInfo    *b = NULL;

			if (strncmp(name, "arn:", 4) == 0)
			{
				const char *p = strstr(name, ":event-bus/");

				name = p ? p + strlen(":event-bus/") : "";
			}
			if (bus_name_ok(name))
				b = bus_lookup(name, true);
			if (b == NULL)
			{
				e->code = "ResourceNotFoundException";
				e->message = psprintf("event bus \"%s\" does not exist", name);
			}
			else if (!(bus_rights_of(b, outbox_current_caller) & BUS_PRIV_PUT))
			{
				e->code = "AccessDeniedException";
				e->message = psprintf("role \"%s\" may not put events on event bus \"%s\"",
									  GetUserNameFromId(outbox_current_caller, false), name);
			}
			else
			{
				BusEvent	ev;

				memset(&ev, 0, sizeof(ev));
				strlcpy(id, DatumGetCString(DirectFunctionCall1(uuid_out, DirectFunctionCall1(gen_random_uuid, (Datum) 0))),
						sizeof(id));
				ev.id = id;
				ev.event = envelope(e, id, now);
				ev.ingestion = now;
				ev.hops = 0;
				bus_dispatch(b, &ev);
				bus_archive_event(b, &ev);
				vals[0] = CStringGetTextDatum(id);
			}
		}
		if (e->code)
		{
			nulls[0] = true;
			nulls[1] = nulls[2] = false;
			vals[1] = CStringGetTextDatum(e->code);
			vals[2] = CStringGetTextDatum(e->message);
		}
		tuplestore_putvalues(store, desc, vals, nulls);
	}
}

/* ---- asynchronous targets (due items of kind "events") ---- */

static void
run_target(OutboxDueItem *item)
{
	Jsonb	   *payload = (Jsonb *) item->payload;
	char	   *bus_name = outbox_jsonb_get_string(&payload->root, "bus");
	char	   *rule_name = outbox_jsonb_get_string(&payload->root, "rule");
	char	   *target_id = outbox_jsonb_get_string(&payload->root, "target");
	char	   *input = outbox_jsonb_get_string(&payload->root, "input");
	JsonbValue *ev = outbox_jsonb_get(&payload->root, "event");
	JsonbValue *hops_v = outbox_jsonb_get(&payload->root, "hops");
	OutboxUserSwitch sw;
	BusInfo    *b;
	RuleInfo   *r = NULL;
	TargetInfo *t = NULL;
	TargetInfo	target;
	char	   *rule_arn_copy = NULL;
	WorkerCallResult res;
	int			attempt = item->attempts + 1;
	TimestampTz now = outbox_now();
	MemoryContext cxt = CurrentMemoryContext;
	int			hops = hops_v && hops_v->type == jbvNumeric ?
		DatumGetInt32(DirectFunctionCall1(numeric_int4, NumericGetDatum(hops_v->val.numeric))) : 0;

	if (!bus_name || !rule_name || !target_id || !input || !ev || ev->type != jbvBinary)
	{
		ereport(WARNING, (errmsg("pg_outbox dropped malformed rule delivery %s", item->request_id)));
		outbox_due_finish(item);
		return;
	}
	outbox_become_owner(&sw);
	SPI_connect();
	b = bus_lookup(bus_name, true);
	if (b)
		r = bus_find_rule(b, rule_name);
	for (int i = 0; r && i < r->ntargets; i++)
		if (strcmp(r->targets[i].id, target_id) == 0)
			t = &r->targets[i];
	MemoryContextSwitchTo(cxt);
	if (t == NULL)
	{
		/* the rule or the target is gone: nothing to deliver to */
		SPI_finish();
		outbox_restore_user(&sw);
		outbox_due_finish(item);
		return;
	}
	/* copies: the code below may look buses up again */
	target = *t;
	target.arn = pstrdup(t->arn);
	target.endpoint = pstrdup(t->endpoint);
	target.dead_letter_queue = t->dead_letter_queue ? pstrdup(t->dead_letter_queue) : NULL;
	rule_arn_copy = pstrdup(r->arn);

	memset(&res, 0, sizeof(res));
	if (target.kind == TARGET_BUS)
	{
		BusInfo    *next = bus_lookup(target.endpoint, true);

		res.ok = false;
		res.sqlerrcode = ERRCODE_INVALID_PARAMETER_VALUE;
		if (next == NULL)
			res.message = psprintf("event bus \"%s\" does not exist", target.endpoint);
		else if (!(bus_rights_of(next, item->run_as) & BUS_PRIV_PUT))
			res.message = psprintf("the rule's owner may not put events on event bus \"%s\"", target.endpoint);
		else if (hops + 1 > BUS_MAX_HOPS)
			res.message = psprintf("the event has been forwarded %d times, the most allowed", hops);
		else
		{
			BusEvent	e;

			memset(&e, 0, sizeof(e));
			e.event = JsonbValueToJsonb(ev);
			e.id = outbox_jsonb_get_string(&e.event->root, "id");
			e.ingestion = now;
			e.hops = hops + 1;
			bus_dispatch(next, &e);
			bus_archive_event(next, &e);
			res.ok = true;
		}
		MemoryContextSwitchTo(cxt);
		SPI_finish();
		outbox_restore_user(&sw);
	}
	else
	{
		WorkerFunctionConfig cfg;

		SPI_finish();
		outbox_restore_user(&sw);
		if (!SearchSysCacheExists1(PROCOID, ObjectIdGetDatum(item->function)))
		{
			res.sqlerrcode = ERRCODE_UNDEFINED_FUNCTION;
			res.message = psprintf("function %s does not exist", target.endpoint);
		}
		else
		{
			worker_function_config(item->function, &cfg);
			worker_call_function(item->function, item->run_as,
								 DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(input))),
								 cfg.timeout_seconds * 1000, &res);
		}
	}
	if (res.ok)
	{
		outbox_due_finish(item);
		return;
	}
	if (worker_error_is_retryable(res.sqlerrcode) && target.kind != TARGET_BUS)
	{
		int			retries = attempt - 1;
		int64		delay = Min((int64) 1 << Min(retries, 20), RETRY_MAX_DELAY_SECS) * USECS_PER_SEC;
		bool		attempts_left = retries < target.max_attempts;
		bool		age_left = now + delay < item->enqueued_at + (int64) target.max_age * USECS_PER_SEC;

		if (attempts_left && age_left)
		{
			outbox_due_postpone(item, now + delay, attempt, res.message);
			return;
		}
		outbox_due_finish(item);
		outbox_become_owner(&sw);
		SPI_connect();
		dead_letter(rule_arn_copy, target.arn, target.dead_letter_queue, item->run_as, input,
					unpack_sql_state(res.sqlerrcode), res.message,
					attempts_left ? "MaximumEventAgeInSeconds" : "MaximumRetryAttempts", retries);
		SPI_finish();
		outbox_restore_user(&sw);
		return;
	}
	outbox_due_finish(item);
	outbox_become_owner(&sw);
	SPI_connect();
	dead_letter(rule_arn_copy, target.arn, target.dead_letter_queue, item->run_as, input,
				unpack_sql_state(res.sqlerrcode), res.message, NULL, attempt - 1);
	SPI_finish();
	outbox_restore_user(&sw);
}

void
bus_events_init(void)
{
	outbox_due_register("events", run_target);
}
