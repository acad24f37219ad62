/*-------------------------------------------------------------------------
 *
 * queue_attrs.c
 *	  Queue names and queue attributes: parsing, validation against the SQS
 *	  limits, comparison (idempotent create_queue) and formatting
 *	  (get_queue_attributes).
 *
 * Attributes use the AWS names.  Values are accepted as JSON strings (as the
 * AWS API sends them) or as JSON numbers and booleans; get_queue_attributes
 * answers with strings for scalars, as AWS does, and with JSON objects for
 * RedrivePolicy and RedriveAllowPolicy.  Every rejection is SQLSTATE 22023
 * with the attribute's name and the allowed range in the message.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/queue/queue_attrs.c
 *
 *-------------------------------------------------------------------------
 */
#include "pg_outbox.h"

#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include "core/jsonb_util.h"
#include "queue/queue.h"

/*
 * Queue names: 1-80 characters of [A-Za-z0-9_-], plus the ".fifo" suffix of
 * FIFO queues (which counts toward the 80).
 */
void
queue_check_name(const char *name)
{
	size_t		len = strlen(name);
	size_t		core = len;
	size_t		i;

	if (len == 0 || len > QUEUE_NAME_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid queue name \"%s\": length must be between 1 and %d characters", name, QUEUE_NAME_MAX)));
	if (len > 5 && strcmp(name + len - 5, ".fifo") == 0)
		core = len - 5;
	for (i = 0; i < core; i++)
	{
		char		c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '-' || c == '_'))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid queue name \"%s\": only letters, digits, \"-\" and \"_\" are allowed", name),
					 errdetail("A FIFO queue name ends with \".fifo\"; no other \".\" is allowed.")));
	}
}

static void
parse_redrive_policy(JsonbValue *v, QueueAttrs *out)
{
	Jsonb	   *j = outbox_attr_policy(v, "RedrivePolicy");
	JsonbValue *target;
	JsonbValue *count;
	JsonbIterator *it;
	JsonbValue	kv;
	char	   *k;

	out->dead_letter_queue = NULL;
	out->max_receive_count = 0;
	if (j == NULL)
		return;

	it = JsonbIteratorInit(&j->root);
	while (outbox_jsonb_next_pair(&it, &k, &kv))
	{
		if (strcmp(k, "deadLetterTargetArn") != 0 && strcmp(k, "maxReceiveCount") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid attribute \"RedrivePolicy\": unknown key \"%s\"", k),
					 errdetail("RedrivePolicy has the keys \"deadLetterTargetArn\" and \"maxReceiveCount\".")));
	}
	target = outbox_jsonb_get(&j->root, "deadLetterTargetArn");
	count = outbox_jsonb_get(&j->root, "maxReceiveCount");
	if (target == NULL || target->type != jbvString || target->val.string.len == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid attribute \"RedrivePolicy\": \"deadLetterTargetArn\" is required"),
				 errdetail("Give the dead-letter queue's ARN or name.")));
	if (count == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid attribute \"RedrivePolicy\": \"maxReceiveCount\" is required")));
	out->dead_letter_queue = pstrdup(queue_name_from_arn_checked(pnstrdup(target->val.string.val,
																		  target->val.string.len),
																 "RedrivePolicy.deadLetterTargetArn"));
	queue_check_name(out->dead_letter_queue);
	out->max_receive_count = outbox_attr_int(count, "RedrivePolicy.maxReceiveCount", 1, QUEUE_MAX_RECEIVE_COUNT);
}

