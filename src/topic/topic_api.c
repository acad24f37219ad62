/*-------------------------------------------------------------------------
 *
 * topic_api.c
 *	  The SQL-callable functions of the topic room.
 *
 * Each function reads and checks its arguments, opens a call (core/
 * security.c), looks the topic up once, checks the caller's right, and
 * hands over to the room's internal API.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/topic/topic_api.c
 *
 *-------------------------------------------------------------------------
 */
#include "pg_outbox.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/tuplestore.h"

#include "core/acl.h"
#include "core/jsonb_util.h"
#include "core/security.h"
#include "topic/topic.h"

#define JSONB_ARG(n, field) (outbox_arg_not_null(fcinfo, (n), (field)), PG_GETARG_JSONB_P(n))
#define TEXT_OR_NULL(n)	(PG_ARGISNULL(n) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(n)))

void
outbox_topic_init(void)
{
	topic_catalog_init();
	topic_deliver_init();
}

/* Begin a call and find the topic; "privilege" 0 asks for any right. */
static TopicInfo *
call_open_topic(OutboxCall *call, const char *name, int privilege, const char *action)
{
	TopicInfo  *t;

	outbox_call_begin(call);
	t = topic_lookup(name, false);
	if (privilege == 0)
		topic_check_any_right(t, action);
	else
		topic_check_rights(t, privilege, action);
	return t;
}

/* ---- topics ---- */

PG_FUNCTION_INFO_V1(outbox_create_topic);
Datum
outbox_create_topic(PG_FUNCTION_ARGS)
{
	char	   *name = outbox_arg_text(fcinfo, 0, "topic_name");
	Jsonb	   *attributes = PG_ARGISNULL(1) ? NULL : PG_GETARG_JSONB_P(1);
	Jsonb	   *tags = PG_ARGISNULL(2) ? NULL : PG_GETARG_JSONB_P(2);
	OutboxCall	call;
	char	   *arn;
	Datum		result;

	outbox_call_begin(&call);
	topic_create(name, attributes, tags, &arn);
	result = outbox_call_text_result(arn);
	outbox_call_end(&call);
	PG_RETURN_DATUM(result);
}

