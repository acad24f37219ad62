/*-------------------------------------------------------------------------
 *
 * bus_schedule.c
 *	  Scheduled rules: rate() and cron() expressions, their next firing
 *	  times, and firing them exactly once.
 *
 * Expressions (EventBridge's; cron in UTC, or in the rule's
 * schedule_timezone as EventBridge Scheduler allows):
 *	  rate(N minute|minutes|hour|hours|day|days)	singular for 1, plural for more
 *	  cron(Minutes Hours Day-of-month Month Day-of-week Year)
 * with ",", "-", "*", "/" in every field, "?" in exactly one of the day
 * fields, "L", "W" and "LW" in Day-of-month, "L", "nL" and "d#n" in
 * Day-of-week (1 = Sunday), month and weekday names, years 1970-2199.
 *
 * Firing.  A scheduled rule has one due item of kind "schedule" (worker/
 * due.c) carrying the rule's schedule token; put_rule and enable_rule draw
 * a new token and schedule a new item, so an item whose token no longer
 * matches (the rule was replaced, disabled, deleted) finishes without
 * firing.  A firing delivers the scheduled event to the rule's targets,
 * schedules the next firing and deletes its item in one transaction:
 * each firing happens once, also across crashes.  Firings missed while the
 * server was down are not made up: the rule fires once on recovery and
 * then keeps its schedule (EventBridge does not back-fill either).  A rate
 * is counted from when the rule was put or enabled.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/bus/bus_schedule.c
 *
 *-------------------------------------------------------------------------
 */
#include "pg_outbox.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "pgtime.h"
#include "utils/datetime.h"
#include "utils/fmgrprotos.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "core/clock.h"
#include "core/jsonb_util.h"
#include "core/security.h"
#include "bus/bus.h"
#include "worker/worker.h"

#define YEAR_MIN	1970
#define YEAR_MAX	2199

typedef enum DaySpecial
{
	DAY_SET,					/* the bitset */
	DAY_ANY,					/* ? */
	DAY_LAST,					/* L (dom: last day; dow: Saturday) */
	DAY_NEAREST_WEEKDAY,		/* nW */
	DAY_LAST_WEEKDAY,			/* LW */
	DAY_LAST_OF_WEEKDAY,		/* nL in dow: the last weekday n of the month */
	DAY_NTH_WEEKDAY				/* d#n */
} DaySpecial;

typedef struct CronSpec
{
	uint64		minutes;		/* bit i: minute i */
	uint32		hours;
	uint32		months;			/* bit 1..12 */
	DaySpecial	dom_kind;
	uint32		dom;			/* bit 1..31 */
	int			dom_arg;
	DaySpecial	dow_kind;
	uint32		dow;			/* bit 1..7, 1 = Sunday */
	int			dow_arg;		/* weekday for nL and d#n */
	int			dow_nth;		/* n of d#n */
	uint8		years[(YEAR_MAX - YEAR_MIN + 1 + 7) / 8];
} CronSpec;

typedef struct Schedule
{
	bool		is_rate;
	int64		period;			/* rate, in microseconds */
	CronSpec	cron;
} Schedule;

static const char *const month_names[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
static const char *const day_names[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

static void bad(const char *expr, const char *what, const char *detail) pg_attribute_noreturn();

static void
bad(const char *expr, const char *what, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid schedule expression \"%s\": %s", expr, what),
			 detail ? errdetail("%s", detail) : 0,
			 errhint("Schedules are rate(5 minutes) or cron(Minutes Hours Day-of-month Month Day-of-week Year), in UTC.")));
}

/* A number or a name (names[0] is value base) */
static bool
field_value(const char *s, int len, const char *const *names, int nnames, int base, int *out)
{
	char		buf[8];

	if (len <= 0 || len >= (int) sizeof(buf))
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (isdigit((unsigned char) buf[0]))
	{
		char	   *end;
		long		v = strtol(buf, &end, 10);

		if (*end != '\0')
			return false;
		*out = (int) v;
		return true;
	}
	for (int i = 0; names && i < nnames; i++)
		if (pg_strcasecmp(buf, names[i]) == 0)
		{
			*out = base + i;
			return true;
		}
	return false;
}

