/*-------------------------------------------------------------------------
 *
 * bus_rules.c
 *	  Creating and dropping buses; putting, enabling and deleting rules;
 *	  putting and removing targets, with every field checked.
 *
 * A target's Arn says what it is:
 *	  arn:aws:sqs:...:NAME					a queue (in the caller's transaction)
 *	  arn:aws:sns:...:NAME					a topic (in the caller's transaction)
 *	  arn:aws:lambda:...:function:NAME		a SQL function (by the workers)
 *	  arn:aws:events:...:event-bus/NAME		another bus (by the workers)
 * The role putting a target must be able to write there (send, publish,
 * EXECUTE, put); queue and topic deliveries check the rule owner's right
 * again each time.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/bus/bus_rules.c
 *
 *-------------------------------------------------------------------------
 */
#include "pg_outbox.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/regproc.h"
#include "utils/uuid.h"

#include "core/clock.h"
#include "core/jsonb_util.h"
#include "core/security.h"
#include "bus/bus.h"
#include "sfn/sfn.h"
#include "queue/queue.h"
#include "topic/topic.h"
#include "worker/worker.h"

int			outbox_max_rules_per_bus = 300;

/* ---- buses ---- */

char *
bus_create(const char *name, const char *description)
{
	Oid			types[3] = {TEXTOID, NAMEOID, TEXTOID};
	Datum		vals[3];
	char		nulls[3] = {' ', ' ', ' '};

	bus_check_name(name, "event bus name");
	if (strcmp(name, "default") == 0 || strncmp(name, "aws.", 4) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid event bus name \"%s\": the name is reserved", name)));
	if (description && strlen(description) > RULE_DESCRIPTION_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid \"description\": longer than %d characters", RULE_DESCRIPTION_MAX)));
	vals[0] = CStringGetTextDatum(name);
	vals[1] = DirectFunctionCall1(namein, CStringGetDatum(GetUserNameFromId(outbox_current_caller, false)));
	vals[2] = description ? CStringGetTextDatum(description) : (Datum) 0;
	nulls[2] = description ? ' ' : 'n';
	if (SPI_execute_with_args("INSERT INTO outbox.event_bus (bus_name, owner, description, created_at)"
							  " VALUES ($1, $2, $3, outbox.clock_now()) ON CONFLICT (bus_name) DO NOTHING",
							  3, types, vals, nulls, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not create event bus \"%s\"", name);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("event bus \"%s\" already exists", name)));
	CommandCounterIncrement();
	return bus_arn(name);
}

void
bus_drop(BusInfo *b)
{
	Oid			type = INT4OID;
	Datum		val = Int32GetDatum(b->bus_id);

	if (strcmp(b->name, "default") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the default event bus cannot be deleted")));
	if (b->nrules > 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("event bus \"%s\" still has %d rule%s", b->name, b->nrules, b->nrules == 1 ? "" : "s"),
				 errhint("Delete its rules first.")));
	if (SPI_execute_with_args("DELETE FROM outbox.event_bus WHERE bus_id = $1", 1, &type, &val, NULL,
							  false, 0) != SPI_OK_DELETE)
		elog(ERROR, "could not delete event bus \"%s\"", b->name);
	CommandCounterIncrement();
}

/* ---- rules ---- */

