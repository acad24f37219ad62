/*-------------------------------------------------------------------------
 *
 * security.h
 *	  Running table access as the extension owner, and knowing who called.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/core/security.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef OUTBOX_SECURITY_H
#define OUTBOX_SECURITY_H

#include "fmgr.h"
#include "utils/jsonb.h"

typedef struct OutboxUserSwitch
{
	Oid			saved_userid;
	int			saved_sec_context;
} OutboxUserSwitch;

/* The role that called the API function being run (set by each room's call_begin). */
extern Oid	outbox_current_caller;

/*
 * An API call: SPI connected, the caller noted in outbox_current_caller,
 * table access as the extension owner.  Errors need no cleanup: (sub)
 * transaction abort closes SPI and restores the user.
 */
typedef struct OutboxCall
{
	OutboxUserSwitch user;
	Oid			previous_caller;
} OutboxCall;

extern void outbox_call_begin(OutboxCall *call);
extern void outbox_call_end(OutboxCall *call);

/* A call's result, copied where it outlives outbox_call_end (call before it). */
extern Datum outbox_call_text_result(const char *s);
extern Datum outbox_call_jsonb_result(Jsonb *j);

extern Oid	outbox_extension_owner(void);
extern void outbox_become_owner(OutboxUserSwitch *save);
extern void outbox_restore_user(OutboxUserSwitch *save);
extern void outbox_security_reset_cache(void);

/* Arguments of API functions, which are not STRICT: a null is an error naming the argument. */
extern void outbox_arg_not_null(FunctionCallInfo fcinfo, int n, const char *field);
extern char *outbox_arg_text(FunctionCallInfo fcinfo, int n, const char *field);

#endif							/* OUTBOX_SECURITY_H */