PG_FUNCTION_INFO_V1(outbox_delete_topic);
Datum
outbox_delete_topic(PG_FUNCTION_ARGS)
{
	char	   *name = outbox_arg_text(fcinfo, 0, "topic_name");
	OutboxCall	call;
	TopicInfo  *t;

	outbox_call_begin(&call);
	t = topic_lookup(name, true);
	if (t)
	{
		topic_check_rights(t, TOPIC_PRIV_ADMIN, "delete_topic");
		topic_drop(t);
	}
	outbox_call_end(&call);
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(outbox_get_topic_attributes);
Datum
outbox_get_topic_attributes(PG_FUNCTION_ARGS)
{
	char	   *name = outbox_arg_text(fcinfo, 0, "topic_name");
	OutboxCall	call;
	TopicInfo  *t = call_open_topic(&call, name, 0, "get_topic_attributes");
	Datum		result = outbox_call_jsonb_result(topic_format_attributes(t));

	outbox_call_end(&call);
	PG_RETURN_DATUM(result);
}

PG_FUNCTION_INFO_V1(outbox_set_topic_attributes);
Datum
outbox_set_topic_attributes(PG_FUNCTION_ARGS)
{
	char	   *name = outbox_arg_text(fcinfo, 0, "topic_name");
	Jsonb	   *attributes = JSONB_ARG(1, "attributes");
	OutboxCall	call;
	TopicInfo  *t = call_open_topic(&call, name, TOPIC_PRIV_ADMIN, "set_topic_attributes");

	topic_set_attributes(t, attributes);
	outbox_call_end(&call);
	PG_RETURN_VOID();
}

/* The names of every topic, for the listing functions. */
static char **
all_topic_names(int *n)
{
	char	  **names;

	if (SPI_execute("SELECT topic_name FROM outbox.topic ORDER BY topic_name", true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not list topics");
	*n = (int) SPI_processed;
	names = palloc(sizeof(char *) * Max(*n, 1));
	for (int i = 0; i < *n; i++)
		names[i] = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
	return names;
}

PG_FUNCTION_INFO_V1(outbox_list_topics);
Datum
outbox_list_topics(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	OutboxCall	call;
	char	  **names;
	int			n;

	InitMaterializedSRF(fcinfo, 0);
	outbox_call_begin(&call);
	names = all_topic_names(&n);
	for (int i = 0; i < n; i++)
	{
		TopicInfo  *t = topic_lookup(names[i], true);
		Datum		vals[4];
		bool		nulls[4] = {false, false, false, false};

		if (t == NULL || topic_rights_of(t, outbox_current_caller) == 0)
			continue;
		vals[0] = CStringGetTextDatum(t->name);
		vals[1] = CStringGetTextDatum(t->arn);
		vals[2] = BoolGetDatum(t->is_fifo);
		vals[3] = Int32GetDatum(t->nsubs);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, vals, nulls);
	}
	outbox_call_end(&call);
	return (Datum) 0;
}

static void
grant_or_revoke(FunctionCallInfo fcinfo, bool is_grant)
{
	char	   *name = outbox_arg_text(fcinfo, 0, "topic_name");
	ArrayType  *privileges = (outbox_arg_not_null(fcinfo, 1, "privileges"), PG_GETARG_ARRAYTYPE_P(1));
	char	   *grantee = outbox_arg_text(fcinfo, 2, "grantee");
	int			bits = outbox_acl_parse(&topic_acl, privileges);
	OutboxCall	call;
	TopicInfo  *t = call_open_topic(&call, name, TOPIC_PRIV_ADMIN, is_grant ? "grant_topic" : "revoke_topic");

	outbox_acl_store(&topic_acl, t->topic_id, bits, grantee, is_grant);
	outbox_call_end(&call);
}

PG_FUNCTION_INFO_V1(outbox_grant_topic);
Datum
outbox_grant_topic(PG_FUNCTION_ARGS)
{
	grant_or_revoke(fcinfo, true);
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(outbox_revoke_topic);
Datum
outbox_revoke_topic(PG_FUNCTION_ARGS)
{
	grant_or_revoke(fcinfo, false);
	PG_RETURN_VOID();
}

/* ---- subscriptions ---- */

PG_FUNCTION_INFO_V1(outbox_subscribe);
Datum
outbox_subscribe(PG_FUNCTION_ARGS)
{
	char	   *name = outbox_arg_text(fcinfo, 0, "topic_name");
	char	   *protocol = outbox_arg_text(fcinfo, 1, "protocol");
	char	   *endpoint = outbox_arg_text(fcinfo, 2, "endpoint");
	Jsonb	   *attributes = PG_ARGISNULL(3) ? NULL : PG_GETARG_JSONB_P(3);
	OutboxCall	call;
	TopicInfo  *t = call_open_topic(&call, name, TOPIC_PRIV_SUBSCRIBE, "subscribe");
	Datum		result = outbox_call_text_result(topic_subscribe(t, protocol, endpoint, attributes));

	outbox_call_end(&call);
	PG_RETURN_DATUM(result);
}

PG_FUNCTION_INFO_V1(outbox_unsubscribe);
Datum
outbox_unsubscribe(PG_FUNCTION_ARGS)
{
	char	   *arn = outbox_arg_text(fcinfo, 0, "subscription_arn");
	OutboxCall	call;
	TopicInfo  *t;
	SubscriptionInfo *s;

	outbox_call_begin(&call);
	s = topic_find_subscription(arn, &t, false);
	topic_check_subscription_rights(t, s, "unsubscribe");
	topic_unsubscribe(t, s);
	outbox_call_end(&call);
	PG_RETURN_VOID();
}

static void
put_subscriptions(ReturnSetInfo *rsinfo, TopicInfo *t, bool only_visible)
{
	bool		topic_visible = topic_rights_of(t, outbox_current_caller) != 0;

	for (int i = 0; i < t->nsubs; i++)
	{
		SubscriptionInfo *s = &t->subs[i];
		Datum		vals[5];
		bool		nulls[5] = {false, false, false, false, false};

		if (only_visible && !topic_visible &&
			!(OidIsValid(s->owner_oid) && has_privs_of_role(outbox_current_caller, s->owner_oid)))
			continue;
		vals[0] = CStringGetTextDatum(s->arn);
		vals[1] = CStringGetTextDatum(t->arn);
		vals[2] = CStringGetTextDatum(topic_protocol_name(s->protocol));
		vals[3] = CStringGetTextDatum(s->endpoint);
		vals[4] = DirectFunctionCall1(namein, CStringGetDatum(s->owner));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, vals, nulls);
	}
}

PG_FUNCTION_INFO_V1(outbox_list_subscriptions);
Datum
outbox_list_subscriptions(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	OutboxCall	call;
	char	  **names;
	int			n;

	InitMaterializedSRF(fcinfo, 0);
	outbox_call_begin(&call);
	names = all_topic_names(&n);
	for (int i = 0; i < n; i++)
	{
		TopicInfo  *t = topic_lookup(names[i], true);

		if (t)
			put_subscriptions(rsinfo, t, true);
	}
	outbox_call_end(&call);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(outbox_list_subscriptions_by_topic);
Datum
outbox_list_subscriptions_by_topic(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *name = outbox_arg_text(fcinfo, 0, "topic_name");
	OutboxCall	call;
	TopicInfo  *t;

	InitMaterializedSRF(fcinfo, 0);
	t = call_open_topic(&call, name, 0, "list_subscriptions_by_topic");
	put_subscriptions(rsinfo, t, false);
	outbox_call_end(&call);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(outbox_get_subscription_attributes);
Datum
outbox_get_subscription_attributes(PG_FUNCTION_ARGS)
{
	char	   *arn = outbox_arg_text(fcinfo, 0, "subscription_arn");
	OutboxCall	call;
	TopicInfo  *t;
	SubscriptionInfo *s;
	Datum		result;

	outbox_call_begin(&call);
	s = topic_find_subscription(arn, &t, false);
	if (topic_rights_of(t, outbox_current_caller) == 0)
		topic_check_subscription_rights(t, s, "get_subscription_attributes");
	result = outbox_call_jsonb_result(topic_format_sub_attributes(t, s));
	outbox_call_end(&call);
	PG_RETURN_DATUM(result);
}

PG_FUNCTION_INFO_V1(outbox_set_subscription_attributes);
Datum
outbox_set_subscription_attributes(PG_FUNCTION_ARGS)
{
	char	   *arn = outbox_arg_text(fcinfo, 0, "subscription_arn");
	Jsonb	   *attributes = JSONB_ARG(1, "attributes");
	OutboxCall	call;
	TopicInfo  *t;
	SubscriptionInfo *s;

	outbox_call_begin(&call);
	s = topic_find_subscription(arn, &t, false);
	topic_check_subscription_rights(t, s, "set_subscription_attributes");
	topic_set_sub_attributes(t, s, attributes);
	outbox_call_end(&call);
	PG_RETURN_VOID();
}

/* ---- publishing ---- */

static bool
parse_structure(const char *s, const char *field)
{
	if (s == NULL)
		return false;
	if (strcmp(s, "json") == 0)
		return true;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid \"%s\": \"%s\" is not a message structure", field, s),
			 errhint("The only message structure is \"json\" (one body per protocol).")));
	return false;
}

PG_FUNCTION_INFO_V1(outbox_publish);
Datum
outbox_publish(PG_FUNCTION_ARGS)
{
	char	   *name = outbox_arg_text(fcinfo, 0, "topic_name");
	TopicMessage m;
	OutboxCall	call;
	TopicInfo  *t;
	TopicPublished p;
	pg_uuid_t  *result = palloc(sizeof(pg_uuid_t));

	memset(&m, 0, sizeof(m));
	outbox_arg_not_null(fcinfo, 1, "message");
	m.message = PG_GETARG_TEXT_PP(1);
	m.subject = TEXT_OR_NULL(2);
	m.attributes = PG_ARGISNULL(3) ? NULL : PG_GETARG_JSONB_P(3);
	m.group_id = TEXT_OR_NULL(4);
	m.dedup_id = TEXT_OR_NULL(5);
	m.json_structure = parse_structure(TEXT_OR_NULL(6), "message_structure");

	t = call_open_topic(&call, name, TOPIC_PRIV_PUBLISH, "publish");
	topic_check_message(t, &m);
	p = topic_publish(t, &m);
	outbox_call_end(&call);
	memcpy(result, &p.message_id, sizeof(pg_uuid_t));
	PG_RETURN_UUID_P(result);
}

/* A publish_batch entry's string field, or NULL. */
static char *
entry_string(JsonbContainer *entry, const char *key, const char *id)
{
	JsonbValue *v = outbox_jsonb_get(entry, key);

	if (v == NULL || v->type == jbvNull)
		return NULL;
	if (v->type != jbvString)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid \"entries[%s].%s\": expected a string", id, key)));
	return pnstrdup(v->val.string.val, v->val.string.len);
}

