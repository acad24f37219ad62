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

static bool
valid_date(int y, int m, int d)
{
	static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (m < 1 || m > 12 || d < 1 || d > days[m - 1])
		return false;
	return !(m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
}

/*
 * An RFC 3339 / ISO 8601 time (YYYY-MM-DDThh:mm:ss[.fff](Z|+hh:mm)) from
 * min_year on, or false.  Everything is checked before timestamptz_in, so
 * a bad value never raises.
 */
bool
outbox_parse_iso_timestamp(const char *s, int min_year, TimestampTz *out)
{
	int			y, mo, d, h, mi, sec, n = 0;
	const char *rest;

	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 || n != 19 ||
		y < min_year || !valid_date(y, mo, d) || h > 23 || mi > 59 || sec > 60)
		return false;
	rest = s + n;
	if (*rest == '.')
		for (rest++; isdigit((unsigned char) *rest); rest++)
			;
	if (!(strcmp(rest, "Z") == 0 ||
		  ((rest[0] == '+' || rest[0] == '-') && isdigit((unsigned char) rest[1]) &&
		   isdigit((unsigned char) rest[2]) && rest[3] == ':' && isdigit((unsigned char) rest[4]) &&
		   isdigit((unsigned char) rest[5]) && rest[6] == '\0')))
		return false;
	*out = DatumGetTimestampTz(DirectFunctionCall3(timestamptz_in, CStringGetDatum(s),
												   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
	return true;
}
