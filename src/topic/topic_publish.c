/*-------------------------------------------------------------------------
 *
 * topic_publish.c
 *	  Publish: validate a message, match it against the subscriptions'
 *	  filter policies, and fan it out, all in the publisher's transaction.
 *
 * Fan-out per protocol:
 *	  sqs		the queue gets the message now, in this transaction: the SNS
 *				envelope as its body, or with RawMessageDelivery the bare
 *				message and its attributes.  FIFO topics pass the message
 *				group and deduplication id on, so FIFO queues keep the
 *				topic's order and deduplication.
 *	  function	a due item for the workers (topic_deliver.c), committed with
 *				the publish; the function runs after commit.
 *	  notify	NOTIFY, which PostgreSQL delivers at commit.
 * A rollback therefore delivers nothing anywhere.
 *
 * Client-side failures of a queue delivery -- the queue is gone, the
 * subscription's owner lost "send" on it, the message is larger than the
 * queue's MaximumMessageSize, a raw message has more than 10 attributes --
 * are checked before sending, never raised: the delivery goes to the
 * subscription's dead-letter queue (or is dropped with a log line), and
 * the publish itself succeeds, as in SNS.
 *
 * The envelope is written as text once per publish and protocol; only its
 * UnsubscribeURL differs between subscriptions.  We do not sign messages,
 * so the envelope has no Signature, SignatureVersion or SigningCertURL.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/topic/topic_publish.c
 *
 *-------------------------------------------------------------------------
 */
#include "pg_outbox.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/async.h"
#include "commands/sequence.h"
#include "common/pg_prng.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "core/clock.h"
#include "core/jsonb_util.h"
#include "core/security.h"
#include "core/spi_plan.h"
#include "queue/queue.h"
#include "topic/topic.h"
#include "worker/worker.h"

/* What one publish shares between its deliveries. */
typedef struct Fanout
{
	TopicInfo  *topic;
	TopicMessage *msg;
	TopicPublished *published;
	char		message_id[37];
	char	   *timestamp;
	char	   *dedup_id;		/* FIFO: the topic's deduplication id */
	char	   *envelope_head[3];	/* per protocol, up to the UnsubscribeURL */
	char	   *envelope_tail;	/* MessageAttributes and the closing brace */
} Fanout;

/* ---- validation ---- */

static void
check_subject(const char *subject, const char *field)
{
	size_t		len = strlen(subject);

	if (len == 0 || len > TOPIC_SUBJECT_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid \"%s\": length must be between 1 and %d characters", field, TOPIC_SUBJECT_MAX)));
	for (size_t i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) subject[i];

		if (c < 0x20 || c > 0x7e || (i == 0 && c == ' '))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid \"%s\": only printable ASCII is allowed, not starting with a space", field),
					 errdetail("Character %d is 0x%02x.", (int) i + 1, c)));
	}
}

static const char *
field_name(TopicMessage *m, const char *param, const char *entry_key)
{
	return m->entry_id ? psprintf("entries[%s].%s", m->entry_id, entry_key) : param;
}

/*
 * Check a message against the SNS rules and the topic's kind; fills in
 * the parsed per-protocol bodies of MessageStructure = json.
 */