static void
parse_entry(JsonbContainer *entry, const char *id, TopicMessage *m)
{
	static const char *const keys[] = {"Id", "Message", "Subject", "MessageAttributes", "MessageGroupId",
	"MessageDeduplicationId", "MessageStructure", NULL};
	JsonbIterator *it = JsonbIteratorInit(entry);
	JsonbValue	v;
	char	   *key;
	char	   *message;
	JsonbValue *attrs;

	while (outbox_jsonb_next_pair(&it, &key, &v))
	{
		bool		known = false;

		for (int i = 0; keys[i]; i++)
			known |= strcmp(key, keys[i]) == 0;
		if (!known)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid \"entries[%s]\": unknown field \"%s\"", id, key)));
	}
	memset(m, 0, sizeof(*m));
	m->entry_id = id;
	message = entry_string(entry, "Message", id);
	m->message = message ? cstring_to_text(message) : NULL;
	m->subject = entry_string(entry, "Subject", id);
	m->group_id = entry_string(entry, "MessageGroupId", id);
	m->dedup_id = entry_string(entry, "MessageDeduplicationId", id);
	m->json_structure = parse_structure(entry_string(entry, "MessageStructure", id),
										psprintf("entries[%s].MessageStructure", id));
	attrs = outbox_jsonb_get(entry, "MessageAttributes");
	if (attrs && attrs->type != jbvNull)
		m->attributes = JsonbValueToJsonb(attrs);
}

