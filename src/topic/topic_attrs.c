/*-------------------------------------------------------------------------
 *
 * topic_attrs.c
 *	  Topic and subscription attributes: names, validation against the SNS
 *	  rules, the attribute documents get_*_attributes return, and delivery
 *	  policies (retry schedules for function subscriptions).
 *
 * Retry schedule.  After a failed delivery SNS retries in four phases:
 * numNoDelayRetries at once, numMinDelayRetries minDelayTarget apart, a
 * backoff phase whose delays grow from minDelayTarget to maxDelayTarget,
 * and numMaxDelayRetries maxDelayTarget apart; numRetries counts all of
 * them.  AWS does not publish its backoff curves; ours, for the i-th of n
 * backoff retries with t = i/n, are
 *
 *	  linear		min + (max - min) * t
 *	  arithmetic	min + (max - min) * t^2
 *	  geometric		min * (max/min)^t
 *	  exponential	min + (max - min) * (e^(5t) - 1) / (e^5 - 1)
 *
 * without jitter (so tests can predict them).  As for HTTP endpoints the
 * whole schedule may take at most an hour.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/topic/topic_attrs.c
 *
 *-------------------------------------------------------------------------
 */
#include "pg_outbox.h"

#include <math.h>

#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "core/jsonb_util.h"
#include "core/security.h"
#include "queue/queue.h"
#include "topic/topic.h"

#define RETRY_MAX_TOTAL_SECS	3600
#define RETRY_MAX_DELAY_SECS	3600
#define RETRY_MAX_RETRIES		100

static const RetryPolicy default_retry = {20, 20, 3, 0, 0, 0, BACKOFF_LINEAR};

/*
 * Topic names: 1-256 characters of [A-Za-z0-9_-], plus the ".fifo" suffix
 * of FIFO topics.
 */
void
topic_check_name(const char *name)
{
	size_t		len = strlen(name);
	size_t		core = len;

	if (len == 0 || len > TOPIC_NAME_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid topic name \"%.64s%s\": length must be between 1 and %d characters",
						name, len > 64 ? "..." : "", TOPIC_NAME_MAX)));
	if (len > 5 && strcmp(name + len - 5, ".fifo") == 0)
		core = len - 5;
	for (size_t i = 0; i < core; i++)
	{
		char		c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '-' || c == '_'))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid topic name \"%s\": only letters, digits, \"-\" and \"_\" are allowed", name),
					 errdetail("A FIFO topic name ends with \".fifo\"; no other \".\" is allowed.")));
	}
}

static void
push_opaque(JsonbParseState **st, const char *key, JsonbValue *v)
{
	outbox_jsonb_push_value(st, key, v);
}

static char *
attr_string(JsonbValue *v, const char *attr)
{
	if (v->type != jbvString)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid attribute \"%s\": expected a string", attr)));
	return pnstrdup(v->val.string.val, v->val.string.len);
}

static void
attr_choice(JsonbValue *v, const char *attr, const char *a, const char *b)
{
	char	   *s = outbox_jsonb_scalar_cstring(v);

	if (s == NULL || (strcmp(s, a) != 0 && strcmp(s, b) != 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid attribute \"%s\": expected \"%s\" or \"%s\"", attr, a, b)));
}

/* ---- delivery policies ---- */

static int
policy_int(JsonbContainer *obj, const char *key, const char *path, int dflt, int min, int max)
{
	JsonbValue *v = outbox_jsonb_get(obj, key);

	if (v == NULL)
		return dflt;
	return outbox_attr_int(v, psprintf("%s.%s", path, key), min, max);
}

static void
check_keys(JsonbContainer *obj, const char *path, const char *const *allowed)
{
	JsonbIterator *it = JsonbIteratorInit(obj);
	JsonbValue	v;
	char	   *key;

	while (outbox_jsonb_next_pair(&it, &key, &v))
	{
		bool		ok = false;

		for (int i = 0; allowed[i]; i++)
			if (strcmp(key, allowed[i]) == 0)
				ok = true;
		if (!ok)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid attribute \"%s\": unknown field \"%s\"", path, key)));
	}
}

