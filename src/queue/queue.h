/*-------------------------------------------------------------------------
 *
 * queue.h
 *	  Internal API of the queue room (SQS-style queues).
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/queue/queue.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef OUTBOX_QUEUE_H
#define OUTBOX_QUEUE_H

#include "datatype/timestamp.h"
#include "executor/spi.h"

#include "core/acl.h"
#include "core/security.h"
#include "core/spi_plan.h"
#include "storage/spin.h"
#include "utils/jsonb.h"
#include "utils/uuid.h"

/* SQS limits (see shared/reference/sqs.md, section 2) */
#define QUEUE_NAME_MAX			80
#define QUEUE_MAX_DELAY			900
#define QUEUE_MAX_VISIBILITY	43200
#define QUEUE_MIN_RETENTION		60
#define QUEUE_MAX_RETENTION		1209600
#define QUEUE_MIN_MESSAGE_SIZE	1024
#define QUEUE_MAX_WAIT			20
#define QUEUE_MAX_RECEIVE_COUNT 1000
#define QUEUE_MAX_ATTRIBUTES	10
#define QUEUE_ID_MAX			128		/* group, deduplication, attempt ids */
#define QUEUE_DEDUP_WINDOW_SECS 300
#define QUEUE_MAX_INFLIGHT_SECS 43200	/* 12 h from the receive */

/* Privilege bits of outbox.queue_grant.privileges */
#define QUEUE_PRIV_SEND		0x01
#define QUEUE_PRIV_RECEIVE	0x02
#define QUEUE_PRIV_DELETE	0x04
#define QUEUE_PRIV_PURGE	0x08
#define QUEUE_PRIV_ADMIN	0x10
#define QUEUE_PRIV_ALL		0x1F

typedef OutboxGrant QueueGrant;

/*
 * A queue as the cache holds it.  Everything the hot paths need is here, so
 * send/receive/delete never read outbox.queue.
 */
typedef struct QueueInfo
{
	char		name[QUEUE_NAME_MAX + 1];	/* hash key: keep first */
	int32		queue_id;
	bool		is_fifo;
	bool		is_unlogged;
	char		owner[NAMEDATALEN];
	int32		visibility_timeout;
	int32		delay_seconds;
	int32		retention_seconds;
	int32		maximum_message_size;
	int32		receive_wait_seconds;
	char	   *dead_letter_queue;	/* NULL: no RedrivePolicy */
	int32		max_receive_count;
	Jsonb	   *redrive_allow_policy;	/* NULL: allowAll */
	bool		content_based_dedup;
	bool		dedup_scope_group;
	bool		throughput_per_group;
	Jsonb	   *opaque_attributes;
	Jsonb	   *tags;
	TimestampTz created_at;
	TimestampTz modified_at;
	TimestampTz purged_at;			/* 0 if never */
	int			ngrants;
	QueueGrant *grants;
	/* per-backend rights cache for the last role asked about */
	Oid			rights_role;
	int			rights;
	/* the queue's shared-memory entry (queue_shared.c), found once per cache fill */
	struct QueueShared *shared;
	bool		shared_known;
} QueueInfo;

/* The settable attributes, parsed and validated (queue_attrs.c) */
typedef struct QueueAttrs
{
	uint32		given;			/* QATTR_* bits of the attributes present */
	bool		fifo;
	int32		visibility_timeout;
	int32		delay_seconds;
	int32		retention_seconds;
	int32		maximum_message_size;
	int32		receive_wait_seconds;
	char	   *dead_letter_queue;	/* NULL with QATTR_REDRIVE: remove */
	int32		max_receive_count;
	Jsonb	   *redrive_allow_policy;	/* NULL with QATTR_REDRIVE_ALLOW: remove */
	bool		content_based_dedup;
	bool		dedup_scope_group;
	bool		throughput_per_group;
	Jsonb	   *opaque_attributes;	/* Policy, Kms*, SqsManagedSseEnabled */
} QueueAttrs;

