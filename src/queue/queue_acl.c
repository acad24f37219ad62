/*-------------------------------------------------------------------------
 *
 * queue_acl.c
 *	  Rights on queues: who may send, receive, delete, purge and administer.
 *
 * A queue belongs to the role that created it.  The owner, members of the
 * owner role and superusers hold every right; everyone else holds what
 * grant_queue gave them or PUBLIC.  The rights are:
 *
 *	  send		send_message(_batch)
 *	  receive	receive_message, change_message_visibility(_batch)
 *	  delete	delete_message(_batch)
 *	  purge		purge_queue
 *	  admin		everything above, plus set_queue_attributes, delete_queue,
 *				grant_queue/revoke_queue and redrive tasks
 *
 * Any right lets a role see the queue in list_queues and read its
 * attributes.  A role without the right gets SQLSTATE 42501 naming the
 * queue and the right.  The result per (queue, role) is cached with the
 * queue and dropped with it when grants change.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/queue/queue_acl.c
 *
 *-------------------------------------------------------------------------
 */
#include "pg_outbox.h"

#include "utils/array.h"

#include "core/acl.h"
#include "queue/queue.h"

static const OutboxPrivilege queue_privileges[] =
{
	{"send", QUEUE_PRIV_SEND},
	{"receive", QUEUE_PRIV_RECEIVE},
	{"delete", QUEUE_PRIV_DELETE},
	{"purge", QUEUE_PRIV_PURGE},
	{"admin", QUEUE_PRIV_ADMIN},
	{"all", QUEUE_PRIV_ALL},
	{NULL, 0}
};

static const OutboxAclKind queue_acl = {
	"queue", queue_privileges, QUEUE_PRIV_ALL, QUEUE_PRIV_ADMIN,
	"outbox.queue_grant", "queue_id"
};

static int
rights_of(QueueInfo *q, Oid role)
{
	int			rights;

	if (q->rights_role == role)
		return q->rights;
	rights = outbox_acl_rights(&queue_acl, q->owner, q->grants, q->ngrants, role);
	queue_cache_remember_rights(q->name, role, rights);
	return rights;
}

bool
queue_has_any_right(QueueInfo *q, Oid role)
{
	return rights_of(q, role) != 0;
}

bool
queue_role_has_rights(QueueInfo *q, Oid role, int privilege)
{
	return (rights_of(q, role) & privilege) == privilege;
}

void
queue_check_rights(QueueInfo *q, int privilege, const char *action)
{
	if ((rights_of(q, outbox_current_caller) & privilege) != privilege)
		outbox_acl_deny(&queue_acl, q->name, privilege, action, outbox_current_caller);
}

/*
 * For what any right allows (reading attributes, listing dead-letter
 * sources): the caller must hold at least one right on the queue.
 */
void
queue_check_any_right(QueueInfo *q, const char *action)
{
	if (rights_of(q, outbox_current_caller) == 0)
		outbox_acl_deny(&queue_acl, q->name, 0, action, outbox_current_caller);
}

int
queue_parse_privileges(ArrayType *privileges)
{
	return outbox_acl_parse(&queue_acl, privileges);
}

void
queue_grant(QueueInfo *q, int privileges, const char *grantee, bool is_grant)
{
	outbox_acl_store(&queue_acl, q->queue_id, privileges, grantee, is_grant);
}