static JsonbContainer *
policy_object(JsonbContainer *obj, const char *key, const char *path)
{
	JsonbValue *v = outbox_jsonb_get(obj, key);

	if (v == NULL)
		return NULL;
	if (v->type != jbvBinary || !JsonContainerIsObject(v->val.binary.data))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid attribute \"%s.%s\": expected a JSON object", path, key)));
	return v->val.binary.data;
}

double
topic_retry_delay(const RetryPolicy *p, int retry)
{
	int			backoff = p->num_retries - p->num_no_delay - p->num_min_delay - p->num_max_delay;
	double		min = p->min_delay;
	double		max = p->max_delay;
	double		t;

	if (retry <= p->num_no_delay)
		return 0;
	retry -= p->num_no_delay;
	if (retry <= p->num_min_delay)
		return min;
	retry -= p->num_min_delay;
	if (retry > backoff)
		return max;
	t = (double) retry / backoff;
	switch (p->backoff)
	{
		case BACKOFF_LINEAR:
			return min + (max - min) * t;
		case BACKOFF_ARITHMETIC:
			return min + (max - min) * t * t;
		case BACKOFF_GEOMETRIC:
			return min * pow(max / min, t);
		case BACKOFF_EXPONENTIAL:
			return min + (max - min) * (exp(5 * t) - 1) / (exp(5) - 1);
	}
	return max;
}

static void
parse_retry(JsonbContainer *obj, const char *path, RetryPolicy *p)
{
	static const char *const keys[] = {"minDelayTarget", "maxDelayTarget", "numRetries",
		"numNoDelayRetries", "numMinDelayRetries", "numMaxDelayRetries", "backoffFunction", NULL};
	JsonbValue *fn;
	double		total = 0;

	*p = default_retry;
	if (obj == NULL)
		return;
	check_keys(obj, path, keys);
	p->max_delay = policy_int(obj, "maxDelayTarget", path, 20, 1, RETRY_MAX_DELAY_SECS);
	p->min_delay = policy_int(obj, "minDelayTarget", path, Min(20, p->max_delay), 1, p->max_delay);
	p->num_retries = policy_int(obj, "numRetries", path, 3, 0, RETRY_MAX_RETRIES);
	p->num_no_delay = policy_int(obj, "numNoDelayRetries", path, 0, 0, RETRY_MAX_RETRIES);
	p->num_min_delay = policy_int(obj, "numMinDelayRetries", path, 0, 0, RETRY_MAX_RETRIES);
	p->num_max_delay = policy_int(obj, "numMaxDelayRetries", path, 0, 0, RETRY_MAX_RETRIES);
	if (p->num_no_delay + p->num_min_delay + p->num_max_delay > p->num_retries)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid attribute \"%s\": numNoDelayRetries + numMinDelayRetries + numMaxDelayRetries (%d) exceeds numRetries (%d)",
						path, p->num_no_delay + p->num_min_delay + p->num_max_delay, p->num_retries)));
	fn = outbox_jsonb_get(obj, "backoffFunction");
	if (fn)
	{
		char	   *s = outbox_jsonb_scalar_cstring(fn);

		if (s && strcmp(s, "linear") == 0)
			p->backoff = BACKOFF_LINEAR;
		else if (s && strcmp(s, "arithmetic") == 0)
			p->backoff = BACKOFF_ARITHMETIC;
		else if (s && strcmp(s, "geometric") == 0)
			p->backoff = BACKOFF_GEOMETRIC;
		else if (s && strcmp(s, "exponential") == 0)
			p->backoff = BACKOFF_EXPONENTIAL;
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid attribute \"%s.backoffFunction\": expected linear, arithmetic, geometric or exponential",
							path)));
	}
	for (int k = 1; k <= p->num_retries; k++)
		total += topic_retry_delay(p, k);
	if (total > RETRY_MAX_TOTAL_SECS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid attribute \"%s\": the retries would take %.0f seconds, at most %d are allowed",
						path, total, RETRY_MAX_TOTAL_SECS)));
}