#define QATTR_FIFO				0x0001
#define QATTR_VISIBILITY		0x0002
#define QATTR_DELAY				0x0004
#define QATTR_RETENTION			0x0008
#define QATTR_MAX_SIZE			0x0010
#define QATTR_WAIT				0x0020
#define QATTR_REDRIVE			0x0040
#define QATTR_REDRIVE_ALLOW		0x0080
#define QATTR_CONTENT_DEDUP		0x0100
#define QATTR_DEDUP_SCOPE		0x0200
#define QATTR_THROUGHPUT		0x0400
#define QATTR_OPAQUE			0x0800

/* A message to send, validated (queue_send.c) */
typedef struct OutgoingMessage
{
	const char *id;				/* batch entry id, or NULL */
	const char *body_field;		/* how errors name the body; NULL: "message_body" */
	text	   *body;
	int32		delay_seconds;	/* -1: queue default */
	Jsonb	   *attributes;		/* NULL if none */
	Jsonb	   *system_attributes;	/* NULL if none */
	char	   *group_id;
	char	   *dedup_id;
	char		md5_body[33];
	char		md5_attributes[33]; /* "" if no attributes */
} OutgoingMessage;

typedef struct SentMessage
{
	int64		msg_id;
	bool		duplicate;
} SentMessage;

/* A receipt handle, decoded */
typedef struct ReceiptHandle
{
	int32		queue_id;
	int64		msg_id;
	int64		receipt;
} ReceiptHandle;

/* queue_catalog.c */
extern QueueInfo *queue_lookup(const char *name, bool missing_ok);
extern QueueInfo *queue_lookup_by_arn(const char *name_or_arn, const char *field, bool missing_ok);
extern char *queue_arn(const char *name);
extern const char *queue_name_from_arn(const char *name_or_arn);
extern const char *queue_name_from_arn_checked(const char *name_or_arn, const char *field);
extern void queue_catalog_init(void);
extern void queue_ensure_installation(void);
extern const unsigned char *queue_installation_secret(void);
extern Datum queue_create(const char *name, Jsonb *attributes, bool unlogged, bool unlogged_given,
						  Jsonb *tags);
extern void queue_drop(QueueInfo *queue);
extern void queue_set_attributes(QueueInfo *queue, Jsonb *attributes);
extern Jsonb *queue_get_attributes(QueueInfo *queue, ArrayType *names);
extern void queue_check_dead_letter_target(QueueInfo *source, const char *dlq_name);

/* queue_attrs.c */
extern void queue_check_name(const char *name);
extern void queue_parse_attributes(Jsonb *attributes, QueueAttrs *out, bool creating);
extern void queue_check_attribute_combination(const char *name, bool fifo, QueueAttrs *attrs);
extern Jsonb *queue_format_attributes(QueueInfo *queue, int64 counters[3], ArrayType *names);
extern bool queue_attributes_match(QueueInfo *queue, QueueAttrs *attrs);

/* queue_acl.c */
extern void queue_check_any_right(QueueInfo *q, const char *action);
extern void queue_check_rights(QueueInfo *queue, int privilege, const char *action);
extern void queue_cache_remember_rights(const char *name, Oid role, int rights);
extern bool queue_has_any_right(QueueInfo *queue, Oid role);
extern bool queue_role_has_rights(QueueInfo *queue, Oid role, int privilege);
extern int	queue_parse_privileges(ArrayType *privileges);
extern void queue_grant(QueueInfo *queue, int privileges, const char *grantee, bool is_grant);

/* queue_message.c: validation shared by send paths */
extern void queue_prepare_message(QueueInfo *queue, OutgoingMessage *msg, int64 *size_out);
extern void queue_check_body(text *body, const char *field);
extern int	queue_check_message_attributes(Jsonb *attributes, int max, int64 *size);
extern void queue_check_id_chars(const char *value, const char *field);
extern void queue_md5_attributes(Jsonb *attributes, char *out);
extern pg_uuid_t *queue_message_uuid(int64 msg_id);
extern char *queue_sequence_number(int64 msg_id);
extern char *queue_receipt_encode(int32 queue_id, int64 msg_id, int64 receipt);
extern void queue_receipt_decode(QueueInfo *queue, const char *handle, ReceiptHandle *out);
extern int64 queue_new_receipt_base(void);