void
topic_check_message(TopicInfo *t, TopicMessage *m)
{
	int64		size;
	int64		attr_size = 0;

	if (m->message == NULL || VARSIZE_ANY_EXHDR(m->message) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid \"%s\": the message must not be empty", field_name(m, "message", "Message"))));
	queue_check_body(m->message, field_name(m, "message", "Message"));
	size = VARSIZE_ANY_EXHDR(m->message);
	if (m->subject)
		check_subject(m->subject, field_name(m, "subject", "Subject"));
	m->nattributes = 0;
	if (m->attributes)
	{
		m->nattributes = queue_check_message_attributes(m->attributes, TOPIC_MAX_ATTRIBUTES, &attr_size);
		if (m->nattributes == 0)
			m->attributes = NULL;
	}
	size += attr_size;
	if (size > TOPIC_MAX_MESSAGE)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("message of %lld bytes is larger than a topic accepts (%d bytes)",
						(long long) size, TOPIC_MAX_MESSAGE),
				 errdetail("The size counts the message and every message attribute name, type and value.")));

	if (m->json_structure)
	{
		Jsonb	   *j = outbox_jsonb_parse_or_null(VARDATA_ANY(m->message), VARSIZE_ANY_EXHDR(m->message));
		JsonbValue *d;

		if (j == NULL || !JB_ROOT_IS_OBJECT(j) || JB_ROOT_IS_SCALAR(j) ||
			(d = outbox_jsonb_get(&j->root, "default")) == NULL || d->type != jbvString)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid \"%s\": with message_structure \"json\" the message must be a JSON object with a string \"default\"",
							field_name(m, "message", "Message"))));
		m->per_protocol = j;
	}

	if (m->group_id)
		queue_check_id_chars(m->group_id, field_name(m, "message_group_id", "MessageGroupId"));
	if (m->dedup_id)
		queue_check_id_chars(m->dedup_id, field_name(m, "message_deduplication_id", "MessageDeduplicationId"));
	if (t->is_fifo)
	{
		if (m->group_id == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("missing \"%s\": FIFO topic \"%s\" needs a message group id",
							field_name(m, "message_group_id", "MessageGroupId"), t->name)));
		if (m->dedup_id == NULL && !t->content_based_dedup)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("missing \"%s\": FIFO topic \"%s\" has no ContentBasedDeduplication",
							field_name(m, "message_deduplication_id", "MessageDeduplicationId"), t->name),
					 errhint("Pass a deduplication id, or set the topic's ContentBasedDeduplication to true.")));
	}
	else if (m->dedup_id)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid \"%s\": standard topic \"%s\" does not deduplicate",
						field_name(m, "message_deduplication_id", "MessageDeduplicationId"), t->name),
				 errhint("Deduplication ids are for FIFO topics.")));
}

/* ---- FIFO: group order and deduplication ---- */

static Oid	sequence_oid = InvalidOid;

char *
topic_sequence_text(int64 sequence)
{
	return psprintf("%020lld", (long long) sequence);
}

/*
 * Lock the message group until commit (sequence numbers of a group follow
 * commit order), then claim the deduplication id.  Returns false for a
 * duplicate, with the original's id and sequence number in *p.
 */