static void
check_throttle_and_request(JsonbContainer *obj, const char *throttle_key, const char *request_key,
						   const char *path)
{
	static const char *const throttle_keys[] = {"maxReceivesPerSecond", NULL};
	static const char *const request_keys[] = {"headerContentType", NULL};
	JsonbContainer *o;

	if ((o = policy_object(obj, throttle_key, path)) != NULL)
	{
		const char *p = psprintf("%s.%s", path, throttle_key);

		check_keys(o, p, throttle_keys);
		(void) policy_int(o, "maxReceivesPerSecond", p, 1, 1, PG_INT32_MAX);
	}
	if ((o = policy_object(obj, request_key, path)) != NULL)
		check_keys(o, psprintf("%s.%s", path, request_key), request_keys);
}

/*
 * Validate a DeliveryPolicy: a topic's {"http": {"defaultHealthyRetryPolicy",
 * "disableSubscriptionOverrides", "defaultThrottlePolicy",
 * "defaultRequestPolicy"}} or a subscription's {"healthyRetryPolicy",
 * "throttlePolicy", "requestPolicy"}.
 */
void
topic_parse_delivery_policy(Jsonb *policy, bool topic_level, const char *attr)
{
	RetryPolicy p;

	if (topic_level)
	{
		static const char *const top[] = {"http", NULL};
		static const char *const http[] = {"defaultHealthyRetryPolicy", "disableSubscriptionOverrides",
		"defaultThrottlePolicy", "defaultRequestPolicy", NULL};
		JsonbContainer *h;
		JsonbValue *d;
		const char *path = psprintf("%s.http", attr);

		check_keys(&policy->root, attr, top);
		if ((h = policy_object(&policy->root, "http", attr)) == NULL)
			return;
		check_keys(h, path, http);
		parse_retry(policy_object(h, "defaultHealthyRetryPolicy", path),
					psprintf("%s.defaultHealthyRetryPolicy", path), &p);
		if ((d = outbox_jsonb_get(h, "disableSubscriptionOverrides")) != NULL)
			(void) outbox_attr_bool(d, psprintf("%s.disableSubscriptionOverrides", path));
		check_throttle_and_request(h, "defaultThrottlePolicy", "defaultRequestPolicy", path);
	}
	else
	{
		static const char *const keys[] = {"healthyRetryPolicy", "throttlePolicy", "requestPolicy", NULL};

		check_keys(&policy->root, attr, keys);
		parse_retry(policy_object(&policy->root, "healthyRetryPolicy", attr),
					psprintf("%s.healthyRetryPolicy", attr), &p);
		check_throttle_and_request(&policy->root, "throttlePolicy", "requestPolicy", attr);
	}
}

/*
 * The retry policy a function subscription gets: its own, unless the topic
 * has none or disables subscription overrides; then the topic's; then
 * the default (3 retries, 20 seconds apart).
 */
void
topic_effective_retry(TopicInfo *t, SubscriptionInfo *s, RetryPolicy *out)
{
	JsonbContainer *http = NULL;
	bool		overrides = true;

	if (t->delivery_policy)
	{
		JsonbValue *h = outbox_jsonb_get(&t->delivery_policy->root, "http");
		JsonbValue *d;

		if (h && h->type == jbvBinary)
		{
			http = h->val.binary.data;
			d = outbox_jsonb_get(http, "disableSubscriptionOverrides");
			if (d && outbox_attr_bool(d, "disableSubscriptionOverrides"))
				overrides = false;
		}
	}
	if (overrides && s->delivery_policy &&
		outbox_jsonb_get(&s->delivery_policy->root, "healthyRetryPolicy"))
	{
		parse_retry(policy_object(&s->delivery_policy->root, "healthyRetryPolicy", "DeliveryPolicy"),
					"DeliveryPolicy.healthyRetryPolicy", out);
		return;
	}
	if (http)
	{
		parse_retry(policy_object(http, "defaultHealthyRetryPolicy", "DeliveryPolicy.http"),
					"DeliveryPolicy.http.defaultHealthyRetryPolicy", out);
		return;
	}
	*out = default_retry;
}

static Jsonb *
retry_jsonb(const RetryPolicy *p)
{
	static const char *const fns[] = {"linear", "arithmetic", "geometric", "exponential"};

	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(
		psprintf("{\"healthyRetryPolicy\": {\"minDelayTarget\": %d, \"maxDelayTarget\": %d,"
				 " \"numRetries\": %d, \"numNoDelayRetries\": %d, \"numMinDelayRetries\": %d,"
				 " \"numMaxDelayRetries\": %d, \"backoffFunction\": \"%s\"}}",
				 p->min_delay, p->max_delay, p->num_retries, p->num_no_delay, p->num_min_delay,
				 p->num_max_delay, fns[p->backoff]))));
}