static bool
batch_id_valid(const char *id)
{
	size_t		len = strlen(id);

	if (len == 0 || len > 80)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!(isalnum((unsigned char) id[i]) || id[i] == '-' || id[i] == '_'))
			return false;
	return true;
}

/*
 * PublishBatch.  Request-level problems (not an array, 0 or more than 10
 * entries, a bad or repeated Id, more than 256 KiB in all) fail the call.
 * Each entry is then checked and published in a subtransaction of its own:
 * a bad entry is reported with its code and message and changes nothing,
 * the others are published -- and all of them still commit or roll back
 * with the caller's transaction.
 */
PG_FUNCTION_INFO_V1(outbox_publish_batch);
Datum
outbox_publish_batch(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *name = outbox_arg_text(fcinfo, 0, "topic_name");
	Jsonb	   *entries = JSONB_ARG(1, "entries");
	OutboxCall	call;
	TopicInfo  *t;
	int			n;
	char	  **ids;
	int64		total = 0;

	InitMaterializedSRF(fcinfo, 0);
	if (!JB_ROOT_IS_ARRAY(entries) || JB_ROOT_IS_SCALAR(entries))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid \"entries\": expected a JSON array of entries")));
	n = JB_ROOT_COUNT(entries);
	if (n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid \"entries\": the batch is empty")));
	if (n > TOPIC_BATCH_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("invalid \"entries\": %d entries given, at most %d are allowed", n, TOPIC_BATCH_MAX)));
	ids = palloc(sizeof(char *) * n);
	for (int i = 0; i < n; i++)
	{
		JsonbValue *e = getIthJsonbValueFromContainer(&entries->root, i);
		JsonbValue *id;
		JsonbValue *msg;

		if (e->type != jbvBinary || !JsonContainerIsObject(e->val.binary.data) ||
			(id = outbox_jsonb_get(e->val.binary.data, "Id")) == NULL || id->type != jbvString)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid \"entries[%d]\": expected an object with a string \"Id\"", i)));
		ids[i] = pnstrdup(id->val.string.val, id->val.string.len);
		if (!batch_id_valid(ids[i]))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid \"entries[%d].Id\": \"%s\" is not a batch entry id", i, ids[i]),
					 errdetail("An Id has 1 to 80 letters, digits, \"-\" and \"_\".")));
		for (int j = 0; j < i; j++)
			if (strcmp(ids[i], ids[j]) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid \"entries\": Id \"%s\" is used twice", ids[i])));
		msg = outbox_jsonb_get(e->val.binary.data, "Message");
		if (msg && msg->type == jbvString)
			total += msg->val.string.len;
	}
	if (total > TOPIC_MAX_MESSAGE)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("batch of %lld bytes is larger than a topic accepts in one call (%d bytes)",
						(long long) total, TOPIC_MAX_MESSAGE)));

	t = call_open_topic(&call, name, TOPIC_PRIV_PUBLISH, "publish_batch");
	for (int i = 0; i < n; i++)
	{
		JsonbValue *e = getIthJsonbValueFromContainer(&entries->root, i);
		MemoryContext cxt = CurrentMemoryContext;
		ResourceOwner owner = CurrentResourceOwner;
		Oid			caller = outbox_current_caller;
		Datum		vals[6];
		bool		nulls[6] = {false, false, false, false, false, false};

		vals[0] = CStringGetTextDatum(ids[i]);
		BeginInternalSubTransaction(NULL);
		MemoryContextSwitchTo(cxt);
		PG_TRY();
		{
			TopicMessage m;
			TopicPublished p;
			pg_uuid_t  *id;

			parse_entry(e->val.binary.data, ids[i], &m);
			topic_check_message(t, &m);
			p = topic_publish(t, &m);
			ReleaseCurrentSubTransaction();
			MemoryContextSwitchTo(cxt);
			CurrentResourceOwner = owner;
			id = palloc(sizeof(pg_uuid_t));
			memcpy(id, &p.message_id, sizeof(pg_uuid_t));
			vals[1] = UUIDPGetDatum(id);
			if (t->is_fifo)
				vals[2] = CStringGetTextDatum(topic_sequence_text(p.sequence));
			else
				nulls[2] = true;
			nulls[3] = nulls[4] = nulls[5] = true;
		}
		PG_CATCH();
		{
			ErrorData  *edata;

			MemoryContextSwitchTo(cxt);
			edata = CopyErrorData();
			FlushErrorState();
			RollbackAndReleaseCurrentSubTransaction();
			MemoryContextSwitchTo(cxt);
			CurrentResourceOwner = owner;
			outbox_current_caller = caller;
			nulls[1] = nulls[2] = true;
			vals[3] = CStringGetTextDatum(edata->sqlerrcode == ERRCODE_PROGRAM_LIMIT_EXCEEDED ?
										  "ParameterValueInvalid" : edata->sqlerrcode == ERRCODE_INVALID_PARAMETER_VALUE ||
										  edata->sqlerrcode == ERRCODE_NULL_VALUE_NOT_ALLOWED ?
										  "InvalidParameter" : "InternalError");
			vals[4] = CStringGetTextDatum(edata->message);
			vals[5] = BoolGetDatum(edata->sqlerrcode == ERRCODE_PROGRAM_LIMIT_EXCEEDED ||
								   edata->sqlerrcode == ERRCODE_INVALID_PARAMETER_VALUE ||
								   edata->sqlerrcode == ERRCODE_NULL_VALUE_NOT_ALLOWED);
			FreeErrorData(edata);
		}
		PG_END_TRY();
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, vals, nulls);
	}
	outbox_call_end(&call);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(outbox_get_notification);
