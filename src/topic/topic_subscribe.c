/*-------------------------------------------------------------------------
 *
 * topic_subscribe.c
 *	  Subscribing, unsubscribing and changing subscriptions.
 *
 * Protocols:
 *	  sqs		a queue of ours (name or ARN); delivered in the publisher's
 *				transaction.  The subscriber must hold "send" on the queue.
 *	  function	a SQL function taking jsonb (name, "schema.name", a signature
 *				or a Lambda ARN); called by the workers after commit as the
 *				subscription's owner.  The subscriber must be able to execute it.
 *	  notify	a notification channel; NOTIFY at commit.
 * FIFO topics deliver only to queues, and standard topics not to FIFO
 * queues (they could not give the group id and ordering a FIFO queue
 * promises).  Every subscription is confirmed at once.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/topic/topic_subscribe.c
 *
 *-------------------------------------------------------------------------
 */
#include "pg_outbox.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/regproc.h"

#include "core/security.h"
#include "queue/queue.h"
#include "topic/topic.h"
#include "worker/worker.h"

const char *
topic_protocol_name(SubProtocol p)
{
	switch (p)
	{
		case SUB_SQS:
			return "sqs";
		case SUB_FUNCTION:
			return "function";
		case SUB_NOTIFY:
			return "notify";
	}
	return "?";
}

static SubProtocol
parse_protocol(const char *protocol)
{
	if (strcmp(protocol, "sqs") == 0)
		return SUB_SQS;
	if (strcmp(protocol, "function") == 0 || strcmp(protocol, "lambda") == 0)
		return SUB_FUNCTION;
	if (strcmp(protocol, "notify") == 0)
		return SUB_NOTIFY;
	if (strcmp(protocol, "http") == 0 || strcmp(protocol, "https") == 0 ||
		strcmp(protocol, "email") == 0 || strcmp(protocol, "email-json") == 0 ||
		strcmp(protocol, "sms") == 0 || strcmp(protocol, "application") == 0 ||
		strcmp(protocol, "firehose") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("protocol \"%s\" is not supported by pg_outbox", protocol),
				 errhint("Subscribe a queue (sqs), a SQL function (function) or a notification channel (notify).")));
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid \"protocol\": \"%s\" is not a protocol", protocol),
			 errhint("The protocols are sqs, function (or lambda) and notify.")));
	return SUB_SQS;				/* keep compiler quiet */
}

/* The subscriber must be able to send to a queue the subscription writes to. */
static QueueInfo *
check_target_queue(TopicInfo *t, const char *name, const char *field)
{
	QueueInfo  *q = queue_lookup(name, false);

	if (!t->is_fifo && q->is_fifo)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid \"%s\": standard topic \"%s\" cannot deliver to FIFO queue \"%s\"",
						field, t->name, q->name),
				 errhint("Subscribe FIFO queues to FIFO topics.")));
	queue_check_rights(q, QUEUE_PRIV_SEND, "subscribe");
	return q;
}

static void
check_dead_letter_queue(TopicInfo *t, const char *name)
{
	QueueInfo  *q = queue_lookup(name, false);

	if (q->is_fifo != t->is_fifo)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid attribute \"RedrivePolicy\": the dead-letter queue of a %s topic's subscription must be a %s queue",
						t->is_fifo ? "FIFO" : "standard", t->is_fifo ? "FIFO" : "standard")));
	queue_check_rights(q, QUEUE_PRIV_SEND, "RedrivePolicy");
}

/*
 * Check a subscription's attributes as they will be after a change: the
 * filter policy against its scope (the pattern engine's error), raw
 * delivery only where there is something raw to deliver.
 */
static void
check_subscription(TopicInfo *t, SubProtocol protocol, Jsonb *filter, bool on_body, bool raw,
				   const char *dlq, bool new_filter)
{
	if (filter)
		pattern_validate(filter, on_body ? PATTERN_SNS_BODY : PATTERN_SNS_ATTRIBUTES);
	if (new_filter && t->nfiltered >= TOPIC_MAX_FILTER_POLICIES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("topic \"%s\" has %d filter policies, the most allowed", t->name, t->nfiltered)));
	if (raw && protocol == SUB_FUNCTION)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid attribute \"RawMessageDelivery\": function subscriptions always get the SNS event"),
				 errhint("Raw delivery is for sqs and notify subscriptions.")));
	if (dlq)
		check_dead_letter_queue(t, dlq);
}

