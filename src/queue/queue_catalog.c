/*-------------------------------------------------------------------------
 *
 * queue_catalog.c
 *	  The queue metadata: outbox.queue and outbox.queue_grant, their
 *	  per-backend cache, and create/delete/get/set of queues.
 *
 * The hot paths (send, receive, delete) need a queue's id, type, limits
 * and grants on every call.  They find them in a hash table keyed by queue
 * name, filled on first use from the tables and dropped whole when the
 * tables change (src/core/cache.c explains the invalidation).  Lookups hand
 * out a deep copy made in the caller's memory context, because an
 * invalidation can arrive in the middle of a call (any lock acquisition
 * processes invalidation messages) and must not leave the call holding
 * freed memory.
 *
 * All SPI here runs as the extension owner: callers have switched with
 * outbox_become_owner() after noting who the caller is.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/queue/queue_catalog.c
 *
 *-------------------------------------------------------------------------
 */
#include "pg_outbox.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "core/cache.h"
#include "core/clock.h"
#include "core/jsonb_util.h"
#include "queue/queue.h"

static HTAB *queue_cache = NULL;
static MemoryContext queue_cache_cxt = NULL;
static bool queue_cache_stale = false;
static unsigned char installation_secret[32];
static bool installation_secret_valid = false;

/*
 * An invalidation only marks the cache stale: it may arrive while a queue is
 * being loaded (any SPI query can take in invalidations), so the memory is
 * freed at the next lookup, not under the loader's feet.
 */
static void
queue_cache_reset(void)
{
	queue_cache_stale = true;
	installation_secret_valid = false;
	queue_send_reset_cache();
}

void
queue_catalog_init(void)
{
	outbox_cache_register_reset(queue_cache_reset);
}

static void
queue_cache_create(void)
{
	HASHCTL		ctl;

	if (queue_cache_cxt == NULL)
		queue_cache_cxt = AllocSetContextCreate(CacheMemoryContext,
												"pg_outbox queue cache",
												ALLOCSET_DEFAULT_SIZES);
	else
		MemoryContextReset(queue_cache_cxt);
	queue_cache_stale = false;
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = QUEUE_NAME_MAX + 1;
	ctl.entrysize = sizeof(QueueInfo);
	ctl.hcxt = queue_cache_cxt;
	queue_cache = hash_create("pg_outbox queues", 64, &ctl,
							  HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);

	outbox_cache_watch_relation(get_relname_relid("queue", get_namespace_oid(OUTBOX_SCHEMA, false)));
	outbox_cache_watch_relation(get_relname_relid("queue_grant", get_namespace_oid(OUTBOX_SCHEMA, false)));
	outbox_cache_watch_relation(get_relname_relid("installation", get_namespace_oid(OUTBOX_SCHEMA, false)));
}

static Jsonb *
copy_jsonb(Jsonb *j, MemoryContext cxt)
{
	Jsonb	   *copy;

	if (j == NULL)
		return NULL;
	copy = MemoryContextAlloc(cxt, VARSIZE(j));
	memcpy(copy, j, VARSIZE(j));
	return copy;
}

static QueueInfo *
queue_copy(QueueInfo *src)
{
	QueueInfo  *q = palloc(sizeof(QueueInfo));

	memcpy(q, src, sizeof(QueueInfo));
	q->dead_letter_queue = src->dead_letter_queue ? pstrdup(src->dead_letter_queue) : NULL;
	q->redrive_allow_policy = copy_jsonb(src->redrive_allow_policy, CurrentMemoryContext);
	q->opaque_attributes = copy_jsonb(src->opaque_attributes, CurrentMemoryContext);
	q->tags = copy_jsonb(src->tags, CurrentMemoryContext);
	if (src->ngrants > 0)
	{
		q->grants = palloc(sizeof(QueueGrant) * src->ngrants);
		memcpy(q->grants, src->grants, sizeof(QueueGrant) * src->ngrants);
	}
	return q;
}