/*
 * A list of items "*", "a", "a-b", "a/s", "*\/s", "a-b/s" into bit
 * positions lo..hi of *bits (via set(bit)).
 */
static void
parse_list(const char *expr, const char *field, const char *text, int lo, int hi,
		   const char *const *names, int nnames, int name_base, uint8 *bits)
{
	const char *p = text;

	while (*p)
	{
		const char *end = strchr(p, ',');
		const char *item_end = end ? end : p + strlen(p);
		const char *slash = memchr(p, '/', item_end - p);
		const char *range_end = slash ? slash : item_end;
		const char *dash = memchr(p, '-', range_end - p);
		int			a,
					b,
					step = 1;

		if (range_end - p == 1 && *p == '*')
		{
			a = lo;
			b = hi;
		}
		else if (dash)
		{
			if (!field_value(p, dash - p, names, nnames, name_base, &a) ||
				!field_value(dash + 1, range_end - dash - 1, names, nnames, name_base, &b))
				bad(expr, psprintf("cannot read the %s field \"%s\"", field, text), NULL);
		}
		else
		{
			if (!field_value(p, range_end - p, names, nnames, name_base, &a))
				bad(expr, psprintf("cannot read the %s field \"%s\"", field, text), NULL);
			b = slash ? hi : a;
		}
		if (slash && !field_value(slash + 1, item_end - slash - 1, NULL, 0, 0, &step))
			bad(expr, psprintf("cannot read the increment in the %s field \"%s\"", field, text), NULL);
		if (a < lo || a > hi || b < lo || b > hi || step < 1)
			bad(expr, psprintf("%s field \"%s\" is out of range (%d to %d)", field, text, lo, hi), NULL);
		if (a > b)
			bad(expr, psprintf("%s field \"%s\": a range must go upwards", field, text), NULL);
		for (int v = a; v <= b; v += step)
			bits[(v - lo) / 8] |= 1 << ((v - lo) % 8);
		p = end ? end + 1 : item_end;
		if (end && *p == '\0')
			bad(expr, psprintf("%s field \"%s\" ends with a comma", field, text), NULL);
	}
}

static uint64
bits_to_u64(uint8 *bits, int nbytes)
{
	uint64		v = 0;

	for (int i = 0; i < nbytes; i++)
		v |= (uint64) bits[i] << (8 * i);
	return v;
}