static bool
same_jsonb(Jsonb *a, Jsonb *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return compareJsonbContainers(&a->root, &b->root) == 0;
}

static bool
sub_attributes_match(SubscriptionInfo *s, SubAttrs *a)
{
	if ((a->given & SATTR_FILTER) && !same_jsonb(a->filter_policy, s->filter_policy))
		return false;
	if ((a->given & SATTR_SCOPE) && a->filter_on_body != s->filter_on_body)
		return false;
	if ((a->given & SATTR_RAW) && a->raw != s->raw)
		return false;
	if ((a->given & SATTR_REDRIVE) &&
		!(a->dead_letter_queue == NULL ? s->dead_letter_queue == NULL :
		  s->dead_letter_queue != NULL && strcmp(a->dead_letter_queue, s->dead_letter_queue) == 0))
		return false;
	if ((a->given & SATTR_DELIVERY) && !same_jsonb(a->delivery_policy, s->delivery_policy))
		return false;
	return true;
}

char *
topic_subscribe(TopicInfo *t, const char *protocol_name, const char *endpoint, Jsonb *attributes)
{
	SubProtocol protocol = parse_protocol(protocol_name);
	SubAttrs	a;
	Oid			function = InvalidOid;
	char	   *stored_endpoint;
	Oid			types[10] = {INT4OID, TEXTOID, TEXTOID, REGPROCEDUREOID, NAMEOID, JSONBOID,
	BOOLOID, BOOLOID, TEXTOID, JSONBOID};
	Datum		vals[10];
	char		nulls[10] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};
	int			nfifo = 0;

	if (t->is_fifo && protocol != SUB_SQS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid \"protocol\": FIFO topic \"%s\" delivers only to queues (sqs)", t->name)));
	switch (protocol)
	{
		case SUB_SQS:
			stored_endpoint = pstrdup(queue_name_from_arn_checked(endpoint, "endpoint"));
			(void) check_target_queue(t, stored_endpoint, "endpoint");
			break;
		case SUB_FUNCTION:
			function = worker_resolve_handler(endpoint, "endpoint");
			stored_endpoint = format_procedure_qualified(function);
			break;
		case SUB_NOTIFY:
		default:
			if (*endpoint == '\0' || strlen(endpoint) >= NAMEDATALEN)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid \"endpoint\": a channel name has 1 to %d characters", NAMEDATALEN - 1)));
			stored_endpoint = pstrdup(endpoint);
			break;
	}
	topic_parse_sub_attributes(attributes, &a);
	check_subscription(t, protocol, a.filter_policy, a.filter_on_body, a.raw, a.dead_letter_queue,
					   false);

	/* the same (protocol, endpoint) again: the existing subscription */
	for (int i = 0; i < t->nsubs; i++)
	{
		SubscriptionInfo *s = &t->subs[i];

		if (s->protocol == protocol && strcmp(s->endpoint, stored_endpoint) == 0)
		{
			if (!sub_attributes_match(s, &a))
				ereport(ERROR,
						(errcode(ERRCODE_DUPLICATE_OBJECT),
						 errmsg("topic \"%s\" already has a %s subscription for \"%s\" with different attributes",
								t->name, topic_protocol_name(protocol), stored_endpoint),
						 errhint("Use outbox.set_subscription_attributes('%s', ...) to change it.", s->arn)));
			return pstrdup(s->arn);
		}
		nfifo++;
	}
	if (a.filter_policy && t->nfiltered >= TOPIC_MAX_FILTER_POLICIES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("topic \"%s\" has %d filter policies, the most allowed", t->name, t->nfiltered)));
	if (t->is_fifo && nfifo >= TOPIC_MAX_FIFO_SUBSCRIPTIONS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("FIFO topic \"%s\" has %d subscriptions, the most allowed", t->name, nfifo)));

	vals[0] = Int32GetDatum(t->topic_id);
	vals[1] = CStringGetTextDatum(topic_protocol_name(protocol));
	vals[2] = CStringGetTextDatum(stored_endpoint);
	vals[3] = ObjectIdGetDatum(function);
	nulls[3] = OidIsValid(function) ? ' ' : 'n';
	vals[4] = DirectFunctionCall1(namein, CStringGetDatum(GetUserNameFromId(outbox_current_caller, false)));
	vals[5] = a.filter_policy ? JsonbPGetDatum(a.filter_policy) : (Datum) 0;
	nulls[5] = a.filter_policy ? ' ' : 'n';
	vals[6] = BoolGetDatum(a.filter_on_body);
	vals[7] = BoolGetDatum(a.raw);
	vals[8] = a.dead_letter_queue ? CStringGetTextDatum(a.dead_letter_queue) : (Datum) 0;
	nulls[8] = a.dead_letter_queue ? ' ' : 'n';
	vals[9] = a.delivery_policy ? JsonbPGetDatum(a.delivery_policy) : (Datum) 0;
	nulls[9] = a.delivery_policy ? ' ' : 'n';
	if (SPI_execute_with_args("INSERT INTO outbox.subscription (subscription_id, topic_id, protocol,"
							  " endpoint, function, owner, filter_policy, filter_on_body,"
							  " raw_message_delivery, dead_letter_queue, delivery_policy, created_at)"
							  " VALUES (gen_random_uuid(), $1, $2, $3, $4, $5, $6, $7, $8, $9, $10,"
							  " outbox.clock_now()) RETURNING subscription_id::text",
							  10, types, vals, nulls, false, 0) != SPI_OK_INSERT_RETURNING ||
		SPI_processed != 1)
		elog(ERROR, "could not subscribe to topic \"%s\"", t->name);
	CommandCounterIncrement();
	return psprintf("%s:%s", t->arn, SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1));
}

