/*-------------------------------------------------------------------------
 *
 * topic_deliver.c
 *	  Writing deliveries into queues, dead-lettering the ones that cannot
 *	  be delivered, running function deliveries in the workers, and the
 *	  topic room's maintenance.
 *
 * Function deliveries are due items of kind "sns" (worker/due.c): the
 * publish transaction schedules one per matching subscription; a worker
 * calls the function as the subscription's owner, in a subtransaction of
 * the transaction that deletes the item, so a delivery that succeeds is
 * done exactly once.  A failure is retried on the subscription's delivery
 * policy (topic_attrs.c); after the last retry, or at once for an error
 * not worth retrying (the function is gone, the owner may not run it), the
 * event goes to the subscription's dead-letter queue with ERROR_CODE and
 * ERROR_MESSAGE attributes, or is dropped with a log line.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/topic/topic_deliver.c
 *
 *-------------------------------------------------------------------------
 */
#include "pg_outbox.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/syscache.h"

#include "core/clock.h"
#include "core/jsonb_util.h"
#include "core/security.h"
#include "queue/queue.h"
#include "topic/topic.h"
#include "worker/worker.h"

/*
 * A delivery that failed for good: to the subscription's dead-letter
 * queue, with why, or to the log.  SPI must be connected, as the
 * extension owner.
 */
void
topic_dead_letter(TopicInfo *t, SubscriptionInfo *s, pg_uuid_t *message_id, text *payload,
				  const char *code, const char *error)
{
	char	   *id = DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum(message_id)));
	JsonbParseState *st = NULL;
	Jsonb	   *attributes;
	bool		ok = false;
	char	   *dlq_error = NULL;

	if (s->dead_letter_queue)
	{
		pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
		outbox_jsonb_push_string_attribute(&st, "ERROR_CODE", code);
		outbox_jsonb_push_string_attribute(&st, "ERROR_MESSAGE", error);
		outbox_jsonb_push_string_attribute(&st, "MessageId", id);
		outbox_jsonb_push_string_attribute(&st, "TopicArn", t->arn);
		outbox_jsonb_push_string_attribute(&st, "SubscriptionArn", s->arn);
		attributes = JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL));
		/* a FIFO topic's dead letters keep one group per subscription, in order */
		queue_send_as(s->dead_letter_queue, payload, attributes, t->is_fifo ? "dead-letter" : NULL,
							psprintf("%s:%s", id, s->arn + strlen(s->arn) - 36), s->owner_oid,
							&ok, &dlq_error);
		if (ok)
			return;
	}
	ereport(LOG,
			(errmsg("pg_outbox dropped message %s for subscription %s: %s",
					id, s->arn, error),
			 dlq_error ? errdetail("The dead-letter queue did not take it either: %s", dlq_error) :
			 errhint("Give the subscription a RedrivePolicy to keep such messages.")));
}

/* ---- function deliveries (due items of kind "sns") ---- */

