/*-------------------------------------------------------------------------
 *
 * topic_catalog.c
 *	  The topic cache, and creating, changing and dropping topics.
 *
 * A topic is loaded on first use with its grants and subscriptions, and
 * its subscriptions' filter policies are compiled into two pattern sets,
 * one per FilterPolicyScope (the pattern room's automaton: matching costs
 * about the same with 2 or 200 policies).  Any change to outbox.topic,
 * outbox.topic_grant or outbox.subscription invalidates every backend's
 * cache through the relcache (core/cache.c).  The reset only marks the
 * cache stale; the memory is freed at the next lookup, so a TopicInfo a
 * call is using stays valid until that call looks a topic up again -- one
 * lookup per call is the rule.
 *
 * Freshness: every lookup first takes in pending invalidations, so a publish
 * sees the subscriptions committed before its statement began, even inside
 * a transaction that started earlier (READ COMMITTED).  A cache filled under
 * a transaction snapshot is dropped when that transaction ends.
 * The loads run read-write SPI queries, which take a fresh snapshot with the
 * current command id: what an earlier call of the same statement created
 * (create_topic(...), subscribe(...) in one SELECT) is seen.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/topic/topic_catalog.c
 *
 *-------------------------------------------------------------------------
 */
#include "pg_outbox.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "core/cache.h"
#include "core/clock.h"
#include "core/security.h"
#include "core/spi_plan.h"
#include "topic/topic.h"

static HTAB *topic_cache = NULL;
static MemoryContext topic_cache_cxt = NULL;
static bool topic_cache_stale = false;

/* Set when the cache was filled under a transaction snapshot (see below). */
static bool topic_cache_xact_only = false;

static void
topic_cache_reset(void)
{
	topic_cache_stale = true;
}

static void
topic_xact_callback(XactEvent event, void *arg)
{
	if ((event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		 event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT) &&
		topic_cache_xact_only)
	{
		topic_cache_stale = true;
		topic_cache_xact_only = false;
	}
}

void
topic_catalog_init(void)
{
	outbox_cache_register_reset(topic_cache_reset);
	RegisterXactCallback(topic_xact_callback, NULL);
}