char *
bus_put_rule(BusInfo *b, const char *name, Jsonb *pattern, const char *schedule,
			 const char *timezone, const char *state, const char *description)
{
	RuleInfo   *r;
	bool		enabled;
	Oid			owner;
	char	   *token = NULL;
	Oid			types[9] = {INT4OID, TEXTOID, JSONBOID, TEXTOID, BOOLOID, TEXTOID, NAMEOID, UUIDOID, TEXTOID};
	Datum		vals[9];
	char		nulls[9] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};

	bus_check_rule_name(name);
	if (pattern == NULL && schedule == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("rule \"%s\" needs an event pattern, a schedule expression or both", name)));
	if (pattern)
		pattern_validate(pattern, PATTERN_EVENTBRIDGE);
	if (timezone && schedule == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid \"schedule_timezone\": the rule has no schedule_expression")));
	if (timezone)
		bus_check_timezone(timezone);
	if (schedule)
	{
		bus_check_schedule(schedule);
		if (strcmp(b->name, "default") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid \"schedule_expression\": scheduled rules belong on the default event bus"),
					 errdetail("Event bus \"%s\" takes rules with event patterns only, as in EventBridge.", b->name)));
	}
	if (strcmp(state, "ENABLED") == 0 || strcmp(state, "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS") == 0)
		enabled = true;
	else if (strcmp(state, "DISABLED") == 0)
		enabled = false;
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid \"state\": \"%s\" is not ENABLED or DISABLED", state)));
	if (description && strlen(description) > RULE_DESCRIPTION_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid \"description\": longer than %d characters", RULE_DESCRIPTION_MAX)));

	r = bus_find_rule(b, name);
	owner = r ? r->owner_oid : outbox_current_caller;
	if (r)
		bus_check_rule_rights(b, r, "put_rule");
	else
	{
		bus_check_rights(b, BUS_PRIV_RULES, "put_rule");
		if (b->nrules >= outbox_max_rules_per_bus)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("event bus \"%s\" has %d rules, the most \"pg_outbox.max_rules_per_bus\" allows",
							b->name, b->nrules)));
	}

	vals[0] = Int32GetDatum(b->bus_id);
	vals[1] = CStringGetTextDatum(name);
	vals[2] = pattern ? JsonbPGetDatum(pattern) : (Datum) 0;
	nulls[2] = pattern ? ' ' : 'n';
	vals[3] = schedule ? CStringGetTextDatum(schedule) : (Datum) 0;
	nulls[3] = schedule ? ' ' : 'n';
	vals[4] = BoolGetDatum(enabled);
	vals[5] = description ? CStringGetTextDatum(description) : (Datum) 0;
	nulls[5] = description ? ' ' : 'n';
	vals[6] = DirectFunctionCall1(namein, CStringGetDatum(GetUserNameFromId(outbox_current_caller, false)));
	if (schedule && enabled)
		token = DatumGetCString(DirectFunctionCall1(uuid_out, DirectFunctionCall1(gen_random_uuid, (Datum) 0)));
	vals[7] = token ? DirectFunctionCall1(uuid_in, CStringGetDatum(token)) : (Datum) 0;
	nulls[7] = token ? ' ' : 'n';
	vals[8] = timezone ? CStringGetTextDatum(timezone) : (Datum) 0;
	nulls[8] = timezone ? ' ' : 'n';

	/* PutRule replaces: what is not given is cleared; the owner stays */
	if (SPI_execute_with_args("INSERT INTO outbox.rule AS r (bus_id, rule_name, event_pattern,"
							  " schedule_expression, enabled, description, owner, schedule_token, schedule_timezone,"
							  " created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, outbox.clock_now())"
							  " ON CONFLICT (bus_id, rule_name) DO UPDATE SET event_pattern = $3,"
							  " schedule_expression = $4, enabled = $5, description = $6, schedule_token = $8,"
							  " schedule_timezone = $9",
							  9, types, vals, nulls, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not put rule \"%s\"", name);
	CommandCounterIncrement();
	if (token)
		bus_schedule_rule(b->name, name, schedule, timezone, token, owner, outbox_now(), outbox_now());
	return rule_arn(b->name, name);
}

