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

#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "queue/queue.h"

static const struct
{
	const char *name;
	int			bit;
}			privilege_names[] =
{
	{"send", QUEUE_PRIV_SEND},
	{"receive", QUEUE_PRIV_RECEIVE},
	{"delete", QUEUE_PRIV_DELETE},
	{"purge", QUEUE_PRIV_PURGE},
	{"admin", QUEUE_PRIV_ADMIN},
	{"all", QUEUE_PRIV_ALL},
	{NULL, 0}
};

static const char *
privilege_name(int bit)
{
	int			i;

	for (i = 0; privilege_names[i].name; i++)
		if (privilege_names[i].bit == bit)
			return privilege_names[i].name;
	return "?";
}

static int
compute_rights(QueueInfo *q, Oid role)
{
	Oid			owner;
	int			rights = 0;
	int			i;

	if (superuser_arg(role))
		return QUEUE_PRIV_ALL;
	owner = get_role_oid(q->owner, true);
	if (OidIsValid(owner) && has_privs_of_role(role, owner))
		return QUEUE_PRIV_ALL;
	for (i = 0; i < q->ngrants; i++)
	{
		if (strcmp(q->grants[i].grantee, "PUBLIC") == 0)
			rights |= q->grants[i].privileges;
		else
		{
			Oid			grantee = get_role_oid(q->grants[i].grantee, true);

			if (OidIsValid(grantee) && has_privs_of_role(role, grantee))
				rights |= q->grants[i].privileges;
		}
	}
	if (rights & QUEUE_PRIV_ADMIN)
		rights = QUEUE_PRIV_ALL;
	return rights;
}

static int
rights_of(QueueInfo *q, Oid role)
{
	int			rights;

	if (q->rights_role == role)
		return q->rights;
	rights = compute_rights(q, role);
	queue_cache_remember_rights(q->name, role, rights);
	return rights;
}

bool
queue_has_any_right(QueueInfo *q, Oid role)
{
	return rights_of(q, role) != 0;
}

void
queue_check_rights(QueueInfo *q, int privilege, const char *action)
{
	if ((rights_of(q, queue_current_caller) & privilege) == privilege)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied for queue \"%s\"", q->name),
			 errdetail("%s needs the \"%s\" privilege on the queue; role \"%s\" does not have it.",
					   action, privilege_name(privilege),
					   GetUserNameFromId(queue_current_caller, false)),
			 errhint("The queue's owner can run outbox.grant_queue('%s', '{%s}', '%s').",
					 q->name, privilege_name(privilege),
					 GetUserNameFromId(queue_current_caller, false))));
}

/*
 * For what any right allows (reading attributes, listing dead-letter
 * sources): the caller must hold at least one right on the queue.
 */
void
queue_check_any_right(QueueInfo *q, const char *action)
{
	if (rights_of(q, queue_current_caller) != 0)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied for queue \"%s\"", q->name),
			 errdetail("%s needs a privilege on the queue, any of send, receive, delete, purge or admin; role \"%s\" has none.",
					   action, GetUserNameFromId(queue_current_caller, false)),
			 errhint("The queue's owner can grant one with outbox.grant_queue.")));
}

int
queue_parse_privileges(ArrayType *privileges)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int			i;
	int			bits = 0;

	deconstruct_array(privileges, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	if (n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid \"privileges\": at least one privilege is required")));
	for (i = 0; i < n; i++)
	{
		char	   *p;
		int			j;
		bool		found = false;

		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("invalid \"privileges\": null element")));
		p = TextDatumGetCString(elems[i]);
		for (j = 0; privilege_names[j].name; j++)
		{
			if (pg_strcasecmp(p, privilege_names[j].name) == 0)
			{
				bits |= privilege_names[j].bit;
				found = true;
			}
		}
		if (!found)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid \"privileges\": unknown privilege \"%s\"", p),
					 errhint("Queue privileges are send, receive, delete, purge, admin and all.")));
	}
	return bits;
}

void
queue_grant(QueueInfo *q, int privileges, const char *grantee, bool is_grant)
{
	Oid			argtypes[3] = {INT4OID, NAMEOID, INT4OID};
	Datum		args[3];
	const char *who = grantee;
	int			rc;

	if (pg_strcasecmp(grantee, "public") == 0)
		who = "PUBLIC";
	else
		(void) get_role_oid(grantee, false);	/* errors if the role does not exist */

	args[0] = Int32GetDatum(q->queue_id);
	args[1] = DirectFunctionCall1(namein, CStringGetDatum(who));
	args[2] = Int32GetDatum(privileges);
	if (is_grant)
		rc = SPI_execute_with_args("INSERT INTO outbox.queue_grant AS g (queue_id, grantee, privileges) "
								   "VALUES ($1, $2, $3) ON CONFLICT (queue_id, grantee) "
								   "DO UPDATE SET privileges = g.privileges | $3",
								   3, argtypes, args, NULL, false, 0);
	else
	{
		rc = SPI_execute_with_args("UPDATE outbox.queue_grant SET privileges = privileges & ~$3 "
								   "WHERE queue_id = $1 AND grantee = $2",
								   3, argtypes, args, NULL, false, 0);
		if (rc == SPI_OK_UPDATE)
			rc = SPI_execute_with_args("DELETE FROM outbox.queue_grant WHERE queue_id = $1 AND grantee = $2 "
									   "AND privileges = 0", 2, argtypes, args, NULL, false, 0);
	}
	if (rc < 0)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
	CommandCounterIncrement();
}