static Jsonb *
get_jsonb(HeapTuple tup, TupleDesc desc, const char *column, MemoryContext cxt)
{
	bool		isnull;
	Datum		d = outbox_spi_column(tup, desc, column, &isnull);

	return isnull ? NULL : copy_jsonb(DatumGetJsonbP(d), cxt);
}

/*
 * Load one queue from the tables into the cache; NULL if there is none.
 */
static QueueInfo *
queue_load(const char *name)
{
	static SPIPlanPtr queue_plan = NULL;
	static SPIPlanPtr grant_plan = NULL;
	Datum		arg;
	HeapTuple	tup;
	TupleDesc	desc;
	QueueInfo  *q;
	bool		found;
	bool		isnull;
	Datum		d;
	uint64		i;

	if (queue_plan == NULL)
	{
		Oid			argtypes[1] = {TEXTOID};

		queue_plan = outbox_prepare_plan("SELECT * FROM outbox.queue WHERE queue_name = $1", 1, argtypes);
	}
	if (grant_plan == NULL)
	{
		Oid			argtypes[1] = {INT4OID};

		grant_plan = outbox_prepare_plan("SELECT grantee::text, privileges FROM outbox.queue_grant "
										"WHERE queue_id = $1 ORDER BY grantee", 1, argtypes);
	}

	arg = CStringGetTextDatum(name);
	queue_spi_exec(queue_plan, &arg, NULL, false, 1, SPI_OK_SELECT);
	if (SPI_processed == 0)
		return NULL;

	tup = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;

	q = hash_search(queue_cache, name, HASH_ENTER, &found);
	/* the key is already set; fill in the rest */
	q->shared_known = false;
	q->queue_id = outbox_spi_int(tup, desc, "queue_id");
	q->is_fifo = outbox_spi_bool(tup, desc, "is_fifo");
	q->is_unlogged = outbox_spi_bool(tup, desc, "is_unlogged");
	d = outbox_spi_column(tup, desc, "owner", &isnull);
	strlcpy(q->owner, NameStr(*DatumGetName(d)), NAMEDATALEN);
	q->visibility_timeout = outbox_spi_int(tup, desc, "visibility_timeout");
	q->delay_seconds = outbox_spi_int(tup, desc, "delay_seconds");
	q->retention_seconds = outbox_spi_int(tup, desc, "retention_seconds");
	q->maximum_message_size = outbox_spi_int(tup, desc, "maximum_message_size");
	q->receive_wait_seconds = outbox_spi_int(tup, desc, "receive_wait_seconds");
	d = outbox_spi_column(tup, desc, "dead_letter_queue", &isnull);
	q->dead_letter_queue = isnull ? NULL : MemoryContextStrdup(queue_cache_cxt, TextDatumGetCString(d));
	q->max_receive_count = outbox_spi_int(tup, desc, "max_receive_count");
	q->redrive_allow_policy = get_jsonb(tup, desc, "redrive_allow_policy", queue_cache_cxt);
	q->content_based_dedup = outbox_spi_bool(tup, desc, "content_based_dedup");
	q->dedup_scope_group = outbox_spi_bool(tup, desc, "dedup_scope_group");
	q->throughput_per_group = outbox_spi_bool(tup, desc, "throughput_per_group");
	q->opaque_attributes = get_jsonb(tup, desc, "opaque_attributes", queue_cache_cxt);
	q->tags = get_jsonb(tup, desc, "tags", queue_cache_cxt);
	q->created_at = outbox_spi_timestamp(tup, desc, "created_at");
	q->modified_at = outbox_spi_timestamp(tup, desc, "modified_at");
	q->purged_at = outbox_spi_timestamp(tup, desc, "purged_at");
	q->rights_role = InvalidOid;
	q->rights = 0;
	q->ngrants = 0;
	q->grants = NULL;
	q->shared = queue_shared_get(q);
	q->shared_known = true;

	arg = Int32GetDatum(q->queue_id);
	queue_spi_exec(grant_plan, &arg, NULL, false, 0, SPI_OK_SELECT);
	if (SPI_processed > 0)
	{
		q->grants = MemoryContextAllocZero(queue_cache_cxt, sizeof(QueueGrant) * SPI_processed);
		for (i = 0; i < SPI_processed; i++)
		{
			char	   *grantee = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);

			strlcpy(q->grants[i].grantee, grantee, NAMEDATALEN);
			q->grants[i].privileges = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[i],
																  SPI_tuptable->tupdesc, 2, &isnull));
		}
		q->ngrants = (int) SPI_processed;
	}
	return q;
}