void
bus_set_rule_state(BusInfo *b, RuleInfo *r, bool enabled)
{
	Oid			types[3] = {INT4OID, BOOLOID, UUIDOID};
	Datum		vals[3];
	char		nulls[3] = {' ', ' ', 'n'};
	char	   *token = NULL;
	char	   *bus = pstrdup(b->name);
	char	   *rule = pstrdup(r->name);
	char	   *schedule = r->schedule ? pstrdup(r->schedule) : NULL;
	char	   *timezone = r->schedule_timezone ? pstrdup(r->schedule_timezone) : NULL;
	Oid			owner = r->owner_oid;

	/* enabling a scheduled rule starts its schedule afresh */
	if (enabled && schedule)
	{
		token = DatumGetCString(DirectFunctionCall1(uuid_out, DirectFunctionCall1(gen_random_uuid, (Datum) 0)));
		vals[2] = DirectFunctionCall1(uuid_in, CStringGetDatum(token));
		nulls[2] = ' ';
	}
	vals[0] = Int32GetDatum(r->rule_id);
	vals[1] = BoolGetDatum(enabled);
	if (SPI_execute_with_args("UPDATE outbox.rule SET enabled = $2, schedule_token = $3 WHERE rule_id = $1",
							  3, types, vals, nulls, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "could not change rule \"%s\"", r->name);
	CommandCounterIncrement();
	if (token)
		bus_schedule_rule(bus, rule, schedule, timezone, token, owner, outbox_now(), outbox_now());
}

void
bus_delete_rule(BusInfo *b, RuleInfo *r)
{
	Oid			type = INT4OID;
	Datum		val = Int32GetDatum(r->rule_id);

	if (r->ntargets > 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("rule \"%s\" still has %d target%s", r->name, r->ntargets, r->ntargets == 1 ? "" : "s"),
				 errhint("Remove them with outbox.remove_targets first.")));
	if (SPI_execute_with_args("DELETE FROM outbox.rule WHERE rule_id = $1", 1, &type, &val, NULL,
							  false, 0) != SPI_OK_DELETE)
		elog(ERROR, "could not delete rule \"%s\"", r->name);
	CommandCounterIncrement();
}

/* ---- targets ---- */

static void
check_id(const char *id)
{
	size_t		len = strlen(id);

	if (len == 0 || len > TARGET_ID_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid target \"Id\" \"%s\": length must be between 1 and %d characters", id, TARGET_ID_MAX)));
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char) id[i]) && strchr("._-", id[i]) == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid target \"Id\" \"%s\": only letters, digits and \"._-\" are allowed", id)));
}

static char *
field_string(JsonbContainer *def, const char *key, const char *path)
{
	JsonbValue *v = outbox_jsonb_get(def, key);

	if (v == NULL || v->type == jbvNull)
		return NULL;
	if (v->type != jbvString)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid \"%s.%s\": expected a string", path, key)));
	return pnstrdup(v->val.string.val, v->val.string.len);
}

static JsonbContainer *
field_object(JsonbContainer *def, const char *key, const char *path)
{
	JsonbValue *v = outbox_jsonb_get(def, key);

	if (v == NULL || v->type == jbvNull)
		return NULL;
	if (v->type != jbvBinary || !JsonContainerIsObject(v->val.binary.data))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid \"%s.%s\": expected a JSON object", path, key)));
	return v->val.binary.data;
}

static void
only_keys(JsonbContainer *obj, const char *path, const char *const *keys)
{
	JsonbIterator *it = JsonbIteratorInit(obj);
	JsonbValue	v;
	char	   *key;

	while (outbox_jsonb_next_pair(&it, &key, &v))
	{
		bool		ok = false;

		for (int i = 0; keys[i]; i++)
			ok |= strcmp(keys[i], key) == 0;
		if (!ok)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid \"%s\": unknown field \"%s\"", path, key)));
	}
}

