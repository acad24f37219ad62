/*-------------------------------------------------------------------------
 *
 * topic.h
 *	  Internal API of the topic room (SNS-style topics).
 *
 * A topic and its subscriptions are cached per backend as one TopicInfo,
 * with the subscriptions' filter policies compiled into two pattern sets
 * (one per FilterPolicyScope).  publish reads only the cache.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/topic/topic.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef OUTBOX_TOPIC_H
#define OUTBOX_TOPIC_H

#include "datatype/timestamp.h"
#include "utils/jsonb.h"
#include "utils/uuid.h"

#include "core/acl.h"
#include "pattern/pattern.h"

/* SNS limits (see shared/reference/sns.md, section 2) */
#define TOPIC_NAME_MAX				256
#define TOPIC_MAX_MESSAGE			262144	/* body plus attributes */
#define TOPIC_SUBJECT_MAX			100
#define TOPIC_DISPLAY_NAME_MAX		100
#define TOPIC_MAX_ATTRIBUTES		100		/* per publish (SNS: bounded by size) */
#define TOPIC_RAW_MAX_ATTRIBUTES	10		/* what an SQS queue accepts */
#define TOPIC_MAX_FILTER_POLICIES	200		/* per topic */
#define TOPIC_MAX_FIFO_SUBSCRIPTIONS 100
#define TOPIC_DEDUP_WINDOW_SECS		300
#define TOPIC_BATCH_MAX				10
#define TOPIC_NOTIFY_MAX			7999	/* NOTIFY payloads are < 8000 bytes */
#define TOPIC_NOTIFY_KEEP_SECS		3600	/* large notifications are kept an hour */

/* Privilege bits of outbox.topic_grant.privileges */
#define TOPIC_PRIV_PUBLISH		0x01
#define TOPIC_PRIV_SUBSCRIBE	0x02
#define TOPIC_PRIV_ADMIN		0x04
#define TOPIC_PRIV_ALL			0x07

typedef enum SubProtocol
{
	SUB_SQS,
	SUB_FUNCTION,
	SUB_NOTIFY
} SubProtocol;

/* A retry policy (SNS DeliveryPolicy's healthyRetryPolicy), validated. */
typedef enum BackoffFunction
{
	BACKOFF_LINEAR,
	BACKOFF_ARITHMETIC,
	BACKOFF_GEOMETRIC,
	BACKOFF_EXPONENTIAL
} BackoffFunction;

typedef struct RetryPolicy
{
	int			min_delay;		/* seconds */
	int			max_delay;
	int			num_retries;	/* total, all phases */
	int			num_no_delay;
	int			num_min_delay;
	int			num_max_delay;
	BackoffFunction backoff;
} RetryPolicy;

typedef struct SubscriptionInfo
{
	pg_uuid_t	id;
	char	   *arn;
	SubProtocol protocol;
	char	   *endpoint;		/* queue name, function signature or channel */
	Oid			function;		/* SUB_FUNCTION */
	char		owner[NAMEDATALEN];
	Oid			owner_oid;		/* InvalidOid if the role is gone */
	Jsonb	   *filter_policy;	/* NULL: every message */
	bool		filter_on_body;
	bool		raw;
	char	   *dead_letter_queue;	/* NULL: none */
	Jsonb	   *delivery_policy;	/* NULL: the topic's */
	TimestampTz created_at;
} SubscriptionInfo;

typedef struct TopicInfo
{
	char		name[TOPIC_NAME_MAX + 1];	/* hash key: keep first */
	int32		topic_id;
	bool		is_fifo;
	char		owner[NAMEDATALEN];
	char	   *arn;
	char	   *display_name;
	bool		content_based_dedup;
	Jsonb	   *delivery_policy;	/* NULL: none */
	Jsonb	   *opaque_attributes;
	Jsonb	   *tags;
	TimestampTz created_at;
	int			ngrants;
	OutboxGrant *grants;
	int			nsubs;
	SubscriptionInfo *subs;		/* in subscription order (created_at, id) */
	int			nfiltered;		/* subscriptions with a filter policy */
	PatternSet *attr_filters;	/* index = position in subs; NULL if none */
	PatternSet *body_filters;
	/* the rights of the last role asked about */
	Oid			rights_role;
	int			rights;
} TopicInfo;

/* The settable topic attributes, parsed and validated (topic_attrs.c) */
typedef struct TopicAttrs
{
	uint32		given;
	bool		fifo;
	char	   *display_name;
	bool		content_based_dedup;
	Jsonb	   *delivery_policy;	/* NULL with TATTR_DELIVERY: remove */
	Jsonb	   *opaque;			/* Policy, SignatureVersion, TracingConfig, ... */
} TopicAttrs;