static void
parse_redrive_allow_policy(JsonbValue *v, QueueAttrs *out)
{
	Jsonb	   *j = outbox_attr_policy(v, "RedriveAllowPolicy");
	JsonbValue *perm;
	JsonbValue *arns;
	char	   *p;

	out->redrive_allow_policy = j;
	if (j == NULL)
		return;
	perm = outbox_jsonb_get(&j->root, "redrivePermission");
	if (perm == NULL || perm->type != jbvString)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid attribute \"RedriveAllowPolicy\": \"redrivePermission\" is required"),
				 errdetail("It is one of \"allowAll\", \"denyAll\" or \"byQueue\".")));
	p = pnstrdup(perm->val.string.val, perm->val.string.len);
	if (strcmp(p, "allowAll") != 0 && strcmp(p, "denyAll") != 0 && strcmp(p, "byQueue") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid attribute \"RedriveAllowPolicy\": unknown redrivePermission \"%s\"", p),
				 errdetail("It is one of \"allowAll\", \"denyAll\" or \"byQueue\".")));
	arns = outbox_jsonb_get(&j->root, "sourceQueueArns");
	if (strcmp(p, "byQueue") == 0)
	{
		int			n;

		if (arns == NULL || arns->type != jbvBinary || !JsonContainerIsArray(arns->val.binary.data))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid attribute \"RedriveAllowPolicy\": \"sourceQueueArns\" is required with \"byQueue\"")));
		n = JsonContainerSize(arns->val.binary.data);
		if (n < 1 || n > 10)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid attribute \"RedriveAllowPolicy\": \"sourceQueueArns\" must list 1 to 10 queues, not %d", n)));
	}
	else if (arns != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid attribute \"RedriveAllowPolicy\": \"sourceQueueArns\" is only allowed with \"byQueue\"")));
}

static void
add_opaque(JsonbParseState **state, const char *key, JsonbValue *v)
{
	char	   *str = outbox_jsonb_scalar_cstring(v);

	if (str == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid attribute \"%s\": expected a string", key)));
	outbox_jsonb_push_string(state, key, str);
}

/*
 * Parse the attributes object of create_queue/set_queue_attributes.  Values
 * not given keep their defaults (creating) or are left untouched (setting);
 * out->given tells which were given.
 */