static void
parse_cron(const char *expr, const char *body, CronSpec *c)
{
	char	   *copy = pstrdup(body);
	char	   *fields[7];
	int			n = 0;
	char	   *tok;
	char	   *save;
	uint8		bits[32];

	memset(c, 0, sizeof(*c));
	for (tok = strtok_r(copy, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save))
	{
		if (n == 6)
			bad(expr, "cron() takes exactly 6 fields", "Minutes Hours Day-of-month Month Day-of-week Year");
		fields[n++] = tok;
	}
	if (n != 6)
		bad(expr, "cron() takes exactly 6 fields", "Minutes Hours Day-of-month Month Day-of-week Year");

	memset(bits, 0, sizeof(bits));
	parse_list(expr, "Minutes", fields[0], 0, 59, NULL, 0, 0, bits);
	c->minutes = bits_to_u64(bits, 8);
	memset(bits, 0, sizeof(bits));
	parse_list(expr, "Hours", fields[1], 0, 23, NULL, 0, 0, bits);
	c->hours = (uint32) bits_to_u64(bits, 3);
	memset(bits, 0, sizeof(bits));
	parse_list(expr, "Month", fields[3], 1, 12, month_names, 12, 1, bits);
	c->months = (uint32) bits_to_u64(bits, 2) << 1;
	memset(c->years, 0, sizeof(c->years));
	parse_list(expr, "Year", fields[5], YEAR_MIN, YEAR_MAX, NULL, 0, 0, c->years);

	/* Day-of-month */
	if (strcmp(fields[2], "?") == 0)
		c->dom_kind = DAY_ANY;
	else if (pg_strcasecmp(fields[2], "L") == 0)
		c->dom_kind = DAY_LAST;
	else if (pg_strcasecmp(fields[2], "LW") == 0)
		c->dom_kind = DAY_LAST_WEEKDAY;
	else if (strlen(fields[2]) >= 2 && toupper((unsigned char) fields[2][strlen(fields[2]) - 1]) == 'W')
	{
		if (!field_value(fields[2], strlen(fields[2]) - 1, NULL, 0, 0, &c->dom_arg) ||
			c->dom_arg < 1 || c->dom_arg > 31)
			bad(expr, psprintf("Day-of-month \"%s\": W takes a single day from 1 to 31", fields[2]), NULL);
		c->dom_kind = DAY_NEAREST_WEEKDAY;
	}
	else
	{
		memset(bits, 0, sizeof(bits));
		parse_list(expr, "Day-of-month", fields[2], 1, 31, NULL, 0, 0, bits);
		c->dom = (uint32) bits_to_u64(bits, 4) << 1;
		c->dom_kind = DAY_SET;
	}

	/* Day-of-week */
	if (strcmp(fields[4], "?") == 0)
		c->dow_kind = DAY_ANY;
	else if (pg_strcasecmp(fields[4], "L") == 0)
		c->dow_kind = DAY_LAST;
	else if (strchr(fields[4], '#'))
	{
		char	   *hash = strchr(fields[4], '#');

		if (!field_value(fields[4], hash - fields[4], day_names, 7, 1, &c->dow_arg) ||
			!field_value(hash + 1, strlen(hash + 1), NULL, 0, 0, &c->dow_nth) ||
			c->dow_arg < 1 || c->dow_arg > 7 || c->dow_nth < 1 || c->dow_nth > 5)
			bad(expr, psprintf("Day-of-week \"%s\": d#n takes a weekday 1 to 7 and n from 1 to 5", fields[4]), NULL);
		c->dow_kind = DAY_NTH_WEEKDAY;
	}
	else if (strlen(fields[4]) >= 2 && toupper((unsigned char) fields[4][strlen(fields[4]) - 1]) == 'L')
	{
		if (!field_value(fields[4], strlen(fields[4]) - 1, day_names, 7, 1, &c->dow_arg) ||
			c->dow_arg < 1 || c->dow_arg > 7)
			bad(expr, psprintf("Day-of-week \"%s\": nL takes a weekday from 1 to 7", fields[4]), NULL);
		c->dow_kind = DAY_LAST_OF_WEEKDAY;
	}
	else
	{
		memset(bits, 0, sizeof(bits));
		parse_list(expr, "Day-of-week", fields[4], 1, 7, day_names, 7, 1, bits);
		c->dow = (uint32) bits_to_u64(bits, 1) << 1;
		c->dow_kind = DAY_SET;
	}
	if ((c->dom_kind == DAY_ANY) == (c->dow_kind == DAY_ANY))
		bad(expr, "exactly one of Day-of-month and Day-of-week must be \"?\"", NULL);
}

static void
parse_schedule(const char *expr, Schedule *s)
{
	size_t		len = strlen(expr);

	memset(s, 0, sizeof(*s));
	if (len > 256)
		bad(expr, "longer than 256 characters", NULL);
	if (strncmp(expr, "rate(", 5) == 0 && expr[len - 1] == ')')
	{
		char	   *body = pnstrdup(expr + 5, len - 6);
		char	   *end;
		long		n = strtol(body, &end, 10);
		const char *unit;
		int64		unit_us;

		if (end == body || *end != ' ' || n < 1 || n > 1000000)
			bad(expr, "rate() takes a positive whole number and a unit", NULL);
		unit = end + 1;
		if (strcmp(unit, "minute") == 0 || strcmp(unit, "minutes") == 0)
			unit_us = USECS_PER_MINUTE;
		else if (strcmp(unit, "hour") == 0 || strcmp(unit, "hours") == 0)
			unit_us = USECS_PER_HOUR;
		else if (strcmp(unit, "day") == 0 || strcmp(unit, "days") == 0)
			unit_us = USECS_PER_DAY;
		else
			bad(expr, psprintf("unknown rate unit \"%s\"", unit), "The units are minute(s), hour(s) and day(s).");
		if ((n == 1) != (unit[strlen(unit) - 1] != 's'))
			bad(expr, n == 1 ? "a rate of 1 takes the singular unit" : "a rate above 1 takes the plural unit", NULL);
		s->is_rate = true;
		s->period = n * unit_us;
		return;
	}
	if (strncmp(expr, "cron(", 5) == 0 && expr[len - 1] == ')')
	{
		parse_cron(expr, pnstrdup(expr + 5, len - 6), &s->cron);
		return;
	}
	bad(expr, "not a rate() or cron() expression", NULL);
}