#define TATTR_FIFO			0x01
#define TATTR_DISPLAY		0x02
#define TATTR_CONTENT_DEDUP 0x04
#define TATTR_DELIVERY		0x08
#define TATTR_OPAQUE		0x10

/* The settable subscription attributes (topic_attrs.c) */
typedef struct SubAttrs
{
	uint32		given;
	Jsonb	   *filter_policy;	/* NULL with SATTR_FILTER: remove */
	bool		filter_on_body;
	bool		raw;
	char	   *dead_letter_queue;	/* NULL with SATTR_REDRIVE: remove */
	Jsonb	   *delivery_policy;	/* NULL with SATTR_DELIVERY: remove */
} SubAttrs;

#define SATTR_FILTER		0x01
#define SATTR_SCOPE			0x02
#define SATTR_RAW			0x04
#define SATTR_REDRIVE		0x08
#define SATTR_DELIVERY		0x10

/* A message to publish, validated (topic_publish.c) */
typedef struct TopicMessage
{
	const char *entry_id;		/* publish_batch entry id, or NULL */
	text	   *message;
	char	   *subject;
	Jsonb	   *attributes;		/* NULL if none */
	int			nattributes;
	char	   *group_id;
	char	   *dedup_id;
	bool		json_structure; /* MessageStructure = json */
	Jsonb	   *per_protocol;	/* the parsed json structure */
} TopicMessage;

typedef struct TopicPublished
{
	pg_uuid_t	message_id;
	int64		sequence;		/* FIFO; 0 otherwise */
	bool		duplicate;
} TopicPublished;

/* topic_catalog.c */
extern void topic_catalog_init(void);
extern TopicInfo *topic_lookup(const char *name_or_arn, bool missing_ok);
extern char *topic_arn(const char *name);
extern const char *topic_name_from_arn(const char *name_or_arn);
extern SubscriptionInfo *topic_find_subscription(const char *arn_or_id, TopicInfo **topic,
												 bool missing_ok);
extern void topic_create(const char *name, Jsonb *attributes, Jsonb *tags, char **arn);
extern void topic_drop(TopicInfo *t);
extern void topic_set_attributes(TopicInfo *t, Jsonb *attributes);
extern void topic_remember_rights(TopicInfo *t, Oid role, int rights);

/* topic_acl.c */
extern const OutboxAclKind topic_acl;
extern int	topic_rights_of(TopicInfo *t, Oid role);
extern void topic_check_rights(TopicInfo *t, int privilege, const char *action);
extern void topic_check_any_right(TopicInfo *t, const char *action);
extern void topic_check_subscription_rights(TopicInfo *t, SubscriptionInfo *s, const char *action);

/* topic_attrs.c */
extern void topic_check_name(const char *name);
extern void topic_parse_attributes(Jsonb *attributes, TopicAttrs *out, bool creating);
extern bool topic_attributes_match(TopicInfo *t, TopicAttrs *a);
extern Jsonb *topic_format_attributes(TopicInfo *t);
extern void topic_parse_sub_attributes(Jsonb *attributes, SubAttrs *out);
extern Jsonb *topic_format_sub_attributes(TopicInfo *t, SubscriptionInfo *s);
extern void topic_parse_delivery_policy(Jsonb *policy, bool topic_level, const char *attr);
extern void topic_effective_retry(TopicInfo *t, SubscriptionInfo *s, RetryPolicy *out);
extern double topic_retry_delay(const RetryPolicy *p, int retry);

/* topic_subscribe.c */
extern char *topic_subscribe(TopicInfo *t, const char *protocol, const char *endpoint,
							 Jsonb *attributes);
extern void topic_unsubscribe(TopicInfo *t, SubscriptionInfo *s);
extern void topic_set_sub_attributes(TopicInfo *t, SubscriptionInfo *s, Jsonb *attributes);
extern const char *topic_protocol_name(SubProtocol p);

/* topic_publish.c */
extern void topic_check_message(TopicInfo *t, TopicMessage *m);
extern TopicPublished topic_publish(TopicInfo *t, TopicMessage *m);
extern char *topic_sequence_text(int64 sequence);
extern void topic_publish_as(const char *topic_name, text *message, Oid role, bool *ok, char **error);

/* topic_deliver.c */
extern void topic_deliver_init(void);
extern void topic_dead_letter(TopicInfo *t, SubscriptionInfo *s, pg_uuid_t *message_id,
							  text *payload, const char *code, const char *error);
extern int64 topic_run_maintenance(void);

#endif							/* OUTBOX_TOPIC_H */