/* ---- topic attributes ---- */

void
topic_parse_attributes(Jsonb *attributes, TopicAttrs *out, bool creating)
{
	JsonbIterator *it;
	JsonbValue	v;
	char	   *key;
	JsonbParseState *opaque = NULL;

	memset(out, 0, sizeof(*out));
	pushJsonbValue(&opaque, WJB_BEGIN_OBJECT, NULL);
	if (attributes != NULL)
	{
		if (!JB_ROOT_IS_OBJECT(attributes) || JB_ROOT_IS_SCALAR(attributes))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid \"attributes\": expected a JSON object of attribute names and values")));
		it = JsonbIteratorInit(&attributes->root);
		while (outbox_jsonb_next_pair(&it, &key, &v))
		{
			if (strcmp(key, "DisplayName") == 0)
			{
				out->display_name = attr_string(&v, key);
				if (strlen(out->display_name) > TOPIC_DISPLAY_NAME_MAX)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("invalid attribute \"DisplayName\": longer than %d characters",
									TOPIC_DISPLAY_NAME_MAX)));
				out->given |= TATTR_DISPLAY;
			}
			else if (strcmp(key, "FifoTopic") == 0)
			{
				if (!creating)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("invalid attribute \"FifoTopic\": it is fixed when the topic is created")));
				out->fifo = outbox_attr_bool(&v, key);
				out->given |= TATTR_FIFO;
			}
			else if (strcmp(key, "ContentBasedDeduplication") == 0)
			{
				out->content_based_dedup = outbox_attr_bool(&v, key);
				out->given |= TATTR_CONTENT_DEDUP;
			}
			else if (strcmp(key, "DeliveryPolicy") == 0)
			{
				out->delivery_policy = outbox_attr_policy(&v, key);
				if (out->delivery_policy)
					topic_parse_delivery_policy(out->delivery_policy, true, key);
				out->given |= TATTR_DELIVERY;
			}
			else if (strcmp(key, "Policy") == 0)
			{
				Jsonb	   *p = outbox_attr_policy(&v, key);
				JsonbValue	pv;

				if (p == NULL)
				{
					pv.type = jbvNull;
					push_opaque(&opaque, key, &pv);
				}
				else
				{
					pv.type = jbvBinary;
					pv.val.binary.data = &p->root;
					pv.val.binary.len = VARSIZE(p) - VARHDRSZ;
					push_opaque(&opaque, key, &pv);
				}
				out->given |= TATTR_OPAQUE;
			}
			else if (strcmp(key, "SignatureVersion") == 0)
			{
				attr_choice(&v, key, "1", "2");
				push_opaque(&opaque, key, &v);
				out->given |= TATTR_OPAQUE;
			}
			else if (strcmp(key, "TracingConfig") == 0)
			{
				attr_choice(&v, key, "PassThrough", "Active");
				push_opaque(&opaque, key, &v);
				out->given |= TATTR_OPAQUE;
			}
			else if (strcmp(key, "FifoThroughputScope") == 0)
			{
				attr_choice(&v, key, "Topic", "MessageGroup");
				push_opaque(&opaque, key, &v);
				out->given |= TATTR_OPAQUE;
			}
			else if (strcmp(key, "KmsMasterKeyId") == 0)
			{
				(void) attr_string(&v, key);
				push_opaque(&opaque, key, &v);
				out->given |= TATTR_OPAQUE;
			}
			else if (strcmp(key, "ArchivePolicy") == 0 || strcmp(key, "DataProtectionPolicy") == 0)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("attribute \"%s\" is not supported by pg_outbox", key)));
			else if (strcmp(key, "TopicArn") == 0 || strcmp(key, "Owner") == 0 ||
					 strncmp(key, "Subscriptions", 13) == 0 ||
					 strcmp(key, "EffectiveDeliveryPolicy") == 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid attribute \"%s\": it is read-only", key)));
			else
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid attribute \"%s\": unknown topic attribute", key),
						 errhint("Topic attributes are DisplayName, DeliveryPolicy, Policy, SignatureVersion, TracingConfig, KmsMasterKeyId, FifoTopic, ContentBasedDeduplication and FifoThroughputScope.")));
		}
	}
	out->opaque = JsonbValueToJsonb(pushJsonbValue(&opaque, WJB_END_OBJECT, NULL));
	if (!creating && (out->given & TATTR_OPAQUE) == 0)
		out->opaque = NULL;
}