void
bus_check_schedule(const char *expr)
{
	Schedule	s;

	parse_schedule(expr, &s);
}

/* ---- next firing ---- */

static int
days_in_month(int y, int m)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return days[m - 1] + (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
}

/* 1 = Sunday ... 7 = Saturday */
static int
weekday(int y, int m, int d)
{
	return j2day(date2j(y, m, d)) + 1;
}

static bool
day_matches(CronSpec *c, int y, int m, int d)
{
	int			last = days_in_month(y, m);
	int			wd = weekday(y, m, d);

	switch (c->dom_kind)
	{
		case DAY_SET:
			return (c->dom >> d) & 1;
		case DAY_LAST:
			return d == last;
		case DAY_NEAREST_WEEKDAY:
			{
				int			target = Min(c->dom_arg, last);
				int			twd = weekday(y, m, target);

				if (twd == 7)	/* Saturday: Friday before, or Monday after on the 1st */
					target = target == 1 ? 3 : target - 1;
				else if (twd == 1)	/* Sunday: Monday after, or Friday before at month end */
					target = target == last ? target - 2 : target + 1;
				return d == target;
			}
		case DAY_LAST_WEEKDAY:
			{
				int			target = last;
				int			twd = weekday(y, m, last);

				if (twd == 7)
					target = last - 1;
				else if (twd == 1)
					target = last - 2;
				return d == target;
			}
		case DAY_ANY:
			break;
		default:
			return false;
	}
	switch (c->dow_kind)
	{
		case DAY_SET:
			return (c->dow >> wd) & 1;
		case DAY_LAST:
			return wd == 7;
		case DAY_LAST_OF_WEEKDAY:
			return wd == c->dow_arg && d + 7 > last;
		case DAY_NTH_WEEKDAY:
			return wd == c->dow_arg && (d - 1) / 7 + 1 == c->dow_nth;
		default:
			return false;
	}
}

/*
 * The first wall-clock minute at or after *from that the cron spec
 * matches, into *out; false if there is none before YEAR_MAX ends.
 */
static bool
next_wall(CronSpec *c, struct pg_tm *from, struct pg_tm *out)
{
	int			y = from->tm_year,
				m = from->tm_mon,
				d = from->tm_mday,
				h = from->tm_hour,
				mi = from->tm_min;

	for (; y <= YEAR_MAX; y++, m = 1, d = 1, h = 0, mi = 0)
	{
		if (y < YEAR_MIN || !((c->years[(y - YEAR_MIN) / 8] >> ((y - YEAR_MIN) % 8)) & 1))
			continue;
		for (; m <= 12; m++, d = 1, h = 0, mi = 0)
		{
			if (!((c->months >> m) & 1))
				continue;
			for (; d <= days_in_month(y, m); d++, h = 0, mi = 0)
			{
				if (!day_matches(c, y, m, d))
					continue;
				for (; h < 24; h++, mi = 0)
				{
					if (!((c->hours >> h) & 1))
						continue;
					for (; mi < 60; mi++)
					{
						if ((c->minutes >> mi) & 1)
						{
							memset(out, 0, sizeof(*out));
							out->tm_year = y;
							out->tm_mon = m;
							out->tm_mday = d;
							out->tm_hour = h;
							out->tm_min = mi;
							return true;
						}
					}
				}
			}
		}
	}
	return false;
}