void
topic_unsubscribe(TopicInfo *t, SubscriptionInfo *s)
{
	Oid			argtype = UUIDOID;
	Datum		arg = UUIDPGetDatum(&s->id);

	if (SPI_execute_with_args("DELETE FROM outbox.subscription WHERE subscription_id = $1",
							  1, &argtype, &arg, NULL, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "could not delete subscription \"%s\"", s->arn);
	CommandCounterIncrement();
}

void
topic_set_sub_attributes(TopicInfo *t, SubscriptionInfo *s, Jsonb *attributes)
{
	SubAttrs	a;
	Jsonb	   *filter;
	bool		on_body;
	bool		raw;
	char	   *dlq;
	Jsonb	   *delivery;
	Oid			types[6] = {UUIDOID, JSONBOID, BOOLOID, BOOLOID, TEXTOID, JSONBOID};
	Datum		vals[6];
	char		nulls[6] = {' ', ' ', ' ', ' ', ' ', ' '};

	topic_parse_sub_attributes(attributes, &a);
	filter = (a.given & SATTR_FILTER) ? a.filter_policy : s->filter_policy;
	on_body = (a.given & SATTR_SCOPE) ? a.filter_on_body : s->filter_on_body;
	raw = (a.given & SATTR_RAW) ? a.raw : s->raw;
	dlq = (a.given & SATTR_REDRIVE) ? a.dead_letter_queue : s->dead_letter_queue;
	delivery = (a.given & SATTR_DELIVERY) ? a.delivery_policy : s->delivery_policy;
	check_subscription(t, s->protocol, filter, on_body, raw,
					   (a.given & SATTR_REDRIVE) ? dlq : NULL,
					   filter != NULL && s->filter_policy == NULL);

	vals[0] = UUIDPGetDatum(&s->id);
	vals[1] = filter ? JsonbPGetDatum(filter) : (Datum) 0;
	nulls[1] = filter ? ' ' : 'n';
	vals[2] = BoolGetDatum(on_body);
	vals[3] = BoolGetDatum(raw);
	vals[4] = dlq ? CStringGetTextDatum(dlq) : (Datum) 0;
	nulls[4] = dlq ? ' ' : 'n';
	vals[5] = delivery ? JsonbPGetDatum(delivery) : (Datum) 0;
	nulls[5] = delivery ? ' ' : 'n';
	if (SPI_execute_with_args("UPDATE outbox.subscription SET filter_policy = $2, filter_on_body = $3,"
							  " raw_message_delivery = $4, dead_letter_queue = $5, delivery_policy = $6"
							  " WHERE subscription_id = $1", 6, types, vals, nulls, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "could not change subscription \"%s\"", s->arn);
	CommandCounterIncrement();
}