static QueueInfo *
queue_cache_entry(const char *name)
{
	QueueInfo  *q;

	if (queue_cache == NULL || queue_cache_stale)
		queue_cache_create();
	q = hash_search(queue_cache, name, HASH_FIND, NULL);
	if (q == NULL)
	{
		PG_TRY();
		{
			q = queue_load(name);
		}
		PG_CATCH();
		{
			/* a half-filled entry must not survive */
			queue_cache_stale = true;
			PG_RE_THROW();
		}
		PG_END_TRY();
	}
	return q;
}

/*
 * Find a queue by name.  Returns a copy the caller may keep for the rest of
 * the call.  A name that is not a valid queue name can name no queue, so it
 * gets the bad-name error rather than "does not exist".
 */
QueueInfo *
queue_lookup(const char *name, bool missing_ok)
{
	QueueInfo  *q;

	queue_check_name(name);
	q = queue_cache_entry(name);
	if (q == NULL)
	{
		if (missing_ok)
			return NULL;
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("queue \"%s\" does not exist", name)));
	}
	return queue_copy(q);
}

/*
 * Remember the rights a role has on a cached queue (queue_acl.c computes
 * them); the next call by the same role skips the computation.
 */
void
queue_cache_remember_rights(const char *name, Oid role, int rights)
{
	QueueInfo  *q;

	if (queue_cache == NULL || queue_cache_stale)
		return;
	q = hash_search(queue_cache, name, HASH_FIND, NULL);
	if (q)
	{
		q->rights_role = role;
		q->rights = rights;
	}
}

/*
 * ARNs: arn:aws:sqs:<region>:<account>:<name>.  Anywhere a queue is named by
 * ARN (RedrivePolicy, move tasks) a bare name is accepted too; an ARN of
 * another region or account still names our queue of that name, so AWS
 * configurations port unchanged.
 */
char *
queue_arn(const char *name)
{
	return psprintf("arn:aws:sqs:%s:%s:%s", outbox_region, outbox_account_id, name);
}

const char *
queue_name_from_arn(const char *name_or_arn)
{
	const char *colon;

	if (strncmp(name_or_arn, "arn:", 4) != 0)
		return name_or_arn;
	colon = strrchr(name_or_arn, ':');
	return colon + 1;
}

/*
 * The queue name in a queue ARN or bare name given for "field"; an ARN of
 * another service (or malformed) is an error naming the field.
 */
const char *
queue_name_from_arn_checked(const char *name_or_arn, const char *field)
{
	int			colons = 0;
	const char *p;

	if (strncmp(name_or_arn, "arn:", 4) != 0)
		return name_or_arn;
	for (p = name_or_arn; *p; p++)
		if (*p == ':')
			colons++;
	if (colons != 5 || strncmp(strchr(name_or_arn + 4, ':') + 1, "sqs:", 4) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid queue ARN in \"%s\": \"%s\"", field, name_or_arn),
				 errdetail("A queue ARN has the form arn:aws:sqs:<region>:<account>:<queue name>.")));
	return queue_name_from_arn(name_or_arn);
}

QueueInfo *
queue_lookup_by_arn(const char *name_or_arn, const char *field, bool missing_ok)
{
	return queue_lookup(queue_name_from_arn_checked(name_or_arn, field), missing_ok);
}

/*
 * The installation row (secret for receipt handles and message ids) is made
 * on first use, not by the install script, so that pg_restore can load the
 * dumped one into a freshly created extension.
 */
void
queue_ensure_installation(void)
{
	int			rc;

	rc = SPI_execute("INSERT INTO outbox.installation DEFAULT VALUES ON CONFLICT DO NOTHING", false, 0);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(rc));
}

