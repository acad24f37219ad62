/*-------------------------------------------------------------------------
 *
 * acl.h
 *	  Rights on pg_outbox objects (queues, topics, buses): owner, grants,
 *	  PUBLIC, and privilege names.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/core/acl.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef OUTBOX_ACL_H
#define OUTBOX_ACL_H

#include "utils/array.h"

/* One row of an object's grant table: grantee "PUBLIC" is everyone. */
typedef struct OutboxGrant
{
	char		grantee[NAMEDATALEN];
	int			privileges;
} OutboxGrant;

/* A kind of object's privileges: names and bits, ending with {NULL, 0}. */
typedef struct OutboxPrivilege
{
	const char *name;
	int			bit;
} OutboxPrivilege;

/*
 * The kind of object: its privilege table, the bit that implies all the
 * others, and the grant table (a constant name, never user input) keyed
 * by id_column.
 */
typedef struct OutboxAclKind
{
	const char *object;			/* "queue", "topic": for messages */
	const OutboxPrivilege *privileges;
	int			all;
	int			admin;
	const char *grant_table;	/* "outbox.queue_grant" */
	const char *id_column;		/* "queue_id" */
} OutboxAclKind;

extern int	outbox_acl_rights(const OutboxAclKind *kind, const char *owner,
							  const OutboxGrant *grants, int ngrants, Oid role);
extern const char *outbox_acl_privilege_name(const OutboxAclKind *kind, int bit);
extern int	outbox_acl_parse(const OutboxAclKind *kind, ArrayType *privileges);
extern void outbox_acl_store(const OutboxAclKind *kind, int32 object_id, int privileges,
							 const char *grantee, bool is_grant);
extern void outbox_acl_deny(const OutboxAclKind *kind, const char *object_name, int privilege,
							const char *action, Oid role) pg_attribute_noreturn();

#endif							/* OUTBOX_ACL_H */
