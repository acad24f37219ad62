/*-------------------------------------------------------------------------
 *
 * clock.h
 *	  The one clock of pg_outbox.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/core/clock.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef OUTBOX_CLOCK_H
#define OUTBOX_CLOCK_H

#include "datatype/timestamp.h"

extern TimestampTz outbox_now(void);
extern bool outbox_parse_iso_timestamp(const char *s, int min_year, TimestampTz *out);

#endif							/* OUTBOX_CLOCK_H */
