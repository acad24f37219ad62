/*-------------------------------------------------------------------------
 *
 * queue_message.c
 *	  What a message is made of: validation of bodies, message attributes
 *	  and ids against the SQS rules, the MD5 digests SQS clients verify,
 *	  MessageIds, sequence numbers and receipt handles.
 *
 * MessageId.  Every message has an internal number msg_id from one
 * sequence.  Its MessageId is a version-8 UUID whose first half is taken
 * from the installation secret and whose second half is msg_id, so no id
 * column or index is needed and the id survives dump/restore.
 *
 * Receipt handle.  Each receive stores a fresh 64-bit random "receipt" in
 * the message row.  The handle is the hex of (queue_id, msg_id, receipt,
 * tag), where tag is a keyed hash with the installation secret: a handle
 * that was never issued is recognised as such (ReceiptHandleIsInvalid),
 * while a handle that was issued but superseded by a later receive simply
 * no longer matches the row's receipt (the stale-handle rules of SQS).
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/queue/queue_message.c
 *
 *-------------------------------------------------------------------------
 */
#include "pg_outbox.h"

#include "common/base64.h"
#include "common/hashfn.h"
#include "common/md5.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "port/pg_bswap.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "core/jsonb_util.h"
#include "queue/queue.h"

#if PG_VERSION_NUM >= 150000
#define outbox_md5_hex(buf, len, hex) pg_md5_hash((buf), (len), (hex), &md5_errstr)
#else
#define outbox_md5_hex(buf, len, hex) pg_md5_hash((buf), (len), (hex))
#endif

#define RECEIPT_HANDLE_BYTES 28

/*
 * Message bodies and attribute values: at least one character, and only the
 * characters SQS allows (#x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD
 * #x10000-#x10FFFF).  PostgreSQL text never holds NUL or surrogates.
 */
static void
check_message_chars(const char *s, int len, const char *field)
{
	const unsigned char *p = (const unsigned char *) s;
	int			i;

	for (i = 0; i < len; i++)
	{
		unsigned char c = p[i];

		if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
			ereport(ERROR,
					(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
					 errmsg("invalid \"%s\": control character 0x%02x at byte %d is not allowed", field, c, i + 1),
					 errdetail("SQS message contents may hold tab, line feed, carriage return and characters from U+0020 on.")));
		/* U+FFFE and U+FFFF are EF BF BE and EF BF BF in UTF-8 */
		if (c == 0xEF && i + 2 < len && p[i + 1] == 0xBF && (p[i + 2] == 0xBE || p[i + 2] == 0xBF) &&
			GetDatabaseEncoding() == PG_UTF8)
			ereport(ERROR,
					(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
					 errmsg("invalid \"%s\": the non-character U+%s at byte %d is not allowed",
							field, p[i + 2] == 0xBE ? "FFFE" : "FFFF", i + 1)));
	}
}

void
queue_check_body(text *body, const char *field)
{
	int			len = VARSIZE_ANY_EXHDR(body);

	if (len == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid \"%s\": a message body must not be empty", field)));
	check_message_chars(VARDATA_ANY(body), len, field);
}

/*
 * MessageGroupId, MessageDeduplicationId and ReceiveRequestAttemptId: 1-128
 * characters, letters, digits and ASCII punctuation.
 */
void
queue_check_id_chars(const char *value, const char *field)
{
	size_t		len = strlen(value);
	size_t		i;

	if (len == 0 || len > QUEUE_ID_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid \"%s\": length must be between 1 and %d characters", field, QUEUE_ID_MAX)));
	for (i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) value[i];

		if (c < '!' || c > '~')
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid \"%s\": character at position %d is not a letter, digit or ASCII punctuation",
							field, (int) i + 1)));
	}
}

static void
check_attribute_name(const char *name, int len)
{
	int			i;

	if (len == 0 || len > 256)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid message attribute name \"%.*s\": length must be between 1 and 256 characters",
						Min(len, 300), name)));
	if (name[0] == '.' || name[len - 1] == '.')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid message attribute name \"%.*s\": it must not start or end with \".\"", len, name)));
	if ((len >= 4 && pg_strncasecmp(name, "aws.", 4) == 0) ||
		(len >= 7 && pg_strncasecmp(name, "amazon.", 7) == 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid message attribute name \"%.*s\": the prefixes \"AWS.\" and \"Amazon.\" are reserved", len, name)));
	for (i = 0; i < len; i++)
	{
		char		c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			  c == '_' || c == '-' || c == '.'))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid message attribute name \"%.*s\": only letters, digits, \"_\", \"-\" and \".\" are allowed",
							len, name)));
		if (c == '.' && i > 0 && name[i - 1] == '.')
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid message attribute name \"%.*s\": \"..\" is not allowed", len, name)));
	}
}

