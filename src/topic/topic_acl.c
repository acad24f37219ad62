/*-------------------------------------------------------------------------
 *
 * topic_acl.c
 *	  Rights on topics: who may publish, subscribe and administer.
 *
 *	  publish	publish, publish_batch
 *	  subscribe	subscribe (and, for one's own subscriptions, unsubscribe and
 *				changing their attributes)
 *	  admin		everything above, for every subscription of the topic, plus
 *				set_topic_attributes, delete_topic, grant_topic/revoke_topic
 *
 * Any right lets a role see the topic in list_topics and read its
 * attributes.  A subscription belongs to the role that made it; its owner
 * must also be able to write where it delivers (send on the queue, execute
 * on the function), which subscribe checks and every delivery checks again.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/topic/topic_acl.c
 *
 *-------------------------------------------------------------------------
 */
#include "pg_outbox.h"

#include "miscadmin.h"
#include "utils/acl.h"

#include "core/security.h"
#include "topic/topic.h"

static const OutboxPrivilege topic_privileges[] =
{
	{"publish", TOPIC_PRIV_PUBLISH},
	{"subscribe", TOPIC_PRIV_SUBSCRIBE},
	{"admin", TOPIC_PRIV_ADMIN},
	{"all", TOPIC_PRIV_ALL},
	{NULL, 0}
};

const OutboxAclKind topic_acl = {
	"topic", topic_privileges, TOPIC_PRIV_ALL, TOPIC_PRIV_ADMIN,
	"outbox.topic_grant", "topic_id"
};

int
topic_rights_of(TopicInfo *t, Oid role)
{
	int			rights;

	if (t->rights_role == role)
		return t->rights;
	rights = outbox_acl_rights(&topic_acl, t->owner, t->grants, t->ngrants, role);
	topic_remember_rights(t, role, rights);
	return rights;
}

void
topic_check_rights(TopicInfo *t, int privilege, const char *action)
{
	if ((topic_rights_of(t, outbox_current_caller) & privilege) != privilege)
		outbox_acl_deny(&topic_acl, t->name, privilege, action, outbox_current_caller);
}

void
topic_check_any_right(TopicInfo *t, const char *action)
{
	if (topic_rights_of(t, outbox_current_caller) == 0)
		outbox_acl_deny(&topic_acl, t->name, 0, action, outbox_current_caller);
}

/* The subscription's owner (or a member), or an admin of the topic. */
void
topic_check_subscription_rights(TopicInfo *t, SubscriptionInfo *s, const char *action)
{
	if (OidIsValid(s->owner_oid) && has_privs_of_role(outbox_current_caller, s->owner_oid))
		return;
	if (topic_rights_of(t, outbox_current_caller) & TOPIC_PRIV_ADMIN)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied for subscription \"%s\"", s->arn),
			 errdetail("%s needs to be the subscription's owner (\"%s\") or to hold \"admin\" on topic \"%s\".",
					   action, s->owner, t->name)));
}
