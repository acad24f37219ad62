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

typedef struct OutboxUserSwitch
{
	Oid			saved_userid;
	int			saved_sec_context;
} OutboxUserSwitch;

/* The role that called the API function being run (set by each room's call_begin). */
extern Oid	outbox_current_caller;

extern Oid	outbox_extension_owner(void);
extern void outbox_become_owner(OutboxUserSwitch *save);
extern void outbox_restore_user(OutboxUserSwitch *save);
extern void outbox_security_reset_cache(void);

#endif							/* OUTBOX_SECURITY_H */