/* Number values: up to 38 significant digits, magnitude 1e-128 to 1e126. */
static void
check_number_value(const char *name, const char *s)
{
	const char *p = s;
	int			digits = 0;
	int			leading_zeros = 0;
	bool		seen_nonzero = false;
	bool		seen_point = false;
	bool		any = false;
	int			point_pos = 0;
	int			first_nonzero_pos = -1;
	int			pos = 0;
	long		exponent = 0;
	long		magnitude;

	if (*p == '+' || *p == '-')
		p++;
	for (; *p; p++)
	{
		if (*p >= '0' && *p <= '9')
		{
			any = true;
			if (*p != '0' && !seen_nonzero)
			{
				seen_nonzero = true;
				first_nonzero_pos = pos;
			}
			if (seen_nonzero)
				digits++;
			else
				leading_zeros++;
			pos++;
		}
		else if (*p == '.' && !seen_point)
		{
			seen_point = true;
			point_pos = pos;
		}
		else if ((*p == 'e' || *p == 'E') && any)
		{
			char	   *end;

			errno = 0;
			exponent = strtol(p + 1, &end, 10);
			if (*end != '\0' || end == p + 1 || errno != 0)
				any = false;
			break;
		}
		else
		{
			any = false;
			break;
		}
	}
	if (!any)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid message attribute \"%s\": \"%s\" is not a number", name, s)));
	if (!seen_point)
		point_pos = pos;
	if (!seen_nonzero)
		return;					/* zero */
	/* trailing zeros after the last non-zero digit are not significant */
	{
		const char *q = p - 1;
		int			trailing = 0;

		while (q >= s && (*q == '0' || *q == '.'))
		{
			if (*q == '0')
				trailing++;
			q--;
		}
		if (seen_point)
			digits -= trailing;
	}
	if (digits > 38)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid message attribute \"%s\": a number may have at most 38 significant digits", name)));
	magnitude = (long) point_pos - first_nonzero_pos - 1 + exponent;
	if (magnitude > 126 || magnitude < -128)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid message attribute \"%s\": a number must lie between 10^-128 and 10^126 in magnitude", name)));
	(void) leading_zeros;
}

typedef struct AttrEntry
{
	char	   *name;
	int			name_len;
	char	   *type;
	int			type_len;
	char	   *value;			/* string, or decoded binary */
	int			value_len;
	bool		binary;
} AttrEntry;

static int
attr_entry_cmp(const void *a, const void *b)
{
	const AttrEntry *x = a;
	const AttrEntry *y = b;
	int			r = memcmp(x->name, y->name, Min(x->name_len, y->name_len));

	if (r != 0)
		return r;
	return x->name_len - y->name_len;
}

/*
 * Parse and validate a message attributes object; returns the entries
 * (for the MD5) and their byte size (for the size limit).
 */