/*
 * The first firing strictly after "after"; DT_NOEND if there is none.  A
 * cron schedule is read in time zone "tz" (NULL: UTC): a wall-clock time
 * that a daylight-saving change skips does not fire, and one it repeats
 * fires once, at its standard-time occurrence (PostgreSQL's reading of an
 * ambiguous local time).
 */
static TimestampTz
next_firing(Schedule *s, TimestampTz after, TimestampTz anchor, pg_tz *tz)
{
	struct pg_tm tm;
	fsec_t		fsec;
	int			tzoff;

	if (s->is_rate)
	{
		int64		k;

		if (after < anchor)
			return anchor + s->period;
		k = (after - anchor) / s->period + 1;
		return anchor + k * s->period;
	}
	/* from the next whole minute */
	after = after - after % USECS_PER_MINUTE + USECS_PER_MINUTE;
	if (timestamp2tm(after, tz ? &tzoff : NULL, &tm, &fsec, NULL, tz) != 0)
		return DT_NOEND;
	tm.tm_sec = 0;
	for (int tries = 0; tries < 100000; tries++)
	{
		struct pg_tm found;
		struct pg_tm back;
		TimestampTz result;
		Timestamp	naive;
		int			off = 0;

		if (!next_wall(&s->cron, &tm, &found))
			return DT_NOEND;
		if (tz)
			off = DetermineTimeZoneOffset(&found, tz);
		if (tm2timestamp(&found, 0, tz ? &off : NULL, &result) != 0)
			return DT_NOEND;
		if (result >= after &&
			(tz == NULL ||
			 (timestamp2tm(result, &tzoff, &back, &fsec, NULL, tz) == 0 &&
			  back.tm_hour == found.tm_hour && back.tm_min == found.tm_min && back.tm_mday == found.tm_mday)))
			return result;
		/* skipped by a daylight-saving change (or before "after"): the next minute on */
		if (tm2timestamp(&found, 0, NULL, &naive) != 0 ||
			timestamp2tm(naive + USECS_PER_MINUTE, NULL, &tm, &fsec, NULL, NULL) != 0)
			return DT_NOEND;
	}
	return DT_NOEND;
}

/* A time zone name, checked: NULL or "UTC" means UTC. */
static pg_tz *
schedule_tz(const char *name)
{
	pg_tz	   *tz;

	if (name == NULL || strcmp(name, "UTC") == 0)
		return NULL;
	tz = pg_tzset(name);
	if (tz == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid \"schedule_timezone\": \"%s\" is not a time zone", name),
				 errhint("Use an IANA time zone name such as Europe/Paris or America/New_York.")));
	return tz;
}

void
bus_check_timezone(const char *name)
{
	(void) schedule_tz(name);
}

/* ---- firing ---- */

/*
 * Schedule the next firing of a rule (after put_rule or enable_rule drew
 * its token).  SPI connected, as the extension owner.
 */
void
bus_schedule_rule(const char *bus, const char *rule, const char *schedule, const char *timezone,
				  const char *token, Oid owner, TimestampTz after, TimestampTz anchor)
{
	Schedule	s;
	TimestampTz next;
	JsonbParseState *st = NULL;

	parse_schedule(schedule, &s);
	next = next_firing(&s, after, anchor, schedule_tz(timezone));
	if (next == DT_NOEND)
		return;					/* accepted, never fires */
	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	outbox_jsonb_push_string(&st, "bus", bus);
	outbox_jsonb_push_string(&st, "rule", rule);
	outbox_jsonb_push_string(&st, "token", token);
	outbox_jsonb_push_string(&st, "schedule", schedule);
	if (timezone)
		outbox_jsonb_push_string(&st, "timezone", timezone);
	outbox_jsonb_push_string(&st, "anchor", DatumGetCString(DirectFunctionCall1(timestamptz_out,
																			 TimestampTzGetDatum(anchor))));
	(void) outbox_due_schedule("schedule", next, owner, InvalidOid,
							   JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL)));
}