static bool
fifo_claim(TopicInfo *t, TopicMessage *m, const char *dedup, TopicPublished *p)
{
	static SPIPlanPtr group_plan = NULL;
	static SPIPlanPtr dedup_plan = NULL;
	static SPIPlanPtr lookup_plan = NULL;
	Datum		vals[5];
	TimestampTz now = outbox_now();
	bool		isnull;

	if (group_plan == NULL)
	{
		Oid			g[2] = {INT4OID, TEXTOID};
		Oid			d[5] = {INT4OID, TEXTOID, UUIDOID, INT8OID, TIMESTAMPTZOID};

		group_plan = outbox_prepare_plan("INSERT INTO outbox.topic_fifo_group AS g (topic_id, group_id)"
										 " VALUES ($1, $2) ON CONFLICT (topic_id, group_id)"
										 " DO UPDATE SET publishes = g.publishes + 1", 2, g);
		dedup_plan = outbox_prepare_plan("INSERT INTO outbox.topic_dedup AS d (topic_id, dedup_id, message_id,"
										 " sequence_number, expires_at) VALUES ($1, $2, $3, $4, $5 + interval '5 minutes')"
										 " ON CONFLICT (topic_id, dedup_id) DO UPDATE SET message_id = $3,"
										 " sequence_number = $4, expires_at = $5 + interval '5 minutes'"
										 " WHERE d.expires_at <= $5 RETURNING 1", 5, d);
		lookup_plan = outbox_prepare_plan("SELECT message_id, sequence_number FROM outbox.topic_dedup"
										  " WHERE topic_id = $1 AND dedup_id = $2", 2, g);
	}
	if (!OidIsValid(sequence_oid))
		sequence_oid = get_relname_relid("topic_sequence_seq", get_namespace_oid(OUTBOX_SCHEMA, false));

	vals[0] = Int32GetDatum(t->topic_id);
	vals[1] = CStringGetTextDatum(m->group_id);
	queue_spi_exec(group_plan, vals, NULL, false, 0, SPI_OK_INSERT);

	p->sequence = DatumGetInt64(DirectFunctionCall1(nextval_oid, ObjectIdGetDatum(sequence_oid)));
	vals[1] = CStringGetTextDatum(dedup);
	vals[2] = UUIDPGetDatum(&p->message_id);
	vals[3] = Int64GetDatum(p->sequence);
	vals[4] = TimestampTzGetDatum(now);
	queue_spi_exec(dedup_plan, vals, NULL, false, 0, SPI_OK_INSERT_RETURNING);
	if (SPI_processed == 1)
		return true;
	queue_spi_exec(lookup_plan, vals, NULL, false, 1, SPI_OK_SELECT);
	if (SPI_processed != 1)
		elog(ERROR, "deduplication entry of topic \"%s\" vanished", t->name);
	memcpy(&p->message_id, DatumGetUUIDP(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)),
		   sizeof(pg_uuid_t));
	p->sequence = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	p->duplicate = true;
	return false;
}

static char *
content_dedup_id(text *message)
{
	bytea	   *digest = DatumGetByteaPP(DirectFunctionCall1(sha256_bytea, PointerGetDatum(message)));
	int			len = VARSIZE_ANY_EXHDR(digest);
	char	   *hex = palloc(len * 2 + 1);

	hex_encode(VARDATA_ANY(digest), len, hex);
	hex[len * 2] = '\0';
	return hex;
}

/* ---- filter policies ---- */

static Jsonb *empty_object = NULL;

/* Mark matches[i] for every subscription the message goes to. */
static void
match_subscriptions(TopicInfo *t, TopicMessage *m, bool *matches)
{
	int		   *hits;
	int			n;

	for (int i = 0; i < t->nsubs; i++)
		matches[i] = t->subs[i].filter_policy == NULL;
	if (t->nfiltered == 0)
		return;
	hits = palloc(sizeof(int) * t->nsubs);
	if (t->attr_filters)
	{
		if (empty_object == NULL)
		{
			Jsonb	   *e = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum("{}")));

			empty_object = MemoryContextAlloc(TopMemoryContext, VARSIZE(e));
			memcpy(empty_object, e, VARSIZE(e));
		}
		n = pattern_set_match(t->attr_filters, m->attributes ? m->attributes : empty_object, hits);
		for (int i = 0; i < n; i++)
			matches[hits[i]] = true;
	}
	if (t->body_filters)
	{
		/* a body that is not a JSON object matches no body policy */
		Jsonb	   *body = outbox_jsonb_parse_or_null(VARDATA_ANY(m->message), VARSIZE_ANY_EXHDR(m->message));

		if (body && JB_ROOT_IS_OBJECT(body) && !JB_ROOT_IS_SCALAR(body))
		{
			n = pattern_set_match(t->body_filters, body, hits);
			for (int i = 0; i < n; i++)
				matches[hits[i]] = true;
		}
	}
	pfree(hits);
}

/* ---- what a subscriber receives ---- */

/* The message for a protocol: with MessageStructure json, its key or "default". */
static text *
message_for(TopicMessage *m, const char *protocol_key)
{
	JsonbValue *v;

	if (!m->json_structure)
		return m->message;
	v = outbox_jsonb_get(&m->per_protocol->root, protocol_key);
	if (v == NULL || v->type != jbvString)
		v = outbox_jsonb_get(&m->per_protocol->root, "default");
	return cstring_to_text_with_len(v->val.string.val, v->val.string.len);
}