static bool
jsonb_same(Jsonb *a, Jsonb *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return compareJsonbContainers(&a->root, &b->root) == 0;
}

/* CreateTopic on an existing topic: do the given attributes agree? */
bool
topic_attributes_match(TopicInfo *t, TopicAttrs *a)
{
	if ((a->given & TATTR_FIFO) && a->fifo != t->is_fifo)
		return false;
	if ((a->given & TATTR_DISPLAY) && strcmp(a->display_name, t->display_name) != 0)
		return false;
	if ((a->given & TATTR_CONTENT_DEDUP) && a->content_based_dedup != t->content_based_dedup)
		return false;
	if ((a->given & TATTR_DELIVERY) && !jsonb_same(a->delivery_policy, t->delivery_policy))
		return false;
	if ((a->given & TATTR_OPAQUE) && a->opaque &&
		!DatumGetBool(DirectFunctionCall2(jsonb_contains, JsonbPGetDatum(t->opaque_attributes),
										  JsonbPGetDatum(a->opaque))))
		return false;
	return true;
}

static void
put_jsonb(JsonbParseState **st, const char *key, Jsonb *j)
{
	JsonbValue	v;

	v.type = jbvBinary;
	v.val.binary.data = &j->root;
	v.val.binary.len = VARSIZE(j) - VARHDRSZ;
	outbox_jsonb_push_value(st, key, &v);
}

Jsonb *
topic_format_attributes(TopicInfo *t)
{
	JsonbParseState *st = NULL;
	JsonbIterator *it;
	JsonbValue	v;
	char	   *key;
	RetryPolicy p;
	SubscriptionInfo none;

	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	outbox_jsonb_push_string(&st, "TopicArn", t->arn);
	outbox_jsonb_push_string(&st, "Owner", t->owner);
	outbox_jsonb_push_string(&st, "DisplayName", t->display_name);
	outbox_jsonb_push_string(&st, "SubscriptionsConfirmed", psprintf("%d", t->nsubs));
	outbox_jsonb_push_string(&st, "SubscriptionsPending", "0");
	outbox_jsonb_push_string(&st, "SubscriptionsDeleted", "0");
	outbox_jsonb_push_string(&st, "FifoTopic", t->is_fifo ? "true" : "false");
	if (t->is_fifo)
		outbox_jsonb_push_string(&st, "ContentBasedDeduplication",
								 t->content_based_dedup ? "true" : "false");
	if (t->delivery_policy)
		put_jsonb(&st, "DeliveryPolicy", t->delivery_policy);
	memset(&none, 0, sizeof(none));
	topic_effective_retry(t, &none, &p);
	put_jsonb(&st, "EffectiveDeliveryPolicy", retry_jsonb(&p));
	it = JsonbIteratorInit(&t->opaque_attributes->root);
	while (outbox_jsonb_next_pair(&it, &key, &v))
		if (v.type != jbvNull)
			outbox_jsonb_push_value(&st, key, &v);
	return JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL));
}

/* ---- subscription attributes ---- */

