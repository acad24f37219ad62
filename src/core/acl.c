/*-------------------------------------------------------------------------
 *
 * acl.c
 *	  Rights on pg_outbox objects, shared by every room that has grants.
 *
 * An object (queue, topic, bus) belongs to the role that created it.  The
 * owner, members of the owner role and superusers hold every right;
 * everyone else holds what the object's grant table gives them or PUBLIC.
 * The admin privilege implies all the others.  Each room keeps its grants
 * in its own cache and asks outbox_acl_rights for a role's bits.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/core/acl.c
 *
 *-------------------------------------------------------------------------
 */
#include "pg_outbox.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"

#include "core/acl.h"

int
outbox_acl_rights(const OutboxAclKind *kind, const char *owner,
				  const OutboxGrant *grants, int ngrants, Oid role)
{
	Oid			owner_oid;
	int			rights = 0;

	if (superuser_arg(role))
		return kind->all;
	owner_oid = get_role_oid(owner, true);
	if (OidIsValid(owner_oid) && has_privs_of_role(role, owner_oid))
		return kind->all;
	for (int i = 0; i < ngrants; i++)
	{
		if (strcmp(grants[i].grantee, "PUBLIC") == 0)
			rights |= grants[i].privileges;
		else
		{
			Oid			grantee = get_role_oid(grants[i].grantee, true);

			if (OidIsValid(grantee) && has_privs_of_role(role, grantee))
				rights |= grants[i].privileges;
		}
	}
	if (rights & kind->admin)
		rights = kind->all;
	return rights;
}

const char *
outbox_acl_privilege_name(const OutboxAclKind *kind, int bit)
{
	for (int i = 0; kind->privileges[i].name; i++)
		if (kind->privileges[i].bit == bit)
			return kind->privileges[i].name;
	return "?";
}

/* "send, receive, delete, purge or admin": the names, "last" before the last one. */
static char *
privilege_list(const OutboxAclKind *kind, bool with_all, const char *last)
{
	StringInfoData buf;
	int			n = 0;
	int			k = 0;

	for (int i = 0; kind->privileges[i].name; i++)
		if (with_all || kind->privileges[i].bit != kind->all)
			n++;
	initStringInfo(&buf);
	for (int i = 0; kind->privileges[i].name; i++)
	{
		if (!with_all && kind->privileges[i].bit == kind->all)
			continue;
		if (k > 0)
			appendStringInfoString(&buf, k == n - 1 ? last : ", ");
		appendStringInfoString(&buf, kind->privileges[i].name);
		k++;
	}
	return buf.data;
}

/* Raise 42501 for a role that lacks "privilege" on an object. */
void
outbox_acl_deny(const OutboxAclKind *kind, const char *object_name, int privilege,
				const char *action, Oid role)
{
	const char *who = GetUserNameFromId(role, false);
	char	   *grant = psprintf("grant_%s", kind->object);

	for (char *p = grant; *p; p++)
		if (*p == ' ')
			*p = '_';			/* "state machine": grant_state_machine */

	if (privilege == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for %s \"%s\"", kind->object, object_name),
				 errdetail("%s needs a privilege on the %s, any of %s; role \"%s\" has none.",
						   action, kind->object, privilege_list(kind, false, " or "), who),
				 errhint("The %s's owner can grant one with outbox.%s.",
						 kind->object, grant)));
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied for %s \"%s\"", kind->object, object_name),
			 errdetail("%s needs the \"%s\" privilege on the %s; role \"%s\" does not have it.",
					   action, outbox_acl_privilege_name(kind, privilege), kind->object, who),
			 errhint("The %s's owner can run outbox.%s('%s', '{%s}', '%s').",
					 kind->object, grant, object_name,
					 outbox_acl_privilege_name(kind, privilege), who)));
}

/* A text[] of privilege names to bits; unknown names are an error. */
int
outbox_acl_parse(const OutboxAclKind *kind, ArrayType *privileges)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int			bits = 0;

	deconstruct_array(privileges, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	if (n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid \"privileges\": at least one privilege is required")));
	for (int i = 0; i < n; i++)
	{
		char	   *p;
		bool		found = false;

		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("invalid \"privileges\": null element")));
		p = TextDatumGetCString(elems[i]);
		for (int j = 0; kind->privileges[j].name; j++)
		{
			if (pg_strcasecmp(p, kind->privileges[j].name) == 0)
			{
				bits |= kind->privileges[j].bit;
				found = true;
			}
		}
		if (!found)
		{
			char	   *object = pstrdup(kind->object);

			object[0] = pg_toupper((unsigned char) object[0]);
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid \"privileges\": unknown privilege \"%s\"", p),
					 errhint("%s privileges are %s.", object, privilege_list(kind, true, " and "))));
		}
	}
	return bits;
}

/*
 * Add (grant) or remove (revoke) privilege bits of a grantee in the kind's
 * grant table.  SPI must be connected, as the extension owner.
 */
void
outbox_acl_store(const OutboxAclKind *kind, int32 object_id, int privileges,
				 const char *grantee, bool is_grant)
{
	Oid			argtypes[3] = {INT4OID, NAMEOID, INT4OID};
	Datum		args[3];
	const char *who = grantee;
	int			rc;

	if (pg_strcasecmp(grantee, "public") == 0)
		who = "PUBLIC";
	else
		(void) get_role_oid(grantee, false);	/* errors if the role does not exist */

	args[0] = Int32GetDatum(object_id);
	args[1] = DirectFunctionCall1(namein, CStringGetDatum(who));
	args[2] = Int32GetDatum(privileges);
	if (is_grant)
		rc = SPI_execute_with_args(psprintf("INSERT INTO %s AS g (%s, grantee, privileges) "
											"VALUES ($1, $2, $3) ON CONFLICT (%s, grantee) "
											"DO UPDATE SET privileges = g.privileges | $3",
											kind->grant_table, kind->id_column, kind->id_column),
								   3, argtypes, args, NULL, false, 0);
	else
	{
		rc = SPI_execute_with_args(psprintf("UPDATE %s SET privileges = privileges & ~$3 "
											"WHERE %s = $1 AND grantee = $2",
											kind->grant_table, kind->id_column),
								   3, argtypes, args, NULL, false, 0);
		if (rc == SPI_OK_UPDATE)
			rc = SPI_execute_with_args(psprintf("DELETE FROM %s WHERE %s = $1 AND grantee = $2 "
												"AND privileges = 0",
												kind->grant_table, kind->id_column),
									   2, argtypes, args, NULL, false, 0);
	}
	if (rc < 0)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
	CommandCounterIncrement();
}