static const char *const protocol_keys[3] = {"sqs", "lambda", "notify"};

static void
append_field(StringInfo buf, const char *key, const char *value)
{
	appendStringInfo(buf, ",\"%s\":", key);
	escape_json(buf, value);
}

/* The envelope's MessageAttributes: {"name": {"Type": ..., "Value": ...}} */
static void
append_attributes(StringInfo buf, Jsonb *attributes, const char *key)
{
	JsonbIterator *it = JsonbIteratorInit(&attributes->root);
	JsonbValue	v;
	char	   *name;
	bool		first = true;

	appendStringInfo(buf, ",\"%s\":{", key);
	while (outbox_jsonb_next_pair(&it, &name, &v))
	{
		JsonbValue *type = outbox_jsonb_get(v.val.binary.data, "DataType");
		JsonbValue *value = outbox_jsonb_get(v.val.binary.data, "StringValue");

		if (value == NULL)
			value = outbox_jsonb_get(v.val.binary.data, "BinaryValue");
		if (!first)
			appendStringInfoChar(buf, ',');
		first = false;
		escape_json(buf, name);
		appendStringInfoString(buf, ":{\"Type\":");
		escape_json(buf, pnstrdup(type->val.string.val, type->val.string.len));
		appendStringInfoString(buf, ",\"Value\":");
		escape_json(buf, value ? outbox_jsonb_scalar_cstring(value) : "");
		appendStringInfoChar(buf, '}');
	}
	appendStringInfoChar(buf, '}');
}

static const char *
envelope_head(Fanout *f, int protocol)
{
	StringInfoData buf;
	TopicMessage *m = f->msg;

	if (f->envelope_head[protocol])
		return f->envelope_head[protocol];
	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"Type\":\"Notification\",\"MessageId\":\"%s\"", f->message_id);
	if (f->topic->is_fifo)
		append_field(&buf, "SequenceNumber", topic_sequence_text(f->published->sequence));
	append_field(&buf, "TopicArn", f->topic->arn);
	if (m->subject)
		append_field(&buf, "Subject", m->subject);
	append_field(&buf, "Message", text_to_cstring(message_for(m, protocol_keys[protocol])));
	append_field(&buf, "Timestamp", f->timestamp);
	f->envelope_head[protocol] = buf.data;
	return buf.data;
}

static const char *
envelope_tail(Fanout *f)
{
	StringInfoData buf;

	if (f->envelope_tail)
		return f->envelope_tail;
	initStringInfo(&buf);
	/* with MessageStructure json, attributes filter but are not delivered */
	if (f->msg->attributes && !f->msg->json_structure)
		append_attributes(&buf, f->msg->attributes, "MessageAttributes");
	appendStringInfoChar(&buf, '}');
	f->envelope_tail = buf.data;
	return buf.data;
}

static text *
envelope(Fanout *f, SubscriptionInfo *s, int protocol)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoString(&buf, envelope_head(f, protocol));
	appendStringInfo(&buf, ",\"UnsubscribeURL\":\"https://sns.%s.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=%s\"",
					 outbox_region, s->arn);
	appendStringInfoString(&buf, envelope_tail(f));
	return cstring_to_text_with_len(buf.data, buf.len);
}

/*
 * The event a function subscription gets: Lambda's SNS event shape, one
 * record, so handlers written for Lambda read it unchanged.
 */