void
queue_parse_attributes(Jsonb *attributes, QueueAttrs *out, bool creating)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbParseState *opaque = NULL;
	char	   *key = NULL;

	memset(out, 0, sizeof(*out));
	out->visibility_timeout = 30;
	out->retention_seconds = 345600;
	out->maximum_message_size = Min(1048576, outbox_max_message_size_limit);

	if (attributes == NULL)
		return;
	if (!JB_ROOT_IS_OBJECT(attributes) || JB_ROOT_IS_SCALAR(attributes))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid \"attributes\": expected a JSON object of attribute names and values")));

	pushJsonbValue(&opaque, WJB_BEGIN_OBJECT, NULL);
	it = JsonbIteratorInit(&attributes->root);
	while (outbox_jsonb_next_pair(&it, &key, &v))
	{
		if (strcmp(key, "VisibilityTimeout") == 0)
		{
			out->visibility_timeout = outbox_attr_int(&v, key, 0, QUEUE_MAX_VISIBILITY);
			out->given |= QATTR_VISIBILITY;
		}
		else if (strcmp(key, "DelaySeconds") == 0)
		{
			out->delay_seconds = outbox_attr_int(&v, key, 0, QUEUE_MAX_DELAY);
			out->given |= QATTR_DELAY;
		}
		else if (strcmp(key, "MessageRetentionPeriod") == 0)
		{
			out->retention_seconds = outbox_attr_int(&v, key, QUEUE_MIN_RETENTION, QUEUE_MAX_RETENTION);
			out->given |= QATTR_RETENTION;
		}
		else if (strcmp(key, "MaximumMessageSize") == 0)
		{
			out->maximum_message_size = outbox_attr_int(&v, key, QUEUE_MIN_MESSAGE_SIZE, outbox_max_message_size_limit);
			out->given |= QATTR_MAX_SIZE;
		}
		else if (strcmp(key, "ReceiveMessageWaitTimeSeconds") == 0)
		{
			out->receive_wait_seconds = outbox_attr_int(&v, key, 0, QUEUE_MAX_WAIT);
			out->given |= QATTR_WAIT;
		}
		else if (strcmp(key, "RedrivePolicy") == 0)
		{
			parse_redrive_policy(&v, out);
			out->given |= QATTR_REDRIVE;
		}
		else if (strcmp(key, "RedriveAllowPolicy") == 0)
		{
			parse_redrive_allow_policy(&v, out);
			out->given |= QATTR_REDRIVE_ALLOW;
		}
		else if (strcmp(key, "FifoQueue") == 0)
		{
			if (!creating)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid attribute \"FifoQueue\": the type of a queue cannot be changed after it is created")));
			out->fifo = outbox_attr_bool(&v, key);
			out->given |= QATTR_FIFO;
		}
		else if (strcmp(key, "ContentBasedDeduplication") == 0)
		{
			out->content_based_dedup = outbox_attr_bool(&v, key);
			out->given |= QATTR_CONTENT_DEDUP;
		}
		else if (strcmp(key, "DeduplicationScope") == 0)
		{
			char	   *s = outbox_jsonb_scalar_cstring(&v);

			if (s && strcmp(s, "messageGroup") == 0)
				out->dedup_scope_group = true;
			else if (s && strcmp(s, "queue") == 0)
				out->dedup_scope_group = false;
			else
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid attribute \"DeduplicationScope\": expected \"messageGroup\" or \"queue\"")));
			out->given |= QATTR_DEDUP_SCOPE;
		}
		else if (strcmp(key, "FifoThroughputLimit") == 0)
		{
			char	   *s = outbox_jsonb_scalar_cstring(&v);

			if (s && strcmp(s, "perMessageGroupId") == 0)
				out->throughput_per_group = true;
			else if (s && strcmp(s, "perQueue") == 0)
				out->throughput_per_group = false;
			else
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid attribute \"FifoThroughputLimit\": expected \"perMessageGroupId\" or \"perQueue\"")));
			out->given |= QATTR_THROUGHPUT;
		}
		else if (strcmp(key, "KmsDataKeyReusePeriodSeconds") == 0)
		{
			(void) outbox_attr_int(&v, key, 60, 86400);
			add_opaque(&opaque, key, &v);
			out->given |= QATTR_OPAQUE;
		}
		else if (strcmp(key, "SqsManagedSseEnabled") == 0)
		{
			(void) outbox_attr_bool(&v, key);
			add_opaque(&opaque, key, &v);
			out->given |= QATTR_OPAQUE;
		}
		else if (strcmp(key, "Policy") == 0 || strcmp(key, "KmsMasterKeyId") == 0)
		{
			if (v.type == jbvBinary)
			{
				JsonbValue	s;
				Jsonb	   *pj = JsonbValueToJsonb(&v);

				s.type = jbvString;
				s.val.string.val = JsonbToCString(NULL, &pj->root, VARSIZE(pj));
				s.val.string.len = strlen(s.val.string.val);
				add_opaque(&opaque, key, &s);
			}
			else
				add_opaque(&opaque, key, &v);
			out->given |= QATTR_OPAQUE;
		}
		else if (strcmp(key, "ApproximateNumberOfMessages") == 0 ||
				 strcmp(key, "ApproximateNumberOfMessagesNotVisible") == 0 ||
				 strcmp(key, "ApproximateNumberOfMessagesDelayed") == 0 ||
				 strcmp(key, "CreatedTimestamp") == 0 ||
				 strcmp(key, "LastModifiedTimestamp") == 0 ||
				 strcmp(key, "QueueArn") == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid attribute \"%s\": the attribute is read-only", key)));
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown queue attribute \"%s\"", key),
					 errhint("Queue attributes use the SQS names, e.g. \"VisibilityTimeout\" or \"RedrivePolicy\".")));
	}
	out->opaque_attributes = JsonbValueToJsonb(pushJsonbValue(&opaque, WJB_END_OBJECT, NULL));
}