const unsigned char *
queue_installation_secret(void)
{
	if (!installation_secret_valid)
	{
		int			rc;
		bool		isnull;
		bytea	   *secret;

		if (queue_cache == NULL || queue_cache_stale)
			queue_cache_create();
		rc = SPI_execute("SELECT secret FROM outbox.installation", true, 1);
		if (rc != SPI_OK_SELECT)
			elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(rc));
		if (SPI_processed == 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("pg_outbox installation row is missing"),
					 errhint("Create a queue first; it initialises the installation.")));
		secret = DatumGetByteaPP(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		memset(installation_secret, 0, sizeof(installation_secret));
		memcpy(installation_secret, VARDATA_ANY(secret),
			   Min(VARSIZE_ANY_EXHDR(secret), sizeof(installation_secret)));
		installation_secret_valid = true;
	}
	return installation_secret;
}

/*
 * Validate that "dlq_name" may be the dead-letter queue of "source": it
 * exists, has the same type, and its RedriveAllowPolicy lets source in.
 */
void
queue_check_dead_letter_target(QueueInfo *source, const char *dlq_name)
{
	QueueInfo  *dlq = queue_lookup(dlq_name, true);
	JsonbValue *perm;

	if (dlq == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid attribute \"RedrivePolicy\": dead-letter queue \"%s\" does not exist", dlq_name)));
	if (dlq->is_fifo != source->is_fifo)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid attribute \"RedrivePolicy\": dead-letter queue \"%s\" is %s but queue \"%s\" is %s",
						dlq_name, dlq->is_fifo ? "FIFO" : "standard",
						source->name, source->is_fifo ? "FIFO" : "standard"),
				 errdetail("A dead-letter queue must have the same type as its source queue.")));
	if (strcmp(dlq->name, source->name) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid attribute \"RedrivePolicy\": a queue cannot be its own dead-letter queue")));
	if (dlq->redrive_allow_policy == NULL)
		return;

	perm = outbox_jsonb_get(&dlq->redrive_allow_policy->root, "redrivePermission");
	if (perm && perm->type == jbvString)
	{
		if (perm->val.string.len == 7 && strncmp(perm->val.string.val, "denyAll", 7) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid attribute \"RedrivePolicy\": the RedriveAllowPolicy of queue \"%s\" denies all source queues", dlq_name)));
		if (perm->val.string.len == 7 && strncmp(perm->val.string.val, "byQueue", 7) == 0)
		{
			JsonbValue *arns;
			JsonbIterator *it;
			JsonbValue	v;
			JsonbIteratorToken tok;
			bool		allowed = false;

			arns = outbox_jsonb_get(&dlq->redrive_allow_policy->root, "sourceQueueArns");
			if (arns && arns->type == jbvBinary)
			{
				it = JsonbIteratorInit(arns->val.binary.data);
				while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
				{
					if (tok == WJB_ELEM && v.type == jbvString)
					{
						char	   *arn = pnstrdup(v.val.string.val, v.val.string.len);

						if (strcmp(queue_name_from_arn(arn), source->name) == 0)
							allowed = true;
					}
				}
			}
			if (!allowed)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid attribute \"RedrivePolicy\": the RedriveAllowPolicy of queue \"%s\" does not allow queue \"%s\"",
								dlq_name, source->name)));
		}
	}
}

static void
bind_attrs(QueueAttrs *a, Datum *values, char *nulls, int first)
{
	values[first + 0] = Int32GetDatum(a->visibility_timeout);
	values[first + 1] = Int32GetDatum(a->delay_seconds);
	values[first + 2] = Int32GetDatum(a->retention_seconds);
	values[first + 3] = Int32GetDatum(a->maximum_message_size);
	values[first + 4] = Int32GetDatum(a->receive_wait_seconds);
	values[first + 5] = a->dead_letter_queue ? CStringGetTextDatum(a->dead_letter_queue) : (Datum) 0;
	nulls[first + 5] = a->dead_letter_queue ? ' ' : 'n';
	values[first + 6] = Int32GetDatum(a->max_receive_count);
	nulls[first + 6] = a->dead_letter_queue ? ' ' : 'n';
	values[first + 7] = a->redrive_allow_policy ? JsonbPGetDatum(a->redrive_allow_policy) : (Datum) 0;
	nulls[first + 7] = a->redrive_allow_policy ? ' ' : 'n';
	values[first + 8] = BoolGetDatum(a->content_based_dedup);
	values[first + 9] = BoolGetDatum(a->dedup_scope_group);
	values[first + 10] = BoolGetDatum(a->throughput_per_group);
	values[first + 11] = JsonbPGetDatum(a->opaque_attributes);
}