Datum
outbox_get_notification(PG_FUNCTION_ARGS)
{
	char	   *arn = outbox_arg_text(fcinfo, 0, "subscription_arn");
	pg_uuid_t  *message_id = (outbox_arg_not_null(fcinfo, 1, "message_id"), PG_GETARG_UUID_P(1));
	OutboxCall	call;
	TopicInfo  *t;
	SubscriptionInfo *s;
	Oid			types[2] = {UUIDOID, UUIDOID};
	Datum		vals[2];
	Datum		result = (Datum) 0;
	bool		found = false;

	outbox_call_begin(&call);
	s = topic_find_subscription(arn, &t, false);
	if (topic_rights_of(t, outbox_current_caller) == 0)
		topic_check_subscription_rights(t, s, "get_notification");
	vals[0] = UUIDPGetDatum(message_id);
	vals[1] = UUIDPGetDatum(&s->id);
	if (SPI_execute_with_args("SELECT payload FROM outbox.notification WHERE message_id = $1"
							  " AND subscription_id = $2 AND expires_at > outbox.clock_now()",
							  2, types, vals, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read a notification");
	if (SPI_processed == 1)
	{
		found = true;
		result = outbox_call_text_result(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1));
	}
	outbox_call_end(&call);
	if (!found)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(result);
}

PG_FUNCTION_INFO_V1(outbox_run_topic_maintenance);
Datum
outbox_run_topic_maintenance(PG_FUNCTION_ARGS)
{
	OutboxCall	call;
	int64		n;

	outbox_call_begin(&call);
	n = topic_run_maintenance();
	outbox_call_end(&call);
	PG_RETURN_INT64(n);
}