void
topic_parse_sub_attributes(Jsonb *attributes, SubAttrs *out)
{
	JsonbIterator *it;
	JsonbValue	v;
	char	   *key;

	memset(out, 0, sizeof(*out));
	if (attributes == NULL)
		return;
	if (!JB_ROOT_IS_OBJECT(attributes) || JB_ROOT_IS_SCALAR(attributes))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid \"attributes\": expected a JSON object of attribute names and values")));
	it = JsonbIteratorInit(&attributes->root);
	while (outbox_jsonb_next_pair(&it, &key, &v))
	{
		if (strcmp(key, "FilterPolicy") == 0)
		{
			out->filter_policy = outbox_attr_policy(&v, key);
			out->given |= SATTR_FILTER;
		}
		else if (strcmp(key, "FilterPolicyScope") == 0)
		{
			attr_choice(&v, key, "MessageAttributes", "MessageBody");
			out->filter_on_body = v.type == jbvString && v.val.string.len == 11;
			out->given |= SATTR_SCOPE;
		}
		else if (strcmp(key, "RawMessageDelivery") == 0)
		{
			out->raw = outbox_attr_bool(&v, key);
			out->given |= SATTR_RAW;
		}
		else if (strcmp(key, "RedrivePolicy") == 0)
		{
			Jsonb	   *p = outbox_attr_policy(&v, key);

			out->dead_letter_queue = NULL;
			if (p)
			{
				static const char *const keys[] = {"deadLetterTargetArn", NULL};
				JsonbValue *arn;

				check_keys(&p->root, key, keys);
				arn = outbox_jsonb_get(&p->root, "deadLetterTargetArn");
				if (arn == NULL || arn->type != jbvString)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("invalid attribute \"RedrivePolicy\": \"deadLetterTargetArn\" must be a queue ARN")));
				out->dead_letter_queue = pnstrdup(arn->val.string.val, arn->val.string.len);
				out->dead_letter_queue = pstrdup(queue_name_from_arn_checked(out->dead_letter_queue,
																			 "RedrivePolicy.deadLetterTargetArn"));
			}
			out->given |= SATTR_REDRIVE;
		}
		else if (strcmp(key, "DeliveryPolicy") == 0)
		{
			out->delivery_policy = outbox_attr_policy(&v, key);
			if (out->delivery_policy)
				topic_parse_delivery_policy(out->delivery_policy, false, key);
			out->given |= SATTR_DELIVERY;
		}
		else if (strcmp(key, "SubscriptionRoleArn") == 0 || strcmp(key, "ReplayPolicy") == 0)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("attribute \"%s\" is not supported by pg_outbox", key)));
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid attribute \"%s\": unknown subscription attribute", key),
					 errhint("Subscription attributes are FilterPolicy, FilterPolicyScope, RawMessageDelivery, RedrivePolicy and DeliveryPolicy.")));
	}
}

Jsonb *
topic_format_sub_attributes(TopicInfo *t, SubscriptionInfo *s)
{
	JsonbParseState *st = NULL;
	RetryPolicy p;

	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	outbox_jsonb_push_string(&st, "SubscriptionArn", s->arn);
	outbox_jsonb_push_string(&st, "TopicArn", t->arn);
	outbox_jsonb_push_string(&st, "Owner", s->owner);
	outbox_jsonb_push_string(&st, "Protocol", topic_protocol_name(s->protocol));
	outbox_jsonb_push_string(&st, "Endpoint", s->protocol == SUB_SQS ? queue_arn(s->endpoint) : s->endpoint);
	outbox_jsonb_push_string(&st, "ConfirmationWasAuthenticated", "true");
	outbox_jsonb_push_string(&st, "PendingConfirmation", "false");
	outbox_jsonb_push_string(&st, "RawMessageDelivery", s->raw ? "true" : "false");
	if (s->filter_policy)
	{
		put_jsonb(&st, "FilterPolicy", s->filter_policy);
		outbox_jsonb_push_string(&st, "FilterPolicyScope",
								 s->filter_on_body ? "MessageBody" : "MessageAttributes");
	}
	if (s->dead_letter_queue)
	{
		JsonbParseState *rp = NULL;

		pushJsonbValue(&rp, WJB_BEGIN_OBJECT, NULL);
		outbox_jsonb_push_string(&rp, "deadLetterTargetArn", queue_arn(s->dead_letter_queue));
		put_jsonb(&st, "RedrivePolicy", JsonbValueToJsonb(pushJsonbValue(&rp, WJB_END_OBJECT, NULL)));
	}
	if (s->delivery_policy)
		put_jsonb(&st, "DeliveryPolicy", s->delivery_policy);
	if (s->protocol == SUB_FUNCTION)
	{
		topic_effective_retry(t, s, &p);
		put_jsonb(&st, "EffectiveDeliveryPolicy", retry_jsonb(&p));
	}
	return JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL));
}