/* queue_send.c */
extern SentMessage queue_send(QueueInfo *queue, OutgoingMessage *msg);
extern void queue_send_batch_standard(QueueInfo *q, OutgoingMessage *msgs, int n, int64 *msg_ids);
extern void queue_send_reset_cache(void);
extern void queue_send_as(const char *queue_name, text *body, Jsonb *attributes,
						  const char *group_id, const char *dedup_id, Oid role,
						  bool *ok, char **error);

/* queue_receive.c */
typedef struct ReceiveRequest
{
	int32		max_messages;
	int32		visibility_timeout;
	int32		wait_seconds;
	const char *attempt_id;
} ReceiveRequest;
extern void queue_receive(QueueInfo *queue, ReceiveRequest *req, Tuplestorestate *out, TupleDesc desc);

/* queue_ack.c */
extern bool queue_delete_message(QueueInfo *queue, const char *handle);
extern int	queue_delete_messages(QueueInfo *queue, char **handles, int n);
extern void queue_change_visibility(QueueInfo *queue, const char *handle, int32 timeout);
extern int64 queue_purge(QueueInfo *queue);

/* queue_wait.c */
extern void queue_wake_at_commit(int32 queue_id);
extern void queue_wait_init(void);
extern bool queue_wait_for_message(int32 queue_id, TimestampTz until);
extern void queue_wait_begin_attempt(int32 queue_id);

/* queue_shared.c: the per-queue entry in shared memory */
typedef struct QueueSharedKey
{
	Oid			dboid;
	int32		queue_id;
} QueueSharedKey;

/* Approximate counters (queue_stats.c) */
typedef struct QueueCounters
{
	int64		visible;
	int64		in_flight;
	int64		delayed;
	TimestampTz counted_at;		/* last exact count; 0: never */
	int64		count_cost_us;	/* how long that count took */
} QueueCounters;

typedef struct QueueShared
{
	QueueSharedKey key;
	slock_t		mutex;
	TimestampTz incarnation;	/* the queue's created_at */
	int64		low;			/* low-water mark (queue_cursor.c) */
	uint64		generation;		/* bumped by inserts of old numbers */
	QueueCounters counters;
} QueueShared;

extern Size queue_shared_shmem_size(void);
extern void queue_shared_shmem_init(void);
extern QueueShared *queue_shared_get(QueueInfo *q);

/* queue_cursor.c */
extern Size queue_cursor_shmem_size(void);
extern void queue_cursor_shmem_init(void);
extern int64 queue_cursor_low(QueueInfo *q);
extern void queue_cursor_advance(QueueInfo *q);
extern void queue_cursor_before_draw(QueueInfo *q);
extern void queue_cursor_after_draw(QueueInfo *q, int64 msg_id);
extern void queue_cursor_insert_old(QueueInfo *q, int64 msg_id);
extern void queue_cursor_at_xact_end(void);
extern bool queue_cursor_has_intents(void);

/* queue_stats.c */
extern void queue_stats_note(QueueInfo *q, int64 visible, int64 in_flight, int64 delayed);
extern void queue_stats_note_recount(QueueInfo *q);
extern void queue_stats_at_xact_end(bool commit);
extern void queue_stats_read(QueueInfo *q, int64 counters[3]);
extern void queue_stats_refresh(QueueInfo *q);

/* queue_maint.c */
extern int64 queue_run_maintenance(double max_seconds);
extern int64 queue_expire_before(QueueInfo *q, TimestampTz before);
extern int64 queue_count_messages(QueueInfo *queue, int64 counters[3]);

/* Plans are cached per table (logged, unlogged): */
#define QUEUE_TABLE(unlogged) ((unlogged) ? "outbox.message_unlogged" : "outbox.message")

/* Run an SPI plan, erroring on anything but the expected result code. */
extern void queue_spi_exec(SPIPlanPtr plan, Datum *values, const char *nulls, bool read_only,
						   long count, int expected);

#endif							/* OUTBOX_QUEUE_H */