/* Fill in the attributes not given with the queue's current values. */
static void
attrs_merge_current(QueueAttrs *a, QueueInfo *q)
{
	if (!(a->given & QATTR_VISIBILITY))
		a->visibility_timeout = q->visibility_timeout;
	if (!(a->given & QATTR_DELAY))
		a->delay_seconds = q->delay_seconds;
	if (!(a->given & QATTR_RETENTION))
		a->retention_seconds = q->retention_seconds;
	if (!(a->given & QATTR_MAX_SIZE))
		a->maximum_message_size = q->maximum_message_size;
	if (!(a->given & QATTR_WAIT))
		a->receive_wait_seconds = q->receive_wait_seconds;
	if (!(a->given & QATTR_REDRIVE))
	{
		a->dead_letter_queue = q->dead_letter_queue;
		a->max_receive_count = q->max_receive_count;
	}
	if (!(a->given & QATTR_REDRIVE_ALLOW))
		a->redrive_allow_policy = q->redrive_allow_policy;
	if (!(a->given & QATTR_CONTENT_DEDUP))
		a->content_based_dedup = q->content_based_dedup;
	if (!(a->given & QATTR_DEDUP_SCOPE))
		a->dedup_scope_group = q->dedup_scope_group;
	if (!(a->given & QATTR_THROUGHPUT))
		a->throughput_per_group = q->throughput_per_group;
	if (!(a->given & QATTR_OPAQUE))
		a->opaque_attributes = q->opaque_attributes;
	else if (q->opaque_attributes)
	{
		/* opaque attributes merge key by key */
		a->opaque_attributes = DatumGetJsonbP(DirectFunctionCall2(jsonb_concat,
																  JsonbPGetDatum(q->opaque_attributes),
																  JsonbPGetDatum(a->opaque_attributes)));
	}
}