/* FIFO-only attributes are refused on standard queues. */
void
queue_check_attribute_combination(const char *name, bool fifo, QueueAttrs *a)
{
	if (!fifo)
	{
		const char *bad = NULL;

		if (a->given & QATTR_CONTENT_DEDUP)
			bad = "ContentBasedDeduplication";
		else if (a->given & QATTR_DEDUP_SCOPE)
			bad = "DeduplicationScope";
		else if (a->given & QATTR_THROUGHPUT)
			bad = "FifoThroughputLimit";
		if (bad)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid attribute \"%s\": only FIFO queues have it, and \"%s\" is a standard queue",
							bad, name)));
	}
	else if ((a->given & QATTR_THROUGHPUT) && a->throughput_per_group &&
			 (a->given & QATTR_DEDUP_SCOPE) && !a->dedup_scope_group)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid attribute \"FifoThroughputLimit\": \"perMessageGroupId\" requires \"DeduplicationScope\" \"messageGroup\"")));
}

static bool
jsonb_equal(Jsonb *a, Jsonb *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return compareJsonbContainers(&a->root, &b->root) == 0;
}

/* create_queue on an existing queue: does every attribute given match? */
bool
queue_attributes_match(QueueInfo *q, QueueAttrs *a)
{
	if ((a->given & QATTR_FIFO) && a->fifo != q->is_fifo)
		return false;
	if ((a->given & QATTR_VISIBILITY) && a->visibility_timeout != q->visibility_timeout)
		return false;
	if ((a->given & QATTR_DELAY) && a->delay_seconds != q->delay_seconds)
		return false;
	if ((a->given & QATTR_RETENTION) && a->retention_seconds != q->retention_seconds)
		return false;
	if ((a->given & QATTR_MAX_SIZE) && a->maximum_message_size != q->maximum_message_size)
		return false;
	if ((a->given & QATTR_WAIT) && a->receive_wait_seconds != q->receive_wait_seconds)
		return false;
	if (a->given & QATTR_REDRIVE)
	{
		if ((a->dead_letter_queue == NULL) != (q->dead_letter_queue == NULL))
			return false;
		if (a->dead_letter_queue &&
			(strcmp(a->dead_letter_queue, q->dead_letter_queue) != 0 ||
			 a->max_receive_count != q->max_receive_count))
			return false;
	}
	if ((a->given & QATTR_REDRIVE_ALLOW) && !jsonb_equal(a->redrive_allow_policy, q->redrive_allow_policy))
		return false;
	if ((a->given & QATTR_CONTENT_DEDUP) && a->content_based_dedup != q->content_based_dedup)
		return false;
	if ((a->given & QATTR_DEDUP_SCOPE) && a->dedup_scope_group != q->dedup_scope_group)
		return false;
	if ((a->given & QATTR_THROUGHPUT) && a->throughput_per_group != q->throughput_per_group)
		return false;
	if (a->given & QATTR_OPAQUE)
	{
		/* every opaque attribute given must be present with the same value */
		if (q->opaque_attributes == NULL ||
			!DatumGetBool(DirectFunctionCall2(jsonb_contains,
											  JsonbPGetDatum(q->opaque_attributes),
											  JsonbPGetDatum(a->opaque_attributes))))
			return false;
	}
	return true;
}

/* ---- formatting ---- */

typedef struct AttrWriter
{
	JsonbParseState *state;
	ArrayType  *names;			/* NULL or contains "All": everything */
	bool		all;
	Datum	   *wanted;
	int			nwanted;
} AttrWriter;

static bool
wanted(AttrWriter *w, const char *name)
{
	int			i;

	if (w->all)
		return true;
	for (i = 0; i < w->nwanted; i++)
		if (strcmp(TextDatumGetCString(w->wanted[i]), name) == 0)
			return true;
	return false;
}

static void
put_string(AttrWriter *w, const char *name, const char *value)
{
	if (wanted(w, name))
		outbox_jsonb_push_string(&w->state, name, value);
}

static void
put_int(AttrWriter *w, const char *name, int64 value)
{
	put_string(w, name, psprintf(INT64_FORMAT, value));
}

static void
put_jsonb(AttrWriter *w, const char *name, Jsonb *value)
{
	JsonbValue	v;

	if (!wanted(w, name))
		return;
	v.type = jbvBinary;
	v.val.binary.data = &value->root;
	v.val.binary.len = VARSIZE(value) - VARHDRSZ;
	outbox_jsonb_push_value(&w->state, name, &v);
}

