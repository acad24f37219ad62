/*-------------------------------------------------------------------------
 *
 * clock.c
 *	  The one clock every timer of pg_outbox reads: visibility timeouts,
 *	  delays, retention, deduplication windows, schedules and retries.
 *
 * outbox_now() is the real time plus an offset that only a superuser can
 * move forward (outbox.advance_clock), so tests can make a 30-second
 * visibility timeout expire without sleeping.  With shared_preload_libraries
 * the offset lives in shared memory and every backend and worker sees it;
 * without it the offset is local to the session that moved it.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/core/clock.c
 *
 *-------------------------------------------------------------------------
 */
#include "pg_outbox.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "core/clock.h"
#include "core/shmem.h"

static uint64 local_clock_offset_us = 0;

static inline uint64
clock_offset(void)
{
	if (OutboxShared)
		return pg_atomic_read_u64(&OutboxShared->clock_offset_us);
	return local_clock_offset_us;
}

TimestampTz
outbox_now(void)
{
	return GetCurrentTimestamp() + (TimestampTz) clock_offset();
}

PG_FUNCTION_INFO_V1(outbox_clock_now);
Datum
outbox_clock_now(PG_FUNCTION_ARGS)
{
	PG_RETURN_TIMESTAMPTZ(outbox_now());
}

PG_FUNCTION_INFO_V1(outbox_advance_clock);
Datum
outbox_advance_clock(PG_FUNCTION_ARGS)
{
	Interval   *by = PG_GETARG_INTERVAL_P(0);
	int64		us;

	if (by->month != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("clock can only be advanced by days, hours, minutes and seconds")));
	us = by->time + (int64) by->day * USECS_PER_DAY;
	if (us < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("clock cannot be moved backwards")));

	if (OutboxShared)
		pg_atomic_fetch_add_u64(&OutboxShared->clock_offset_us, (uint64) us);
	else
		local_clock_offset_us += (uint64) us;

	PG_RETURN_TIMESTAMPTZ(outbox_now());
}