/* Resolve the Arn; with check, the target must exist and the caller write there. */
static void
resolve_arn(TargetInfo *t, const char *path, bool check)
{
	const char *arn = t->arn;

	if (strncmp(arn, "arn:aws:sqs:", 12) == 0)
	{
		t->kind = TARGET_QUEUE;
		t->endpoint = pstrdup(queue_name_from_arn_checked(arn, psprintf("%s.Arn", path)));
		if (check)
		{
			QueueInfo  *q = queue_lookup(t->endpoint, false);

			queue_check_rights(q, QUEUE_PRIV_SEND, "put_targets");
			if (q->is_fifo && t->message_group_id == NULL)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid \"%s\": FIFO queue \"%s\" needs SqsParameters.MessageGroupId", path, q->name)));
		}
	}
	else if (strncmp(arn, "arn:aws:sns:", 12) == 0)
	{
		t->kind = TARGET_TOPIC;
		t->endpoint = pstrdup(topic_name_from_arn(arn));
		if (check)
		{
			TopicInfo  *topic = topic_lookup(t->endpoint, false);

			topic_check_rights(topic, TOPIC_PRIV_PUBLISH, "put_targets");
			if (topic->is_fifo)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("invalid \"%s\": FIFO topic \"%s\" cannot be a rule target", path, topic->name)));
		}
	}
	else if (strncmp(arn, "arn:aws:lambda:", 15) == 0 || strncmp(arn, "function:", 9) == 0)
	{
		t->kind = TARGET_FUNCTION;
		if (check)
			t->function = worker_resolve_handler(arn, psprintf("%s.Arn", path));
		else
		{
			const char *name = strstr(arn, "function:") + strlen("function:");

			t->function = DatumGetObjectId(DirectFunctionCall1(to_regprocedure,
															   CStringGetTextDatum(strchr(name, '(') ? name :
																				   psprintf("%s(jsonb)", name))));
		}
		t->endpoint = OidIsValid(t->function) ? format_procedure_qualified(t->function) : pstrdup(arn);
	}
	else if (strncmp(arn, "arn:aws:events:", 15) == 0 && strstr(arn, ":event-bus/"))
	{
		t->kind = TARGET_BUS;
		t->endpoint = pstrdup(bus_name_from_arn(arn));
		if (check)
		{
			BusInfo    *target = bus_lookup(t->endpoint, false);

			bus_check_rights(target, BUS_PRIV_PUT, "put_targets");
		}
	}
	else if (strncmp(arn, "arn:aws:states:", 15) == 0 && strstr(arn, ":stateMachine:"))
	{
		t->kind = TARGET_STATE_MACHINE;
		t->endpoint = pstrdup(sfn_machine_name(arn));
		if (check && !sfn_machine_has_right(t->endpoint, outbox_current_caller, "start"))
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("invalid \"%s.Arn\": state machine \"%s\" does not exist or you may not start it",
							path, t->endpoint)));
	}
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid \"%s.Arn\": \"%s\" is not a queue, topic, function, event bus or state machine ARN", path, arn)));
}

/*
 * Read a target definition.  With check (put_targets) every field is
 * validated and the Arn must name something the caller may write to;
 * without (loading the cache) the stored, once-checked definition is
 * only read.
 */