static void
run_firing(OutboxDueItem *item)
{
	Jsonb	   *payload = (Jsonb *) item->payload;
	char	   *bus = outbox_jsonb_get_string(&payload->root, "bus");
	char	   *rule = outbox_jsonb_get_string(&payload->root, "rule");
	char	   *token = outbox_jsonb_get_string(&payload->root, "token");
	char	   *schedule = outbox_jsonb_get_string(&payload->root, "schedule");
	char	   *anchor_text = outbox_jsonb_get_string(&payload->root, "anchor");
	char	   *timezone = outbox_jsonb_get_string(&payload->root, "timezone");
	OutboxUserSwitch sw;
	BusInfo    *b;
	RuleInfo   *r;

	outbox_due_finish(item);
	if (!bus || !rule || !token || !schedule || !anchor_text)
		return;
	outbox_become_owner(&sw);
	SPI_connect();
	b = bus_lookup(bus, true);
	r = b ? bus_find_rule(b, rule) : NULL;
	if (r && r->enabled && r->schedule && r->schedule_token &&
		strcmp(r->schedule_token, token) == 0 && strcmp(r->schedule, schedule) == 0 &&
		(timezone == NULL) == (r->schedule_timezone == NULL) &&
		(timezone == NULL || strcmp(timezone, r->schedule_timezone) == 0))
	{
		TimestampTz now = outbox_now();
		TimestampTz anchor = DatumGetTimestampTz(DirectFunctionCall3(timestamptz_in,
																	 CStringGetDatum(anchor_text),
																	 ObjectIdGetDatum(InvalidOid),
																	 Int32GetDatum(-1)));
		char	   *id = DatumGetCString(DirectFunctionCall1(uuid_out, DirectFunctionCall1(gen_random_uuid, (Datum) 0)));
		char	   *text;
		BusEvent	e;

		memset(&e, 0, sizeof(e));
		/* the scheduled event, as EventBridge sends it */
		text = psprintf("{\"version\": \"0\", \"id\": \"%s\", \"detail-type\": \"Scheduled Event\","
						" \"source\": \"aws.events\", \"account\": \"%s\", \"time\": \"%s\", \"region\": \"%s\","
						" \"resources\": [\"%s\"], \"detail\": {}}",
						id, outbox_account_id, bus_iso_seconds(now),
						outbox_region, r->arn);
		e.event = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(text)));
		e.id = id;
		e.ingestion = now;
		e.hops = 0;
		bus_deliver_rule(b, r, &e);
		/* the next one: missed slots are not made up */
		bus_schedule_rule(bus, rule, schedule, r->schedule_timezone, token, item->run_as, now, anchor);
	}
	SPI_finish();
	outbox_restore_user(&sw);
}

void
bus_schedule_init(void)
{
	outbox_due_register("schedule", run_firing);
}

/* outbox.next_firings(expression, after, count): for testing schedules */
PG_FUNCTION_INFO_V1(outbox_next_firings);
Datum
outbox_next_firings(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *expr = outbox_arg_text(fcinfo, 0, "schedule_expression");
	TimestampTz after;
	int			count;
	Schedule	s;
	pg_tz	   *tz = schedule_tz(PG_ARGISNULL(3) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(3)));

	outbox_arg_not_null(fcinfo, 1, "after");
	outbox_arg_not_null(fcinfo, 2, "count");
	after = PG_GETARG_TIMESTAMPTZ(1);
	count = PG_GETARG_INT32(2);
	if (count < 1 || count > 1000)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid \"count\": %d is out of range (1 to 1000)", count)));
	parse_schedule(expr, &s);
	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	for (int i = 0; i < count; i++)
	{
		Datum		v;
		bool		null = false;

		after = next_firing(&s, after, PG_GETARG_TIMESTAMPTZ(1), tz);
		if (after == DT_NOEND)
			break;
		v = TimestampTzGetDatum(after);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &v, &null);
	}
	return (Datum) 0;
}
