/*-------------------------------------------------------------------------
 *
 * security.c
 *	  Who may touch pg_outbox's tables, and as whom they are touched.
 *
 * The tables of the extension are not readable or writable by PUBLIC.  The
 * SQL API functions are ordinary (SECURITY INVOKER) C functions: they first
 * check the caller's rights on the queue, topic or bus named in the call
 * against GetUserId() -- which honours SET ROLE and SECURITY DEFINER callers
 * -- and only then switch to the extension owner for the table access, with
 * SECURITY_LOCAL_USERID_CHANGE so that nothing the caller controls runs with
 * the owner's rights.  An error while switched is cleaned up by transaction
 * (or subtransaction) abort, which restores the previous user itself.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/core/security.c
 *
 *-------------------------------------------------------------------------
 */
#include "pg_outbox.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/pg_extension.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"

#include "core/security.h"

Oid			outbox_current_caller = InvalidOid;

static Oid	cached_owner = InvalidOid;

void
outbox_security_reset_cache(void)
{
	cached_owner = InvalidOid;
}

/*
 * The role that owns the extension (and therefore its tables).
 */
Oid
outbox_extension_owner(void)
{
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	Oid			owner = InvalidOid;

	if (OidIsValid(cached_owner))
		return cached_owner;

	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber,
				F_NAMEEQ, CStringGetDatum("pg_outbox"));
	scan = systable_beginscan(rel, ExtensionNameIndexId, true, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
		owner = ((Form_pg_extension) GETSTRUCT(tup))->extowner;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);

	if (!OidIsValid(owner))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("extension \"pg_outbox\" is not installed in this database")));

	cached_owner = owner;
	return owner;
}

void
outbox_become_owner(OutboxUserSwitch *save)
{
	Oid			owner = outbox_extension_owner();

	GetUserIdAndSecContext(&save->saved_userid, &save->saved_sec_context);
	SetUserIdAndSecContext(owner,
						   save->saved_sec_context | SECURITY_LOCAL_USERID_CHANGE);
}

void
outbox_restore_user(OutboxUserSwitch *save)
{
	SetUserIdAndSecContext(save->saved_userid, save->saved_sec_context);
}

void
outbox_call_begin(OutboxCall *call)
{
	call->previous_caller = outbox_current_caller;
	outbox_current_caller = GetUserId();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	outbox_become_owner(&call->user);
}

void
outbox_call_end(OutboxCall *call)
{
	outbox_restore_user(&call->user);
	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "SPI_finish failed");
	outbox_current_caller = call->previous_caller;
}

void
outbox_arg_not_null(FunctionCallInfo fcinfo, int n, const char *field)
{
	if (PG_ARGISNULL(n))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("\"%s\" must not be null", field)));
}

char *
outbox_arg_text(FunctionCallInfo fcinfo, int n, const char *field)
{
	outbox_arg_not_null(fcinfo, n, field);
	return text_to_cstring(PG_GETARG_TEXT_PP(n));
}

/*
 * Results of an API call, copied out of SPI's memory into the caller's
 * (SPI_palloc) so they outlive outbox_call_end.
 */
Datum
outbox_call_text_result(const char *s)
{
	text	   *t = cstring_to_text(s);

	return PointerGetDatum(memcpy(SPI_palloc(VARSIZE(t)), t, VARSIZE(t)));
}

Datum
outbox_call_jsonb_result(Jsonb *j)
{
	return JsonbPGetDatum(memcpy(SPI_palloc(VARSIZE(j)), j, VARSIZE(j)));
}