static void
topic_cache_create(void)
{
	HASHCTL		ctl;
	Oid			nsp = get_namespace_oid(OUTBOX_SCHEMA, false);

	if (topic_cache_cxt == NULL)
		topic_cache_cxt = AllocSetContextCreate(CacheMemoryContext,
												"pg_outbox topic cache",
												ALLOCSET_DEFAULT_SIZES);
	else
		MemoryContextReset(topic_cache_cxt);
	topic_cache_stale = false;
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = TOPIC_NAME_MAX + 1;
	ctl.entrysize = sizeof(TopicInfo);
	ctl.hcxt = topic_cache_cxt;
	topic_cache = hash_create("pg_outbox topics", 64, &ctl,
							  HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	outbox_cache_watch_relation(get_relname_relid("topic", nsp));
	outbox_cache_watch_relation(get_relname_relid("topic_grant", nsp));
	outbox_cache_watch_relation(get_relname_relid("subscription", nsp));
}

char *
topic_arn(const char *name)
{
	return psprintf("arn:aws:sns:%s:%s:%s", outbox_region, outbox_account_id, name);
}

/*
 * A topic argument may be the name or the ARN.  An ARN of another region
 * or account names no topic of ours; it is returned as is and then fails
 * the name check.
 */
const char *
topic_name_from_arn(const char *name_or_arn)
{
	const char *prefix;

	if (strncmp(name_or_arn, "arn:", 4) != 0)
		return name_or_arn;
	prefix = psprintf("arn:aws:sns:%s:%s:", outbox_region, outbox_account_id);
	if (strncmp(name_or_arn, prefix, strlen(prefix)) == 0)
		return name_or_arn + strlen(prefix);
	return name_or_arn;
}

static void
load_subscriptions(TopicInfo *t)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtype = INT4OID;
	Datum		arg = Int32GetDatum(t->topic_id);
	int			n;

	if (plan == NULL)
		plan = outbox_prepare_plan("SELECT * FROM outbox.subscription WHERE topic_id = $1"
								   " ORDER BY created_at, subscription_id", 1, &argtype);
	if (SPI_execute_plan(plan, &arg, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the subscriptions of topic \"%s\"", t->name);
	/* SPI returns in its own procedure context: the cache lives in ours */
	MemoryContextSwitchTo(topic_cache_cxt);
	n = (int) SPI_processed;
	t->nsubs = n;
	t->subs = n > 0 ? palloc0(sizeof(SubscriptionInfo) * n) : NULL;
	t->nfiltered = 0;
	for (int i = 0; i < n; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		SubscriptionInfo *s = &t->subs[i];
		char	   *protocol = outbox_spi_text(tup, desc, "protocol");
		bool		isnull;
		Datum		d;

		d = outbox_spi_column(tup, desc, "subscription_id", &isnull);
		memcpy(&s->id, DatumGetUUIDP(d), sizeof(pg_uuid_t));
		s->arn = psprintf("%s:%s", t->arn,
						  DatumGetCString(DirectFunctionCall1(uuid_out, d)));
		s->protocol = strcmp(protocol, "sqs") == 0 ? SUB_SQS :
			strcmp(protocol, "function") == 0 ? SUB_FUNCTION : SUB_NOTIFY;
		s->endpoint = outbox_spi_text(tup, desc, "endpoint");
		d = outbox_spi_column(tup, desc, "function", &isnull);
		s->function = isnull ? InvalidOid : DatumGetObjectId(d);
		d = outbox_spi_column(tup, desc, "owner", &isnull);
		strlcpy(s->owner, NameStr(*DatumGetName(d)), NAMEDATALEN);
		s->owner_oid = get_role_oid(s->owner, true);
		s->filter_policy = outbox_spi_jsonb(tup, desc, "filter_policy");
		s->filter_on_body = outbox_spi_bool(tup, desc, "filter_on_body");
		s->raw = outbox_spi_bool(tup, desc, "raw_message_delivery");
		s->dead_letter_queue = outbox_spi_text(tup, desc, "dead_letter_queue");
		s->delivery_policy = outbox_spi_jsonb(tup, desc, "delivery_policy");
		d = outbox_spi_column(tup, desc, "created_at", &isnull);
		s->created_at = DatumGetTimestampTz(d);
		if (s->filter_policy)
		{
			PatternSet **set = s->filter_on_body ? &t->body_filters : &t->attr_filters;

			if (*set == NULL)
				*set = pattern_set_create(topic_cache_cxt, s->filter_on_body ?
										  PATTERN_SNS_BODY : PATTERN_SNS_ATTRIBUTES);
			pattern_set_add(*set, s->filter_policy, i);
			t->nfiltered++;
		}
	}
	if (t->attr_filters)
		pattern_set_freeze(t->attr_filters);
	if (t->body_filters)
		pattern_set_freeze(t->body_filters);
}

static TopicInfo *
topic_load(const char *name)
{
	static SPIPlanPtr topic_plan = NULL;
	static SPIPlanPtr grant_plan = NULL;
	Oid			argtype;
	Datum		arg;
	HeapTuple	tup;
	TupleDesc	desc;
	TopicInfo  *t;
	bool		found;
	bool		isnull;
	Datum		d;
	MemoryContext old;

	if (topic_plan == NULL)
	{
		argtype = TEXTOID;
		topic_plan = outbox_prepare_plan("SELECT * FROM outbox.topic WHERE topic_name = $1", 1, &argtype);
		argtype = INT4OID;
		grant_plan = outbox_prepare_plan("SELECT grantee::text, privileges FROM outbox.topic_grant"
										 " WHERE topic_id = $1 ORDER BY grantee", 1, &argtype);
	}
	arg = CStringGetTextDatum(name);
	if (SPI_execute_plan(topic_plan, &arg, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read topic \"%s\"", name);
	if (SPI_processed == 0)
		return NULL;

	old = MemoryContextSwitchTo(topic_cache_cxt);
	tup = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	t = hash_search(topic_cache, name, HASH_ENTER, &found);
	d = outbox_spi_column(tup, desc, "topic_id", &isnull);
	t->topic_id = DatumGetInt32(d);
	t->is_fifo = outbox_spi_bool(tup, desc, "is_fifo");
	d = outbox_spi_column(tup, desc, "owner", &isnull);
	strlcpy(t->owner, NameStr(*DatumGetName(d)), NAMEDATALEN);
	t->arn = topic_arn(name);
	t->display_name = outbox_spi_text(tup, desc, "display_name");
	t->content_based_dedup = outbox_spi_bool(tup, desc, "content_based_dedup");
	t->delivery_policy = outbox_spi_jsonb(tup, desc, "delivery_policy");
	t->opaque_attributes = outbox_spi_jsonb(tup, desc, "opaque_attributes");
	t->tags = outbox_spi_jsonb(tup, desc, "tags");
	d = outbox_spi_column(tup, desc, "created_at", &isnull);
	t->created_at = DatumGetTimestampTz(d);
	t->rights_role = InvalidOid;
	t->attr_filters = NULL;
	t->body_filters = NULL;

	arg = Int32GetDatum(t->topic_id);
	if (SPI_execute_plan(grant_plan, &arg, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the grants of topic \"%s\"", name);
	MemoryContextSwitchTo(topic_cache_cxt);
	t->ngrants = (int) SPI_processed;
	t->grants = t->ngrants > 0 ? palloc0(sizeof(OutboxGrant) * t->ngrants) : NULL;
	for (int i = 0; i < t->ngrants; i++)
	{
		strlcpy(t->grants[i].grantee, SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1),
				NAMEDATALEN);
		t->grants[i].privileges = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[i],
															  SPI_tuptable->tupdesc, 2, &isnull));
	}
	load_subscriptions(t);
	MemoryContextSwitchTo(old);
	return t;
}