static const char *const known_attribute_names[] = {
	"All", "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
	"ApproximateNumberOfMessagesDelayed", "CreatedTimestamp", "LastModifiedTimestamp",
	"QueueArn", "VisibilityTimeout", "DelaySeconds", "MessageRetentionPeriod",
	"MaximumMessageSize", "ReceiveMessageWaitTimeSeconds", "RedrivePolicy",
	"RedriveAllowPolicy", "FifoQueue", "ContentBasedDeduplication", "DeduplicationScope",
	"FifoThroughputLimit", "Policy", "KmsMasterKeyId", "KmsDataKeyReusePeriodSeconds",
	"SqsManagedSseEnabled", NULL
};

Jsonb *
queue_format_attributes(QueueInfo *q, int64 counters[3], ArrayType *names)
{
	AttrWriter	w;
	int			i;

	memset(&w, 0, sizeof(w));
	deconstruct_array(names, TEXTOID, -1, false, TYPALIGN_INT, &w.wanted, NULL, &w.nwanted);
	for (i = 0; i < w.nwanted; i++)
	{
		char	   *n = TextDatumGetCString(w.wanted[i]);
		int			j;
		bool		known = false;

		for (j = 0; known_attribute_names[j]; j++)
			if (strcmp(known_attribute_names[j], n) == 0)
				known = true;
		if (!known)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown queue attribute \"%s\"", n)));
		if (strcmp(n, "All") == 0)
			w.all = true;
	}

	pushJsonbValue(&w.state, WJB_BEGIN_OBJECT, NULL);
	put_int(&w, "ApproximateNumberOfMessages", counters[0]);
	put_int(&w, "ApproximateNumberOfMessagesNotVisible", counters[1]);
	put_int(&w, "ApproximateNumberOfMessagesDelayed", counters[2]);
	put_int(&w, "CreatedTimestamp", (int64) (timestamptz_to_time_t(q->created_at)));
	put_int(&w, "LastModifiedTimestamp", (int64) (timestamptz_to_time_t(q->modified_at)));
	put_string(&w, "QueueArn", queue_arn(q->name));
	put_int(&w, "VisibilityTimeout", q->visibility_timeout);
	put_int(&w, "DelaySeconds", q->delay_seconds);
	put_int(&w, "MessageRetentionPeriod", q->retention_seconds);
	put_int(&w, "MaximumMessageSize", q->maximum_message_size);
	put_int(&w, "ReceiveMessageWaitTimeSeconds", q->receive_wait_seconds);
	if (q->dead_letter_queue)
	{
		JsonbParseState *st = NULL;
		JsonbValue	v;

		pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
		outbox_jsonb_push_string(&st, "deadLetterTargetArn", queue_arn(q->dead_letter_queue));
		v.type = jbvNumeric;
		v.val.numeric = DatumGetNumeric(DirectFunctionCall1(int4_numeric, Int32GetDatum(q->max_receive_count)));
		outbox_jsonb_push_value(&st, "maxReceiveCount", &v);
		put_jsonb(&w, "RedrivePolicy", JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL)));
	}
	if (q->redrive_allow_policy)
		put_jsonb(&w, "RedriveAllowPolicy", q->redrive_allow_policy);
	if (q->is_fifo)
	{
		put_string(&w, "FifoQueue", "true");
		put_string(&w, "ContentBasedDeduplication", q->content_based_dedup ? "true" : "false");
		put_string(&w, "DeduplicationScope", q->dedup_scope_group ? "messageGroup" : "queue");
		put_string(&w, "FifoThroughputLimit", q->throughput_per_group ? "perMessageGroupId" : "perQueue");
	}
	if (q->opaque_attributes)
	{
		JsonbIterator *it = JsonbIteratorInit(&q->opaque_attributes->root);
		JsonbValue	v;
		char	   *key;

		while (outbox_jsonb_next_pair(&it, &key, &v))
			if (v.type == jbvString)
				put_string(&w, key, pnstrdup(v.val.string.val, v.val.string.len));
	}
	return JsonbValueToJsonb(pushJsonbValue(&w.state, WJB_END_OBJECT, NULL));
}