static AttrEntry *
parse_message_attributes(Jsonb *attributes, int max, int *count, int64 *size)
{
	JsonbIterator *it;
	JsonbValue	v;
	char	   *name;
	AttrEntry  *entries;
	int			n = 0;
	int			total;

	*size = 0;
	if (!JB_ROOT_IS_OBJECT(attributes) || JB_ROOT_IS_SCALAR(attributes))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid \"message_attributes\": expected a JSON object of attribute names and values"),
				 errhint("Use the SQS shape: {\"name\": {\"DataType\": \"String\", \"StringValue\": \"value\"}}.")));
	total = JB_ROOT_COUNT(attributes);
	if (total > max)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid \"message_attributes\": %d attributes given, at most %d are allowed",
						total, max)));
	entries = palloc0(sizeof(AttrEntry) * Max(total, 1));

	it = JsonbIteratorInit(&attributes->root);
	while (outbox_jsonb_next_pair(&it, &name, &v))
	{
		AttrEntry  *e;
		JsonbValue *dt;
		JsonbValue *sv;
		JsonbValue *bv;

		e = &entries[n++];
		e->name = name;
		e->name_len = strlen(name);
		check_attribute_name(e->name, e->name_len);

		if (v.type != jbvBinary || !JsonContainerIsObject(v.val.binary.data))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid message attribute \"%s\": expected an object with \"DataType\" and \"StringValue\" or \"BinaryValue\"", name)));
		dt = outbox_jsonb_get(v.val.binary.data, "DataType");
		sv = outbox_jsonb_get(v.val.binary.data, "StringValue");
		bv = outbox_jsonb_get(v.val.binary.data, "BinaryValue");
		if (outbox_jsonb_get(v.val.binary.data, "StringListValues") || outbox_jsonb_get(v.val.binary.data, "BinaryListValues"))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("invalid message attribute \"%s\": \"StringListValues\" and \"BinaryListValues\" are reserved and not supported", name)));
		if (dt == NULL || dt->type != jbvString || dt->val.string.len == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid message attribute \"%s\": \"DataType\" is required", name)));
		e->type = dt->val.string.val;
		e->type_len = dt->val.string.len;
		if (e->type_len > 256)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid message attribute \"%s\": \"DataType\" is longer than 256 characters", name)));
		if (e->type_len >= 6 && strncmp(e->type, "Binary", 6) == 0 &&
			(e->type_len == 6 || e->type[6] == '.'))
			e->binary = true;
		else if (!((e->type_len >= 6 && strncmp(e->type, "String", 6) == 0 && (e->type_len == 6 || e->type[6] == '.')) ||
				   (e->type_len >= 6 && strncmp(e->type, "Number", 6) == 0 && (e->type_len == 6 || e->type[6] == '.'))))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid message attribute \"%s\": unknown DataType \"%.*s\"", name, e->type_len, e->type),
					 errdetail("DataType is String, Number or Binary, optionally followed by \".\" and a custom label.")));
		if (e->type_len > 6 && e->type_len == 7)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid message attribute \"%s\": the custom label after \"%.*s\" is empty", name, e->type_len, e->type)));

		if (e->binary)
		{
			int			declen;

			if (bv == NULL || bv->type != jbvString || bv->val.string.len == 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid message attribute \"%s\": a Binary attribute needs a non-empty base64 \"BinaryValue\"", name)));
			if (sv)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid message attribute \"%s\": a Binary attribute takes \"BinaryValue\", not \"StringValue\"", name)));
			e->value = palloc(pg_b64_dec_len(bv->val.string.len) + 1);
			declen = pg_b64_decode(bv->val.string.val, bv->val.string.len, e->value,
								   pg_b64_dec_len(bv->val.string.len) + 1);
			if (declen <= 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid message attribute \"%s\": \"BinaryValue\" is not valid base64", name)));
			e->value_len = declen;
		}
		else
		{
			if (sv == NULL || sv->type != jbvString || sv->val.string.len == 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid message attribute \"%s\": a %.*s attribute needs a non-empty \"StringValue\"",
								name, e->type_len, e->type)));
			if (bv)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid message attribute \"%s\": \"BinaryValue\" is only for Binary attributes", name)));
			e->value = sv->val.string.val;
			e->value_len = sv->val.string.len;
			check_message_chars(e->value, e->value_len, psprintf("message_attributes.%s", name));
			if (e->type[0] == 'N')
				check_number_value(name, pnstrdup(e->value, e->value_len));
		}
		*size += e->name_len + e->type_len + e->value_len;
	}
	qsort(entries, n, sizeof(AttrEntry), attr_entry_cmp);
	*count = n;
	return entries;
}

static void
append_len32(StringInfo buf, const char *data, int len)
{
	uint32		be = pg_hton32((uint32) len);

	appendBinaryStringInfo(buf, (char *) &be, 4);
	appendBinaryStringInfo(buf, data, len);
}

/* MD5OfMessageAttributes, exactly as SQS computes it */
static void
md5_of_entries(AttrEntry *entries, int n, char *out)
{
	StringInfoData buf;
	int			i;
#if PG_VERSION_NUM >= 150000
	const char *md5_errstr = NULL;
#endif

	initStringInfo(&buf);
	for (i = 0; i < n; i++)
	{
		char		transport = entries[i].binary ? 2 : 1;

		append_len32(&buf, entries[i].name, entries[i].name_len);
		append_len32(&buf, entries[i].type, entries[i].type_len);
		appendBinaryStringInfo(&buf, &transport, 1);
		append_len32(&buf, entries[i].value, entries[i].value_len);
	}
	if (!outbox_md5_hex(buf.data, buf.len, out))
		elog(ERROR, "could not compute MD5 digest");
	pfree(buf.data);
}