/*
 * Find a topic by name or ARN.  SPI must be connected (as the extension
 * owner).  The result is valid until the next lookup.
 */
TopicInfo *
topic_lookup(const char *name_or_arn, bool missing_ok)
{
	const char *name = topic_name_from_arn(name_or_arn);
	TopicInfo  *t;

	topic_check_name(name);

	/*
	 * Take in the invalidations of changes committed since this statement
	 * began: a transaction that already holds its locks would otherwise not
	 * see them until it ends.
	 */
	AcceptInvalidationMessages();
	if (topic_cache == NULL || topic_cache_stale)
		topic_cache_create();
	t = hash_search(topic_cache, name, HASH_FIND, NULL);
	if (t == NULL)
	{
		/*
		 * Under REPEATABLE READ or SERIALIZABLE the load sees the
		 * transaction's snapshot, which may predate changes whose
		 * invalidations this backend has already consumed: such a cache
		 * serves this transaction only.
		 */
		if (IsolationUsesXactSnapshot())
			topic_cache_xact_only = true;
		PG_TRY();
		{
			t = topic_load(name);
		}
		PG_CATCH();
		{
			/* a half-filled entry must not survive */
			topic_cache_stale = true;
			PG_RE_THROW();
		}
		PG_END_TRY();
	}
	if (t == NULL && !missing_ok)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("topic \"%s\" does not exist", name)));
	return t;
}

void
topic_remember_rights(TopicInfo *t, Oid role, int rights)
{
	t->rights_role = role;
	t->rights = rights;
}

/*
 * Find a subscription by ARN (arn:aws:sns:region:account:topic:uuid) or by
 * its uuid alone; *topic gets its topic.
 */