static Jsonb *
function_event(Fanout *f, SubscriptionInfo *s)
{
	StringInfoData buf;
	TopicMessage *m = f->msg;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"Records\":[{\"EventSource\":\"aws:sns\",\"EventVersion\":\"1.0\"");
	append_field(&buf, "EventSubscriptionArn", s->arn);
	appendStringInfo(&buf, ",\"Sns\":{\"Type\":\"Notification\",\"MessageId\":\"%s\"", f->message_id);
	append_field(&buf, "TopicArn", f->topic->arn);
	if (m->subject)
		append_field(&buf, "Subject", m->subject);
	else
		appendStringInfoString(&buf, ",\"Subject\":null");
	append_field(&buf, "Message", text_to_cstring(message_for(m, "lambda")));
	append_field(&buf, "Timestamp", f->timestamp);
	appendStringInfo(&buf, ",\"UnsubscribeUrl\":\"https://sns.%s.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=%s\"",
					 outbox_region, s->arn);
	if (m->attributes && !m->json_structure)
		append_attributes(&buf, m->attributes, "MessageAttributes");
	else
		appendStringInfoString(&buf, ",\"MessageAttributes\":{}");
	appendStringInfoString(&buf, "}}]}");
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
}

/* ---- deliveries ---- */

static void
deliver_sqs(Fanout *f, SubscriptionInfo *s)
{
	TopicMessage *m = f->msg;
	text	   *body;
	Jsonb	   *attributes = NULL;
	bool		ok;
	char	   *error;

	if (s->raw)
	{
		body = message_for(m, "sqs");
		if (m->attributes && !m->json_structure)
		{
			if (m->nattributes > TOPIC_RAW_MAX_ATTRIBUTES)
			{
				topic_dead_letter(f->topic, s, &f->published->message_id, body, "InvalidParameter",
								  psprintf("a raw delivery to a queue carries at most %d message attributes; the message has %d",
										   TOPIC_RAW_MAX_ATTRIBUTES, m->nattributes));
				return;
			}
			attributes = m->attributes;
		}
	}
	else
		body = envelope(f, s, 0);

	queue_send_as(s->endpoint, body, attributes, m->group_id,
						f->topic->is_fifo ? f->dedup_id : NULL, s->owner_oid, &ok, &error);
	if (!ok)
		topic_dead_letter(f->topic, s, &f->published->message_id, body, "ClientError", error);
}

static void
deliver_function(Fanout *f, SubscriptionInfo *s)
{
	JsonbParseState *st = NULL;
	JsonbValue	v;
	Jsonb	   *event = function_event(f, s);
	char		id[37];

	if (!OidIsValid(s->owner_oid))
		return;					/* the owner role is gone: nobody to run it as */
	/* {"subscription": id, "event": {...}}: the handler finds the rest */
	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	strlcpy(id, DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum(&s->id))), sizeof(id));
	outbox_jsonb_push_string(&st, "subscription", id);
	v.type = jbvBinary;
	v.val.binary.data = &event->root;
	v.val.binary.len = VARSIZE(event) - VARHDRSZ;
	outbox_jsonb_push_value(&st, "event", &v);
	(void) outbox_due_schedule("sns", outbox_now(), s->owner_oid, s->function,
							   JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL)));
}

static void
deliver_notify(Fanout *f, SubscriptionInfo *s)
{
	text	   *payload = s->raw ? message_for(f->msg, "notify") : envelope(f, s, 2);
	char	   *p = text_to_cstring(payload);

	if (strlen(p) > TOPIC_NOTIFY_MAX)
	{
		static SPIPlanPtr plan = NULL;
		Datum		vals[3];
		StringInfoData ref;

		if (plan == NULL)
		{
			Oid			types[3] = {UUIDOID, UUIDOID, TEXTOID};

			plan = outbox_prepare_plan("INSERT INTO outbox.notification (message_id, subscription_id, payload,"
									   " expires_at) VALUES ($1, $2, $3, outbox.clock_now() + interval '1 hour')"
									   " ON CONFLICT DO NOTHING", 3, types);
		}
		vals[0] = UUIDPGetDatum(&f->published->message_id);
		vals[1] = UUIDPGetDatum(&s->id);
		vals[2] = PointerGetDatum(payload);
		queue_spi_exec(plan, vals, NULL, false, 0, SPI_OK_INSERT);

		initStringInfo(&ref);
		appendStringInfo(&ref, "{\"Type\":\"NotificationReference\",\"MessageId\":\"%s\"", f->message_id);
		append_field(&ref, "TopicArn", f->topic->arn);
		append_field(&ref, "SubscriptionArn", s->arn);
		appendStringInfo(&ref, ",\"Size\":%d}", (int) strlen(p));
		p = ref.data;
	}
	Async_Notify(s->endpoint, p);
}