static void
run_delivery(OutboxDueItem *item)
{
	OutboxUserSwitch sw;
	Jsonb	   *payload = (Jsonb *) item->payload;
	JsonbValue *sub_id = payload ? outbox_jsonb_get(&payload->root, "subscription") : NULL;
	JsonbValue *ev = payload ? outbox_jsonb_get(&payload->root, "event") : NULL;
	Jsonb	   *event;
	TopicInfo  *t;
	SubscriptionInfo *s;
	SubscriptionInfo sub;
	TopicInfo	topic;
	RetryPolicy policy;
	WorkerFunctionConfig cfg;
	WorkerCallResult r;
	int			retry = item->attempts + 1;
	MemoryContext cxt = CurrentMemoryContext;

	if (sub_id == NULL || sub_id->type != jbvString || ev == NULL || ev->type != jbvBinary)
	{
		ereport(WARNING, (errmsg("pg_outbox dropped malformed topic delivery %s", item->request_id)));
		outbox_due_finish(item);
		return;
	}
	event = JsonbValueToJsonb(ev);

	outbox_become_owner(&sw);
	SPI_connect();
	s = topic_find_subscription(pnstrdup(sub_id->val.string.val, sub_id->val.string.len), &t, true);
	if (s == NULL)
	{
		/* unsubscribed (or the topic deleted) since the publish */
		SPI_finish();
		outbox_restore_user(&sw);
		outbox_due_finish(item);
		return;
	}
	/* copies, outside SPI's memory: the call below may look topics up */
	MemoryContextSwitchTo(cxt);
	topic_effective_retry(t, s, &policy);
	topic = *t;
	topic.arn = pstrdup(t->arn);
	sub = *s;
	sub.arn = pstrdup(s->arn);
	sub.dead_letter_queue = s->dead_letter_queue ? pstrdup(s->dead_letter_queue) : NULL;
	sub.endpoint = pstrdup(s->endpoint);
	SPI_finish();
	outbox_restore_user(&sw);

	memset(&r, 0, sizeof(r));
	if (!SearchSysCacheExists1(PROCOID, ObjectIdGetDatum(item->function)))
	{
		r.sqlerrcode = ERRCODE_UNDEFINED_FUNCTION;
		r.message = psprintf("function %s does not exist", sub.endpoint);
	}
	else
	{
		worker_function_config(item->function, &cfg);
		worker_call_function(item->function, item->run_as, event, cfg.timeout_seconds * 1000, &r);
	}
	if (r.ok)
	{
		outbox_due_finish(item);
		return;
	}
	if (worker_error_is_retryable(r.sqlerrcode) && retry <= policy.num_retries)
	{
		double		delay = topic_retry_delay(&policy, retry);

		outbox_due_postpone(item, outbox_now() + (int64) (delay * USECS_PER_SEC), retry, r.message);
		return;
	}
	outbox_due_finish(item);
	outbox_become_owner(&sw);
	SPI_connect();
	{
		pg_uuid_t	message_id;
		JsonbValue *records = outbox_jsonb_get(&event->root, "Records");
		char	   *id = NULL;

		memset(&message_id, 0, sizeof(message_id));
		if (records && records->type == jbvBinary)
		{
			JsonbValue *rec = getIthJsonbValueFromContainer(records->val.binary.data, 0);
			JsonbValue *sns = rec && rec->type == jbvBinary ? outbox_jsonb_get(rec->val.binary.data, "Sns") : NULL;
			JsonbValue *mid = sns && sns->type == jbvBinary ? outbox_jsonb_get(sns->val.binary.data, "MessageId") : NULL;

			if (mid && mid->type == jbvString)
				id = pnstrdup(mid->val.string.val, mid->val.string.len);
		}
		if (id)
			memcpy(&message_id, DatumGetUUIDP(DirectFunctionCall1(uuid_in, CStringGetDatum(id))),
				   sizeof(message_id));
		topic_dead_letter(&topic, &sub, &message_id,
						  cstring_to_text(JsonbToCString(NULL, &event->root, VARSIZE(event))),
						  unpack_sql_state(r.sqlerrcode),
						  psprintf("%s (after %d attempt%s)", r.message, retry, retry == 1 ? "" : "s"));
	}
	SPI_finish();
	outbox_restore_user(&sw);
}

void
topic_deliver_init(void)
{
	outbox_due_register("sns", run_delivery);
}

/* Forget expired deduplication ids and large notifications. */
int64
topic_run_maintenance(void)
{
	int64		n = 0;

	if (SPI_execute("DELETE FROM outbox.topic_dedup WHERE expires_at <= outbox.clock_now()", false, 0) != SPI_OK_DELETE)
		elog(ERROR, "could not expire topic deduplication ids");
	n += SPI_processed;
	if (SPI_execute("DELETE FROM outbox.notification WHERE expires_at <= outbox.clock_now()", false, 0) != SPI_OK_DELETE)
		elog(ERROR, "could not expire notifications");
	n += SPI_processed;
	return n;
}