void
queue_md5_attributes(Jsonb *attributes, char *out)
{
	int			n;
	int64		size;
	AttrEntry  *entries = parse_message_attributes(attributes, QUEUE_MAX_ATTRIBUTES, &n, &size);

	md5_of_entries(entries, n, out);
}

/*
 * Validate a message for a queue and compute its digests.  Everything that
 * can be wrong with a message is found here, before anything is written.
 */
void
queue_prepare_message(QueueInfo *q, OutgoingMessage *msg, int64 *size_out)
{
	int64		size = VARSIZE_ANY_EXHDR(msg->body);
	const char *body_field = msg->body_field ? msg->body_field :
		msg->id ? psprintf("entries[%s].MessageBody", msg->id) : "message_body";
#if PG_VERSION_NUM >= 150000
	const char *md5_errstr = NULL;
#endif

	queue_check_body(msg->body, body_field);
	if (!outbox_md5_hex(VARDATA_ANY(msg->body), VARSIZE_ANY_EXHDR(msg->body), msg->md5_body))
		elog(ERROR, "could not compute MD5 digest");

	msg->md5_attributes[0] = '\0';
	if (msg->attributes)
	{
		int			n;
		int64		attr_size;
		AttrEntry  *entries = parse_message_attributes(msg->attributes, QUEUE_MAX_ATTRIBUTES, &n, &attr_size);

		if (n == 0)
			msg->attributes = NULL;
		else
		{
			md5_of_entries(entries, n, msg->md5_attributes);
			size += attr_size;
		}
	}

	if (msg->system_attributes)
	{
		JsonbValue *th;

		if (!JB_ROOT_IS_OBJECT(msg->system_attributes) || JB_ROOT_IS_SCALAR(msg->system_attributes) ||
			JB_ROOT_COUNT(msg->system_attributes) > 1 ||
			(JB_ROOT_COUNT(msg->system_attributes) == 1 &&
			 (th = outbox_jsonb_get(&msg->system_attributes->root, "AWSTraceHeader")) == NULL))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid \"message_system_attributes\": only \"AWSTraceHeader\" is allowed")));
		if (JB_ROOT_COUNT(msg->system_attributes) == 0)
			msg->system_attributes = NULL;
		else
		{
			th = outbox_jsonb_get(&msg->system_attributes->root, "AWSTraceHeader");
			if (th->type != jbvBinary || outbox_jsonb_get(th->val.binary.data, "StringValue") == NULL)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid \"message_system_attributes\": \"AWSTraceHeader\" needs {\"DataType\": \"String\", \"StringValue\": ...}")));
		}
	}

	if (size > q->maximum_message_size)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("message of %lld bytes is larger than the MaximumMessageSize of queue \"%s\" (%d bytes)",
						(long long) size, q->name, q->maximum_message_size),
				 errdetail("The size counts the body and every message attribute name, type and value."),
				 errhint("Raise the queue's MaximumMessageSize (up to \"pg_outbox.max_message_size\") or send a reference to the data.")));

	if (msg->delay_seconds >= 0)
	{
		if (q->is_fifo)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid \"delay_seconds\": FIFO queue \"%s\" does not take a per-message delay", q->name),
					 errhint("Set the queue's DelaySeconds attribute instead.")));
		if (msg->delay_seconds > QUEUE_MAX_DELAY)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid \"delay_seconds\": %d is out of range (0 to %d)", msg->delay_seconds, QUEUE_MAX_DELAY)));
	}
	else if (msg->delay_seconds != -1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid \"delay_seconds\": %d is out of range (0 to %d)", msg->delay_seconds, QUEUE_MAX_DELAY)));

	if (msg->group_id)
		queue_check_id_chars(msg->group_id, "message_group_id");
	if (msg->dedup_id)
	{
		queue_check_id_chars(msg->dedup_id, "message_deduplication_id");
		if (!q->is_fifo)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid \"message_deduplication_id\": standard queue \"%s\" does not deduplicate", q->name),
					 errhint("Deduplication ids are for FIFO queues.")));
	}
	if (q->is_fifo)
	{
		if (msg->group_id == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("missing \"message_group_id\": FIFO queue \"%s\" needs a message group id", q->name)));
		if (msg->dedup_id == NULL && !q->content_based_dedup)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("missing \"message_deduplication_id\": FIFO queue \"%s\" has no ContentBasedDeduplication", q->name),
					 errhint("Pass a deduplication id, or set the queue's ContentBasedDeduplication to true.")));
	}
	else if (msg->group_id)
	{
		/*
		 * Standard queues accept a group id since 2025 ("fair queues"): it
		 * is kept and returned, but does not order anything.
		 */
	}
	*size_out = size;
}