void
bus_parse_target(Jsonb *definition, TargetInfo *t, bool check)
{
	static const char *const keys[] = {"Id", "Arn", "RoleArn", "Input", "InputPath", "InputTransformer",
	"RetryPolicy", "DeadLetterConfig", "SqsParameters", NULL};
	static const char *const retry_keys[] = {"MaximumRetryAttempts", "MaximumEventAgeInSeconds", NULL};
	JsonbContainer *def = &definition->root;
	JsonbContainer *o;
	const char *path;
	int			inputs = 0;

	memset(t, 0, sizeof(*t));
	t->definition = definition;
	if (!JB_ROOT_IS_OBJECT(definition) || JB_ROOT_IS_SCALAR(definition))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid target: expected a JSON object")));
	t->id = field_string(def, "Id", "target");
	if (t->id == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid target: \"Id\" is required")));
	path = psprintf("targets[%s]", t->id);
	if (check)
	{
		check_id(t->id);
		only_keys(def, path, keys);
	}
	t->arn = field_string(def, "Arn", path);
	if (t->arn == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid \"%s\": \"Arn\" is required", path)));

	t->input_kind = INPUT_EVENT;
	if ((t->input = field_string(def, "Input", path)) != NULL)
	{
		t->input_kind = INPUT_CONSTANT;
		inputs++;
		if (check && (strlen(t->input) > INPUT_MAX ||
					  outbox_jsonb_parse_or_null(t->input, strlen(t->input)) == NULL))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid \"%s.Input\": expected JSON text of at most %d characters", path, INPUT_MAX)));
	}
	{
		char	   *ip = field_string(def, "InputPath", path);

		if (ip)
		{
			t->input_kind = INPUT_PATH;
			inputs++;
			outbox_path_parse(ip, psprintf("%s.InputPath", path), &t->input_path);
		}
	}
	if ((o = field_object(def, "InputTransformer", path)) != NULL)
	{
		static const char *const xkeys[] = {"InputPathsMap", "InputTemplate", NULL};
		const char *xpath = psprintf("%s.InputTransformer", path);

		t->input_kind = INPUT_TRANSFORMER;
		inputs++;
		if (check)
			only_keys(o, xpath, xkeys);
		bus_parse_transformer(o, xpath, &t->transformer);
	}
	if (inputs > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid \"%s\": Input, InputPath and InputTransformer exclude each other", path)));

	t->max_attempts = RETRY_MAX_ATTEMPTS;
	t->max_age = RETRY_MAX_AGE;
	if ((o = field_object(def, "RetryPolicy", path)) != NULL)
	{
		const char *rpath = psprintf("%s.RetryPolicy", path);
		JsonbValue *v;

		if (check)
			only_keys(o, rpath, retry_keys);
		if ((v = outbox_jsonb_get(o, "MaximumRetryAttempts")) != NULL)
			t->max_attempts = outbox_attr_int(v, psprintf("%s.MaximumRetryAttempts", rpath), 0, RETRY_MAX_ATTEMPTS);
		if ((v = outbox_jsonb_get(o, "MaximumEventAgeInSeconds")) != NULL)
			t->max_age = outbox_attr_int(v, psprintf("%s.MaximumEventAgeInSeconds", rpath), RETRY_MIN_AGE, RETRY_MAX_AGE);
	}
	if ((o = field_object(def, "DeadLetterConfig", path)) != NULL)
	{
		static const char *const dkeys[] = {"Arn", NULL};
		const char *dpath = psprintf("%s.DeadLetterConfig", path);
		char	   *arn;

		if (check)
			only_keys(o, dpath, dkeys);
		arn = field_string(o, "Arn", dpath);
		if (arn == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid \"%s\": \"Arn\" is required", dpath)));
		t->dead_letter_queue = pstrdup(queue_name_from_arn_checked(arn, psprintf("%s.Arn", dpath)));
		if (check)
		{
			QueueInfo  *q = queue_lookup(t->dead_letter_queue, false);

			if (q->is_fifo)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid \"%s.Arn\": a dead-letter queue of a rule target must be a standard queue", dpath)));
			queue_check_rights(q, QUEUE_PRIV_SEND, "put_targets");
		}
	}
	if ((o = field_object(def, "SqsParameters", path)) != NULL)
	{
		static const char *const skeys[] = {"MessageGroupId", NULL};
		const char *spath = psprintf("%s.SqsParameters", path);

		if (check)
			only_keys(o, spath, skeys);
		t->message_group_id = field_string(o, "MessageGroupId", spath);
		if (check && t->message_group_id)
			queue_check_id_chars(t->message_group_id, psprintf("%s.MessageGroupId", spath));
	}
	resolve_arn(t, path, check);
	if (check && t->message_group_id && t->kind != TARGET_QUEUE)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid \"%s.SqsParameters\": only queue targets take SqsParameters", path)));
}

/*
 * PutTargets.  Everything is checked before anything is written: a bad
 * target fails the call and changes nothing.  b and r may not be used
 * after the checks (they may look other buses up).
 */