Datum
queue_create(const char *name, Jsonb *attributes, bool unlogged, bool unlogged_given, Jsonb *tags)
{
	static SPIPlanPtr plan = NULL;
	QueueAttrs	a;
	QueueInfo  *existing;
	QueueInfo	probe;
	Datum		values[17];
	char		nulls[17];
	TimestampTz now = outbox_now();
	bool		fifo;
	size_t		len;

	queue_check_name(name);
	queue_parse_attributes(attributes, &a, true);

	len = strlen(name);
	fifo = (a.given & QATTR_FIFO) ? a.fifo : false;
	if (len > 5 && strcmp(name + len - 5, ".fifo") == 0 && !fifo)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid queue name \"%s\": the suffix \".fifo\" is only allowed for FIFO queues", name),
				 errhint("Pass the attribute \"FifoQueue\": \"true\" to create a FIFO queue.")));
	if (fifo && (len <= 5 || strcmp(name + len - 5, ".fifo") != 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid queue name \"%s\": the name of a FIFO queue must end with \".fifo\"", name)));
	queue_check_attribute_combination(name, fifo, &a);

	existing = queue_lookup(name, true);
	if (existing)
	{
		/* like the attributes, "unlogged" is compared only when it is given */
		if ((unlogged_given && existing->is_unlogged != unlogged) || !queue_attributes_match(existing, &a))
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_OBJECT),
					 errmsg("queue \"%s\" already exists with different attributes", name),
					 errdetail("create_queue returns an existing queue only when every attribute given matches it.")));
		return CStringGetTextDatum(queue_arn(name));
	}

	/*
	 * A new queue gets the default of every attribute not given, and the
	 * default DeduplicationScope ("queue") does not allow perMessageGroupId.
	 */
	if (fifo && a.throughput_per_group && !a.dedup_scope_group)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid attribute \"FifoThroughputLimit\": \"perMessageGroupId\" requires \"DeduplicationScope\" \"messageGroup\"")));

	if (a.maximum_message_size > outbox_max_message_size_limit)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid attribute \"MaximumMessageSize\": %d is above the server limit of %d bytes",
						a.maximum_message_size, outbox_max_message_size_limit),
				 errhint("Raise \"pg_outbox.max_message_size\" to allow larger messages.")));

	/* A dead-letter target is checked like set_queue_attributes does. */
	memset(&probe, 0, sizeof(probe));
	strlcpy(probe.name, name, sizeof(probe.name));
	probe.is_fifo = fifo;
	if (a.dead_letter_queue)
		queue_check_dead_letter_target(&probe, a.dead_letter_queue);

	queue_ensure_installation();

	if (plan == NULL)
	{
		Oid			argtypes[17] = {TEXTOID, BOOLOID, BOOLOID, NAMEOID,
			INT4OID, INT4OID, INT4OID, INT4OID, INT4OID, TEXTOID, INT4OID, JSONBOID,
		BOOLOID, BOOLOID, BOOLOID, JSONBOID, TIMESTAMPTZOID};

		plan = outbox_prepare_plan("INSERT INTO outbox.queue (queue_name, is_fifo, is_unlogged, owner, "
								  "visibility_timeout, delay_seconds, retention_seconds, maximum_message_size, "
								  "receive_wait_seconds, dead_letter_queue, max_receive_count, redrive_allow_policy, "
								  "content_based_dedup, dedup_scope_group, throughput_per_group, opaque_attributes, "
								  "created_at, modified_at, tags) "
								  "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17, '{}')",
								  17, argtypes);
	}

	memset(nulls, ' ', sizeof(nulls));
	values[0] = CStringGetTextDatum(name);
	values[1] = BoolGetDatum(fifo);
	values[2] = BoolGetDatum(unlogged);
	values[3] = DirectFunctionCall1(namein, CStringGetDatum(GetUserNameFromId(outbox_current_caller, false)));
	bind_attrs(&a, values, nulls, 4);
	values[16] = TimestampTzGetDatum(now);
	queue_spi_exec(plan, values, nulls, false, 0, SPI_OK_INSERT);

	if (tags && !JB_ROOT_IS_SCALAR(tags) && JB_ROOT_COUNT(tags) > 0)
	{
		Oid			argtypes[2] = {TEXTOID, JSONBOID};
		Datum		targs[2];
		int			rc;

		if (!JB_ROOT_IS_OBJECT(tags))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid \"tags\": expected a JSON object of tag names and values")));
		targs[0] = CStringGetTextDatum(name);
		targs[1] = JsonbPGetDatum(tags);
		rc = SPI_execute_with_args("UPDATE outbox.queue SET tags = $2 WHERE queue_name = $1",
								   2, argtypes, targs, NULL, false, 0);
		if (rc != SPI_OK_UPDATE)
			elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
	}

	CommandCounterIncrement();
	return CStringGetTextDatum(queue_arn(name));
}