/*
 * Validate message attributes for another room's message (a topic's
 * publish): the SQS rules, at most "max" of them.  Returns how many there
 * are; *size gets their byte size.
 */
int
queue_check_message_attributes(Jsonb *attributes, int max, int64 *size)
{
	int			n;

	(void) parse_message_attributes(attributes, max, &n, size);
	return n;
}

pg_uuid_t *
queue_message_uuid(int64 msg_id)
{
	pg_uuid_t  *u = palloc(sizeof(pg_uuid_t));
	const unsigned char *secret = queue_installation_secret();
	uint64		be = pg_hton64((uint64) msg_id);

	memcpy(u->data, secret, 8);
	memcpy(u->data + 8, &be, 8);
	u->data[6] = (u->data[6] & 0x0F) | 0x80;	/* version 8 */
	u->data[8] = (u->data[8] & 0x3F) | 0x80;	/* RFC 9562 variant */
	return u;
}

/* FIFO SequenceNumber: increasing, not consecutive, 20 digits */
char *
queue_sequence_number(int64 msg_id)
{
	return psprintf("%020lld", (long long) msg_id);
}

static uint64
receipt_tag(int32 queue_id, int64 msg_id, int64 receipt)
{
	unsigned char buf[20];
	uint64		seed;

	memcpy(buf, &queue_id, 4);
	memcpy(buf + 4, &msg_id, 8);
	memcpy(buf + 12, &receipt, 8);
	memcpy(&seed, queue_installation_secret() + 8, 8);
	return hash_bytes_extended(buf, sizeof(buf), seed);
}

char *
queue_receipt_encode(int32 queue_id, int64 msg_id, int64 receipt)
{
	unsigned char raw[RECEIPT_HANDLE_BYTES];
	uint32		q = pg_hton32((uint32) queue_id);
	uint64		m = pg_hton64((uint64) msg_id);
	uint64		r = pg_hton64((uint64) receipt);
	uint64		t = pg_hton64(receipt_tag(queue_id, msg_id, receipt));
	char	   *out = palloc(RECEIPT_HANDLE_BYTES * 2 + 1);

	memcpy(raw, &q, 4);
	memcpy(raw + 4, &m, 8);
	memcpy(raw + 12, &r, 8);
	memcpy(raw + 20, &t, 8);
	hex_encode((char *) raw, RECEIPT_HANDLE_BYTES, out);
	out[RECEIPT_HANDLE_BYTES * 2] = '\0';
	return out;
}

static bool
is_hex(const char *s, int len)
{
	int			i;

	for (i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

void
queue_receipt_decode(QueueInfo *queue, const char *handle, ReceiptHandle *out)
{
	unsigned char raw[RECEIPT_HANDLE_BYTES];
	uint32		q;
	uint64		m;
	uint64		r;
	uint64		t;

	if (strlen(handle) != RECEIPT_HANDLE_BYTES * 2 || !is_hex(handle, RECEIPT_HANDLE_BYTES * 2))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid receipt handle \"%s\"", handle),
				 errdetail("A receipt handle is the value receive_message returned in \"receipt_handle\".")));
	hex_decode(handle, RECEIPT_HANDLE_BYTES * 2, (char *) raw);
	memcpy(&q, raw, 4);
	memcpy(&m, raw + 4, 8);
	memcpy(&r, raw + 12, 8);
	memcpy(&t, raw + 20, 8);
	out->queue_id = (int32) pg_ntoh32(q);
	out->msg_id = (int64) pg_ntoh64(m);
	out->receipt = (int64) pg_ntoh64(r);
	if (pg_ntoh64(t) != receipt_tag(out->queue_id, out->msg_id, out->receipt))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid receipt handle \"%s\"", handle),
				 errdetail("The handle was not issued by this installation.")));
	if (out->queue_id != queue->queue_id)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid receipt handle \"%s\": it belongs to another queue than \"%s\"", handle, queue->name)));
}

/*
 * A fresh random base for the receipts of one receive call; each message
 * gets base XOR msg_id, which is unique within the call and unpredictable.
 */
int64
queue_new_receipt_base(void)
{
	int64		base;

	if (!pg_strong_random(&base, sizeof(base)))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate a random receipt")));
	return base;
}