Jsonb *
bus_put_targets(BusInfo *b, RuleInfo *r, Jsonb *targets)
{
	int			n;
	int32		rule_id = r->rule_id;
	char	   *rule_name = pstrdup(r->name);
	int			existing = r->ntargets;
	char	  **existing_ids = palloc(sizeof(char *) * Max(existing, 1));
	TargetInfo *parsed;
	int			total;

	for (int i = 0; i < existing; i++)
		existing_ids[i] = pstrdup(r->targets[i].id);
	if (!JB_ROOT_IS_ARRAY(targets) || JB_ROOT_IS_SCALAR(targets))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid \"targets\": expected a JSON array of targets")));
	n = JB_ROOT_COUNT(targets);
	if (n == 0 || n > PUT_TARGETS_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid \"targets\": %d given, 1 to %d are allowed per call", n, PUT_TARGETS_MAX)));
	parsed = palloc0(sizeof(TargetInfo) * n);
	total = existing;
	for (int i = 0; i < n; i++)
	{
		JsonbValue *v = getIthJsonbValueFromContainer(&targets->root, i);
		bool		replaces = false;

		if (v->type != jbvBinary)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid \"targets[%d]\": expected a JSON object", i)));
		bus_parse_target(JsonbValueToJsonb(v), &parsed[i], true);
		for (int j = 0; j < i; j++)
			if (strcmp(parsed[j].id, parsed[i].id) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid \"targets\": Id \"%s\" is given twice", parsed[i].id)));
		for (int j = 0; j < existing; j++)
			replaces |= strcmp(existing_ids[j], parsed[i].id) == 0;
		if (!replaces)
			total++;
	}
	if (total > RULE_MAX_TARGETS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("rule \"%s\" would have %d targets, at most %d are allowed", rule_name, total, RULE_MAX_TARGETS)));

	for (int i = 0; i < n; i++)
	{
		Oid			types[3] = {INT4OID, TEXTOID, JSONBOID};
		Datum		vals[3];

		vals[0] = Int32GetDatum(rule_id);
		vals[1] = CStringGetTextDatum(parsed[i].id);
		vals[2] = JsonbPGetDatum(parsed[i].definition);
		if (SPI_execute_with_args("INSERT INTO outbox.rule_target (rule_id, target_id, definition)"
								  " VALUES ($1, $2, $3) ON CONFLICT (rule_id, target_id)"
								  " DO UPDATE SET definition = $3", 3, types, vals, NULL, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "could not put target \"%s\"", parsed[i].id);
	}
	CommandCounterIncrement();
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum("{\"FailedEntryCount\": 0, \"FailedEntries\": []}")));
}

/* RemoveTargets: unknown ids are reported as failed entries. */
Jsonb *
bus_remove_targets(BusInfo *b, RuleInfo *r, ArrayType *ids)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int			failed = 0;
	JsonbParseState *st = NULL;
	JsonbValue	k;
	JsonbValue	v;

	deconstruct_array(ids, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	if (n == 0 || n > 100)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid \"ids\": %d given, 1 to 100 are allowed", n)));
	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	k.type = jbvString;
	k.val.string.val = "FailedEntries";
	k.val.string.len = strlen(k.val.string.val);
	pushJsonbValue(&st, WJB_KEY, &k);
	pushJsonbValue(&st, WJB_BEGIN_ARRAY, NULL);
	for (int i = 0; i < n; i++)
	{
		Oid			types[2] = {INT4OID, TEXTOID};
		Datum		vals[2];

		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("invalid \"ids\": null element")));
		vals[0] = Int32GetDatum(r->rule_id);
		vals[1] = elems[i];
		if (SPI_execute_with_args("DELETE FROM outbox.rule_target WHERE rule_id = $1 AND target_id = $2",
								  2, types, vals, NULL, false, 0) != SPI_OK_DELETE)
			elog(ERROR, "could not remove a target");
		if (SPI_processed == 0)
		{
			failed++;
			pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
			outbox_jsonb_push_string(&st, "TargetId", TextDatumGetCString(elems[i]));
			outbox_jsonb_push_string(&st, "ErrorCode", "ResourceNotFoundException");
			outbox_jsonb_push_string(&st, "ErrorMessage", "the rule has no target with this Id");
			pushJsonbValue(&st, WJB_END_OBJECT, NULL);
		}
	}
	pushJsonbValue(&st, WJB_END_ARRAY, NULL);
	k.val.string.val = "FailedEntryCount";
	k.val.string.len = strlen(k.val.string.val);
	pushJsonbValue(&st, WJB_KEY, &k);
	v.type = jbvNumeric;
	v.val.numeric = int64_to_numeric(failed);
	pushJsonbValue(&st, WJB_VALUE, &v);
	CommandCounterIncrement();
	return JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL));
}