SubscriptionInfo *
topic_find_subscription(const char *arn_or_id, TopicInfo **topic, bool missing_ok)
{
	const char *id = strrchr(arn_or_id, ':');
	pg_uuid_t  *uuid = NULL;
	char	   *topic_name = NULL;
	TopicInfo  *t;

	id = id ? id + 1 : arn_or_id;
	if (strlen(id) == 36)
	{
		static SPIPlanPtr plan = NULL;
		Oid			argtype = UUIDOID;
		Datum		arg;

		uuid = DatumGetUUIDP(DirectFunctionCall1(uuid_in, CStringGetDatum(id)));
		if (plan == NULL)
			plan = outbox_prepare_plan("SELECT t.topic_name FROM outbox.subscription s"
									   " JOIN outbox.topic t USING (topic_id)"
									   " WHERE s.subscription_id = $1", 1, &argtype);
		arg = UUIDPGetDatum(uuid);
		if (SPI_execute_plan(plan, &arg, NULL, false, 1) != SPI_OK_SELECT)
			elog(ERROR, "could not read subscription \"%s\"", arn_or_id);
		if (SPI_processed == 1)
			topic_name = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	}
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid \"subscription_arn\": \"%s\" is not a subscription ARN", arn_or_id),
				 errhint("A subscription ARN is the topic ARN, a colon and the subscription id (a UUID).")));

	if (topic_name != NULL && (t = topic_lookup(topic_name, true)) != NULL)
	{
		for (int i = 0; i < t->nsubs; i++)
		{
			if (memcmp(&t->subs[i].id, uuid, sizeof(pg_uuid_t)) == 0)
			{
				*topic = t;
				return &t->subs[i];
			}
		}
	}
	if (!missing_ok)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("subscription \"%s\" does not exist", arn_or_id)));
	*topic = NULL;
	return NULL;
}

/* ---- creating, changing and dropping topics ---- */

static Datum
jsonb_or_empty(Jsonb *j)
{
	return j ? JsonbPGetDatum(j) : DirectFunctionCall1(jsonb_in, CStringGetDatum("{}"));
}

/*
 * CreateTopic.  Creating an existing topic is idempotent when the given
 * attributes agree with it; otherwise an error.  The caller becomes the
 * owner.
 */
void
topic_create(const char *name_or_arn, Jsonb *attributes, Jsonb *tags, char **arn)
{
	const char *name = topic_name_from_arn(name_or_arn);
	size_t		len;
	bool		fifo_name;
	TopicAttrs	a;
	TopicInfo  *existing;
	Oid			types[8] = {TEXTOID, BOOLOID, NAMEOID, TEXTOID, BOOLOID, JSONBOID, JSONBOID, JSONBOID};
	Datum		vals[8];
	char		nulls[8] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};
	int			rc;

	topic_check_name(name);
	len = strlen(name);
	fifo_name = len > 5 && strcmp(name + len - 5, ".fifo") == 0;
	topic_parse_attributes(attributes, &a, true);
	if ((a.given & TATTR_FIFO) && a.fifo != fifo_name)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid attribute \"FifoTopic\": topic \"%s\" %s", name,
						fifo_name ? "has a FIFO name but FifoTopic is false"
						: "is not a FIFO topic name"),
				 errhint("A FIFO topic's name ends with \".fifo\".")));
	a.fifo = fifo_name;
	if (!a.fifo && (a.given & TATTR_CONTENT_DEDUP))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid attribute \"ContentBasedDeduplication\": topic \"%s\" is not a FIFO topic", name)));
	if (tags && (!JB_ROOT_IS_OBJECT(tags) || JB_ROOT_IS_SCALAR(tags)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid \"tags\": expected a JSON object of tag names and values")));

	existing = topic_lookup(name, true);
	if (existing)
	{
		if (!topic_attributes_match(existing, &a))
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_OBJECT),
					 errmsg("topic \"%s\" already exists with different attributes", name),
					 errhint("Use outbox.set_topic_attributes to change an existing topic.")));
		*arn = pstrdup(existing->arn);
		return;
	}

	vals[0] = CStringGetTextDatum(name);
	vals[1] = BoolGetDatum(a.fifo);
	vals[2] = DirectFunctionCall1(namein, CStringGetDatum(GetUserNameFromId(outbox_current_caller, false)));
	vals[3] = CStringGetTextDatum(a.display_name ? a.display_name : "");
	vals[4] = BoolGetDatum(a.content_based_dedup);
	vals[5] = a.delivery_policy ? JsonbPGetDatum(a.delivery_policy) : (Datum) 0;
	nulls[5] = a.delivery_policy ? ' ' : 'n';
	vals[6] = jsonb_or_empty(a.opaque);
	vals[7] = jsonb_or_empty(tags);
	rc = SPI_execute_with_args("INSERT INTO outbox.topic (topic_name, is_fifo, owner, display_name,"
							   " content_based_dedup, delivery_policy, opaque_attributes, tags, created_at)"
							   " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, outbox.clock_now())"
							   " ON CONFLICT (topic_name) DO NOTHING",
							   8, types, vals, nulls, false, 0);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "could not create topic \"%s\"", name);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNIQUE_VIOLATION),
				 errmsg("topic \"%s\" was created concurrently", name),
				 errhint("Call create_topic again: it returns the existing topic.")));
	CommandCounterIncrement();
	*arn = topic_arn(name);
}