void
queue_set_attributes(QueueInfo *q, Jsonb *attributes)
{
	static SPIPlanPtr plan = NULL;
	QueueAttrs	a;
	Datum		values[14];
	char		nulls[14];

	queue_parse_attributes(attributes, &a, false);
	queue_check_attribute_combination(q->name, q->is_fifo, &a);
	if ((a.given & QATTR_MAX_SIZE) && a.maximum_message_size > outbox_max_message_size_limit)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid attribute \"MaximumMessageSize\": %d is above the server limit of %d bytes",
						a.maximum_message_size, outbox_max_message_size_limit),
				 errhint("Raise \"pg_outbox.max_message_size\" to allow larger messages.")));
	if ((a.given & QATTR_REDRIVE) && a.dead_letter_queue)
		queue_check_dead_letter_target(q, a.dead_letter_queue);
	/* what the old period expired stays expired (queue_expire_before) */
	if ((a.given & QATTR_RETENTION) && a.retention_seconds > q->retention_seconds)
		queue_expire_before(q, outbox_now() - (int64) q->retention_seconds * USECS_PER_SEC);
	attrs_merge_current(&a, q);
	if (q->is_fifo && a.throughput_per_group && !a.dedup_scope_group)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid attribute \"FifoThroughputLimit\": \"perMessageGroupId\" requires \"DeduplicationScope\" \"messageGroup\"")));

	if (plan == NULL)
	{
		Oid			argtypes[14] = {INT4OID, INT4OID, INT4OID, INT4OID, INT4OID,
			INT4OID, TEXTOID, INT4OID, JSONBOID, BOOLOID, BOOLOID, BOOLOID, JSONBOID,
		TIMESTAMPTZOID};

		plan = outbox_prepare_plan("UPDATE outbox.queue SET visibility_timeout = $2, delay_seconds = $3, "
								  "retention_seconds = $4, maximum_message_size = $5, receive_wait_seconds = $6, "
								  "dead_letter_queue = $7, max_receive_count = $8, redrive_allow_policy = $9, "
								  "content_based_dedup = $10, dedup_scope_group = $11, throughput_per_group = $12, "
								  "opaque_attributes = $13, modified_at = $14 WHERE queue_id = $1",
								  14, argtypes);
	}
	memset(nulls, ' ', sizeof(nulls));
	values[0] = Int32GetDatum(q->queue_id);
	bind_attrs(&a, values, nulls, 1);
	values[13] = TimestampTzGetDatum(outbox_now());
	queue_spi_exec(plan, values, nulls, false, 0, SPI_OK_UPDATE);

	/*
	 * On a FIFO queue a new DelaySeconds applies to the messages already
	 * waiting (SQS: retroactive); on a standard queue it does not.
	 */
	if (q->is_fifo && (a.given & QATTR_DELAY) && a.delay_seconds != q->delay_seconds)
	{
		Oid			argtypes[2] = {INT4OID, INT4OID};
		Datum		args[2];
		char	   *sql;
		int			rc;

		sql = psprintf("UPDATE %s SET visible_at = enqueued_at + make_interval(secs => $2) "
					   "WHERE queue_id = $1 AND receive_count = 0", QUEUE_TABLE(q->is_unlogged));
		args[0] = Int32GetDatum(q->queue_id);
		args[1] = Int32GetDatum(a.delay_seconds);
		rc = SPI_execute_with_args(sql, 2, argtypes, args, NULL, false, 0);
		if (rc != SPI_OK_UPDATE)
			elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
	}
	CommandCounterIncrement();
}

void
queue_drop(QueueInfo *q)
{
	Oid			argtypes[1] = {INT4OID};
	Datum		args[1];
	int			rc;
	char	   *sql;

	args[0] = Int32GetDatum(q->queue_id);
	sql = psprintf("DELETE FROM %s WHERE queue_id = $1", QUEUE_TABLE(q->is_unlogged));
	rc = SPI_execute_with_args(sql, 1, argtypes, args, NULL, false, 0);
	if (rc != SPI_OK_DELETE)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
	rc = SPI_execute_with_args("DELETE FROM outbox.fifo_dedup WHERE queue_id = $1", 1, argtypes, args, NULL, false, 0);
	if (rc != SPI_OK_DELETE)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
	rc = SPI_execute_with_args("DELETE FROM outbox.fifo_group WHERE queue_id = $1", 1, argtypes, args, NULL, false, 0);
	if (rc != SPI_OK_DELETE)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
	rc = SPI_execute_with_args("DELETE FROM outbox.receive_attempt WHERE queue_id = $1", 1, argtypes, args, NULL, false, 0);
	if (rc != SPI_OK_DELETE)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
	rc = SPI_execute_with_args("DELETE FROM outbox.queue WHERE queue_id = $1", 1, argtypes, args, NULL, false, 0);
	if (rc != SPI_OK_DELETE)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
	CommandCounterIncrement();
}

Jsonb *
queue_get_attributes(QueueInfo *q, ArrayType *names)
{
	int64		counters[3];

	queue_stats_read(q, counters);
	return queue_format_attributes(q, counters, names);
}