/*
 * Publish a checked message (topic_check_message) to every matching
 * subscription, in the current transaction.  SPI must be connected, as
 * the extension owner.
 */
TopicPublished
topic_publish(TopicInfo *t, TopicMessage *m)
{
	TopicPublished p;
	Fanout		f;
	bool	   *matches;

	memset(&p, 0, sizeof(p));
	memset(&f, 0, sizeof(f));
	memcpy(&p.message_id, DatumGetUUIDP(DirectFunctionCall1(gen_random_uuid, (Datum) 0)), sizeof(pg_uuid_t));

	if (t->is_fifo)
	{
		f.dedup_id = m->dedup_id ? m->dedup_id : content_dedup_id(m->message);
		if (!fifo_claim(t, m, f.dedup_id, &p))
			return p;			/* a duplicate: accepted, not delivered again */
	}
	if (t->nsubs == 0)
		return p;

	f.topic = t;
	f.msg = m;
	f.published = &p;
	strlcpy(f.message_id, DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum(&p.message_id))),
			sizeof(f.message_id));
	f.timestamp = worker_iso_time(outbox_now());

	matches = palloc(sizeof(bool) * t->nsubs);
	match_subscriptions(t, m, matches);
	for (int i = 0; i < t->nsubs; i++)
	{
		SubscriptionInfo *s = &t->subs[i];

		if (!matches[i])
			continue;
		switch (s->protocol)
		{
			case SUB_SQS:
				deliver_sqs(&f, s);
				break;
			case SUB_FUNCTION:
				deliver_function(&f, s);
				break;
			case SUB_NOTIFY:
				deliver_notify(&f, s);
				break;
		}
	}
	pfree(matches);
	return p;
}

/*
 * Publish for another room (a rule's topic target) as "role": a message
 * without attributes.  What the publisher cannot help -- the topic is
 * gone, the role may not publish to it, the message does not fit -- sets
 * *ok = false and *error instead of raising.  SPI must be connected, as
 * the extension owner.
 */
void
topic_publish_as(const char *topic_name, text *message, Oid role, bool *ok, char **error)
{
	TopicInfo  *t = topic_lookup(topic_name, true);
	TopicMessage m;
	int64		size = VARSIZE_ANY_EXHDR(message);

	*ok = false;
	if (t == NULL)
		*error = psprintf("topic \"%s\" does not exist", topic_name);
	else if (!OidIsValid(role) || !(topic_rights_of(t, role) & TOPIC_PRIV_PUBLISH))
		*error = psprintf("role \"%s\" may not publish to topic \"%s\"",
						  OidIsValid(role) ? GetUserNameFromId(role, false) : "(dropped)", topic_name);
	else if (t->is_fifo)
		*error = psprintf("FIFO topic \"%s\" needs a message group id", topic_name);
	else if (size == 0 || size > TOPIC_MAX_MESSAGE)
		*error = psprintf("a message of %lld bytes does not fit a topic (1 to %d bytes)",
						  (long long) size, TOPIC_MAX_MESSAGE);
	else
	{
		memset(&m, 0, sizeof(m));
		m.message = message;
		topic_check_message(t, &m);
		(void) topic_publish(t, &m);
		*ok = true;
	}
}