void
topic_drop(TopicInfo *t)
{
	Oid			argtype = INT4OID;
	Datum		arg = Int32GetDatum(t->topic_id);

	if (SPI_execute_with_args("DELETE FROM outbox.topic WHERE topic_id = $1",
							  1, &argtype, &arg, NULL, false, 0) != SPI_OK_DELETE ||
		SPI_execute_with_args("DELETE FROM outbox.topic_dedup WHERE topic_id = $1",
							  1, &argtype, &arg, NULL, false, 0) != SPI_OK_DELETE ||
		SPI_execute_with_args("DELETE FROM outbox.topic_fifo_group WHERE topic_id = $1",
							  1, &argtype, &arg, NULL, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "could not delete topic \"%s\"", t->name);
	CommandCounterIncrement();
}

void
topic_set_attributes(TopicInfo *t, Jsonb *attributes)
{
	TopicAttrs	a;
	Oid			types[6] = {INT4OID, TEXTOID, BOOLOID, JSONBOID, BOOLOID, JSONBOID};
	Datum		vals[6];
	char		nulls[6] = {' ', ' ', ' ', ' ', ' ', ' '};

	topic_parse_attributes(attributes, &a, false);
	if (!t->is_fifo && (a.given & TATTR_CONTENT_DEDUP))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid attribute \"ContentBasedDeduplication\": topic \"%s\" is not a FIFO topic", t->name)));
	vals[0] = Int32GetDatum(t->topic_id);
	vals[1] = CStringGetTextDatum((a.given & TATTR_DISPLAY) ? a.display_name : t->display_name);
	vals[2] = BoolGetDatum((a.given & TATTR_CONTENT_DEDUP) ? a.content_based_dedup : t->content_based_dedup);
	vals[3] = (Datum) 0;
	nulls[3] = 'n';
	if (!(a.given & TATTR_DELIVERY))
	{
		if (t->delivery_policy)
		{
			vals[3] = JsonbPGetDatum(t->delivery_policy);
			nulls[3] = ' ';
		}
	}
	else if (a.delivery_policy)
	{
		vals[3] = JsonbPGetDatum(a.delivery_policy);
		nulls[3] = ' ';
	}
	vals[4] = BoolGetDatum((a.given & TATTR_OPAQUE) != 0);
	vals[5] = jsonb_or_empty(a.opaque);
	if (SPI_execute_with_args("UPDATE outbox.topic SET display_name = $2, content_based_dedup = $3,"
							  " delivery_policy = $4,"
							  " opaque_attributes = CASE WHEN $5 THEN opaque_attributes || $6"
							  " ELSE opaque_attributes END"
							  " WHERE topic_id = $1", 6, types, vals, nulls, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "could not change topic \"%s\"", t->name);
	CommandCounterIncrement();
}
