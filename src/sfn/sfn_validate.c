/*-------------------------------------------------------------------------
 *
 * sfn_validate.c
 *	  Validation of Amazon States Language definitions (JSONPath mode):
 *	  every structural rule, each problem reported with its location.
 *
 * A definition is walked once, scope by scope (the top level, each Parallel
 * branch, each Map processor).  Per scope: StartAt names a state of the
 * scope; every Next, Default and Catch Next names a state of the same
 * scope; every state is reachable from StartAt; some terminal state is
 * reachable.  Per state: the fields its Type allows (unknown fields are
 * errors, as AWS has it), Next or End (not both), Retry and Catch rules
 * (States.ALL alone and last), timeouts, Wait's one duration, Choice
 * rules (a Next on top-level rules only, one comparison per data test),
 * Fail's Error/Cause pairs, path syntax (reference paths where a single
 * node is required) and Parameters-style templates (".$" keys hold a path
 * or an intrinsic function).  State names are unique machine-wide.
 *
 * Diagnostics are (severity, code, message, location) with a JSON-pointer
 * location such as /States/Check/Choices/0/Next, as
 * ValidateStateMachineDefinition reports them.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/sfn/sfn_validate.c
 *
 *-------------------------------------------------------------------------
 */
#include "pg_outbox.h"

#include "funcapi.h"
#include "lib/stringinfo.h"
#include "nodes/pg_list.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/tuplestore.h"

#include "core/jsonb_util.h"
#include "core/security.h"
#include "sfn/sfn.h"
#include "sfn/sfn_exec.h"

typedef struct Validator
{
	List	   *diagnostics;	/* of SfnDiagnostic * */
	List	   *all_names;		/* every state name seen, machine-wide */
} Validator;

static const char *const comparison_ops[] = {
	"BooleanEquals", "BooleanEqualsPath", "IsBoolean", "IsNull", "IsNumeric", "IsPresent",
	"IsString", "IsTimestamp", "NumericEquals", "NumericEqualsPath", "NumericGreaterThan",
	"NumericGreaterThanPath", "NumericGreaterThanEquals", "NumericGreaterThanEqualsPath",
	"NumericLessThan", "NumericLessThanPath", "NumericLessThanEquals", "NumericLessThanEqualsPath",
	"StringEquals", "StringEqualsPath", "StringGreaterThan", "StringGreaterThanPath",
	"StringGreaterThanEquals", "StringGreaterThanEqualsPath", "StringLessThan", "StringLessThanPath",
	"StringLessThanEquals", "StringLessThanEqualsPath", "StringMatches", "TimestampEquals",
	"TimestampEqualsPath", "TimestampGreaterThan", "TimestampGreaterThanPath",
	"TimestampGreaterThanEquals", "TimestampGreaterThanEqualsPath", "TimestampLessThan",
	"TimestampLessThanPath", "TimestampLessThanEquals", "TimestampLessThanEqualsPath", NULL
};

static void
report(Validator *v, const char *code, const char *location, const char *fmt,...) pg_attribute_printf(4, 5);

static void
report(Validator *v, const char *code, const char *location, const char *fmt,...)
{
	SfnDiagnostic *d = palloc(sizeof(SfnDiagnostic));
	StringInfoData buf;
	va_list		args;

	initStringInfo(&buf);
	for (;;)
	{
		int			needed;

		va_start(args, fmt);
		needed = appendStringInfoVA(&buf, fmt, args);
		va_end(args);
		if (needed == 0)
			break;
		enlargeStringInfo(&buf, needed);
	}
	d->severity = "ERROR";
	d->code = code;
	d->message = buf.data;
	d->location = pstrdup(location);
	v->diagnostics = lappend(v->diagnostics, d);
}

static const char *
at(const char *base, const char *key)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoString(&buf, base);
	appendStringInfoChar(&buf, '/');
	/* JSON pointer escaping: ~ as ~0, / as ~1 */
	for (const char *p = key; *p; p++)
	{
		if (*p == '~')
			appendStringInfoString(&buf, "~0");
		else if (*p == '/')
			appendStringInfoString(&buf, "~1");
		else
			appendStringInfoChar(&buf, *p);
	}
	return buf.data;
}

static const char *
at_index(const char *base, int i)
{
	return psprintf("%s/%d", base, i);
}

static bool
is_object(JsonbValue *v)
{
	return v && v->type == jbvBinary && JsonContainerIsObject(v->val.binary.data);
}

static bool
is_array(JsonbValue *v)
{
	return v && v->type == jbvBinary && JsonContainerIsArray(v->val.binary.data);
}

static char *
string_of(JsonbValue *v)
{
	return v && v->type == jbvString ? pnstrdup(v->val.string.val, v->val.string.len) : NULL;
}

/* A non-negative (or positive) whole number that fits an int. */
static bool
whole_number(JsonbValue *v, int64 min, int64 *out)
{
	char	   *s;
	char	   *end;
	long long	n;

	if (v == NULL || v->type != jbvNumeric)
		return false;
	s = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(v->val.numeric)));
	n = strtoll(s, &end, 10);
	if (*end != '\0' || n < min || n > PG_INT32_MAX)
		return false;
	if (out)
		*out = n;
	return true;
}

/* ---- paths ---- */

/*
 * A JSONPath of the ASL: "$" or "$$" then .name, ['name'], [n], and (not
 * in a reference path) [*], .*, .., [a:b], [?(...)].  Variables ($name)
 * count as paths too.
 */
static bool
valid_path(const char *p, bool reference)
{
	if (p[0] != '$')
		return false;
	p++;
	if (*p == '$')
		p++;
	else if (isalpha((unsigned char) *p) || *p == '_')
	{
		while (isalnum((unsigned char) *p) || *p == '_')
			p++;
	}
	while (*p)
	{
		if (p[0] == '.' && p[1] == '.')
		{
			if (reference || p[2] == '\0' || p[2] == '.')
				return false;
			p++;				/* then read as ".name" or ".*" */
			continue;
		}
		if (*p == '.')
		{
			p++;
			if (*p == '*')
			{
				if (reference)
					return false;
				p++;
				continue;
			}
			if (*p == '\0' || *p == '.' || *p == '[')
				return false;
			while (*p && *p != '.' && *p != '[')
				p++;
			continue;
		}
		if (*p == '[')
		{
			const char *close;

			if (p[1] == '\'')
			{
				close = strstr(p + 2, "']");
				if (close == NULL)
					return false;
				p = close + 2;
				continue;
			}
			close = strchr(p, ']');
			if (close == NULL || close == p + 1)
				return false;
			for (const char *c = p + 1; c < close; c++)
				if (!isdigit((unsigned char) *c))
				{
					if (reference)
						return false;
					break;
				}
			p = close + 1;
			continue;
		}
		return false;
	}
	return true;
}

/* An intrinsic function call: States.Name( ... ) with balanced quotes and parentheses */
static bool
valid_intrinsic(const char *s)
{
	const char *p = s;
	int			depth = 0;
	bool		in_quote = false;

	if (strncmp(s, "States.", 7) != 0)
		return false;
	for (p = s; *p; p++)
	{
		if (in_quote)
		{
			if (*p == '\\' && p[1])
				p++;
			else if (*p == '\'')
				in_quote = false;
			continue;
		}
		if (*p == '\'')
			in_quote = true;
		else if (*p == '(')
			depth++;
		else if (*p == ')' && --depth < 0)
			return false;
	}
	return !in_quote && depth == 0 && s[strlen(s) - 1] == ')' && strchr(s, '(') != NULL;
}

static void
check_path_field(Validator *v, JsonbContainer *state, const char *key, const char *loc,
				 bool reference, bool nullable)
{
	JsonbValue *f = outbox_jsonb_get(state, key);
	char	   *s;

	if (f == NULL)
		return;
	if (f->type == jbvNull && nullable)
		return;
	s = string_of(f);
	if (s == NULL || !valid_path(s, reference))
		report(v, "INVALID_JSON_PATH", at(loc, key), "%s must be a valid %s%s",
			   key, reference ? "reference path (a single node: no wildcards, filters or slices)" : "JSONPath",
			   nullable ? " or null" : "");
}

/* Parameters, ResultSelector, ItemSelector: ".$" keys need a path or an intrinsic. */
static void
check_template(Validator *v, JsonbValue *t, const char *loc)
{
	JsonbIterator *it;
	JsonbValue	val;
	char	   *key;

	if (is_array(t))
	{
		for (uint32 i = 0; i < JsonContainerSize(t->val.binary.data); i++)
			check_template(v, getIthJsonbValueFromContainer(t->val.binary.data, i), at_index(loc, i));
		return;
	}
	if (!is_object(t))
		return;
	it = JsonbIteratorInit(t->val.binary.data);
	while (outbox_jsonb_next_pair(&it, &key, &val))
	{
		size_t		len = strlen(key);

		if (len > 2 && strcmp(key + len - 2, ".$") == 0)
		{
			char	   *s = string_of(&val);

			if (s == NULL || !(valid_path(s, false) || valid_intrinsic(s)))
				report(v, "INVALID_JSON_PATH", at(loc, key),
					   "the value of \"%s\" must be a path or an intrinsic function call", key);
		}
		else
		{
			JsonbValue *copy = palloc(sizeof(JsonbValue));

			*copy = val;
			check_template(v, copy, at(loc, key));
		}
	}
}

/* ---- fields ---- */

static void
check_fields(Validator *v, JsonbContainer *state, const char *loc, const char *what,
			 const char *const *allowed)
{
	JsonbIterator *it = JsonbIteratorInit(state);
	JsonbValue	val;
	char	   *key;

	while (outbox_jsonb_next_pair(&it, &key, &val))
	{
		bool		ok = false;

		for (int i = 0; allowed[i]; i++)
			ok |= strcmp(allowed[i], key) == 0;
		if (!ok)
			report(v, "SCHEMA_VALIDATION_FAILED", at(loc, key), "field \"%s\" is not allowed in %s", key, what);
	}
}

static void
check_timeouts(Validator *v, JsonbContainer *s, const char *loc)
{
	JsonbValue *t = outbox_jsonb_get(s, "TimeoutSeconds");
	JsonbValue *h = outbox_jsonb_get(s, "HeartbeatSeconds");
	int64		tv = 0,
				hv = 0;

	if (t && !whole_number(t, 1, &tv))
		report(v, "SCHEMA_VALIDATION_FAILED", at(loc, "TimeoutSeconds"), "TimeoutSeconds must be a positive integer");
	if (h && !whole_number(h, 1, &hv))
		report(v, "SCHEMA_VALIDATION_FAILED", at(loc, "HeartbeatSeconds"), "HeartbeatSeconds must be a positive integer");
	if (t && outbox_jsonb_get(s, "TimeoutSecondsPath"))
		report(v, "SCHEMA_VALIDATION_FAILED", loc, "TimeoutSeconds and TimeoutSecondsPath exclude each other");
	if (h && outbox_jsonb_get(s, "HeartbeatSecondsPath"))
		report(v, "SCHEMA_VALIDATION_FAILED", loc, "HeartbeatSeconds and HeartbeatSecondsPath exclude each other");
	if (tv > 0 && hv > 0 && hv >= tv)
		report(v, "SCHEMA_VALIDATION_FAILED", at(loc, "HeartbeatSeconds"),
			   "HeartbeatSeconds (%lld) must be smaller than TimeoutSeconds (%lld)", (long long) hv, (long long) tv);
	check_path_field(v, s, "TimeoutSecondsPath", loc, true, false);
	check_path_field(v, s, "HeartbeatSecondsPath", loc, true, false);
}

/* ErrorEquals: a non-empty array of strings; States.ALL alone.  Returns whether it holds States.ALL. */
static bool
check_error_equals(Validator *v, JsonbContainer *rule, const char *loc)
{
	JsonbValue *e = outbox_jsonb_get(rule, "ErrorEquals");
	bool		all = false;
	int			n;

	if (!is_array(e) || (n = JsonContainerSize(e->val.binary.data)) == 0)
	{
		report(v, "SCHEMA_VALIDATION_FAILED", at(loc, "ErrorEquals"), "ErrorEquals must be a non-empty array of error names");
		return false;
	}
	for (int i = 0; i < n; i++)
	{
		char	   *name = string_of(getIthJsonbValueFromContainer(e->val.binary.data, i));

		if (name == NULL)
			report(v, "SCHEMA_VALIDATION_FAILED", at_index(at(loc, "ErrorEquals"), i), "an error name must be a string");
		else if (strcmp(name, "States.ALL") == 0)
			all = true;
	}
	if (all && n > 1)
		report(v, "SCHEMA_VALIDATION_FAILED", at(loc, "ErrorEquals"), "States.ALL must appear alone in ErrorEquals");
	return all;
}

static void
check_retry(Validator *v, JsonbContainer *s, const char *loc)
{
	static const char *const keys[] = {"ErrorEquals", "IntervalSeconds", "MaxAttempts", "BackoffRate",
	"MaxDelaySeconds", "JitterStrategy", "Comment", NULL};
	JsonbValue *retry = outbox_jsonb_get(s, "Retry");
	const char *rloc = at(loc, "Retry");
	int			n;

	if (retry == NULL)
		return;
	if (!is_array(retry))
	{
		report(v, "SCHEMA_VALIDATION_FAILED", rloc, "Retry must be an array of retriers");
		return;
	}
	n = JsonContainerSize(retry->val.binary.data);
	for (int i = 0; i < n; i++)
	{
		JsonbValue *r = getIthJsonbValueFromContainer(retry->val.binary.data, i);
		const char *l = at_index(rloc, i);
		JsonbValue *f;
		char	   *js;

		if (!is_object(r))
		{
			report(v, "SCHEMA_VALIDATION_FAILED", l, "a retrier must be an object");
			continue;
		}
		check_fields(v, r->val.binary.data, l, "a retrier", keys);
		if (check_error_equals(v, r->val.binary.data, l) && i != n - 1)
			report(v, "SCHEMA_VALIDATION_FAILED", at(l, "ErrorEquals"), "a retrier with States.ALL must be the last one");
		if ((f = outbox_jsonb_get(r->val.binary.data, "IntervalSeconds")) && !whole_number(f, 1, NULL))
			report(v, "SCHEMA_VALIDATION_FAILED", at(l, "IntervalSeconds"), "IntervalSeconds must be a positive integer");
		if ((f = outbox_jsonb_get(r->val.binary.data, "MaxAttempts")) && !whole_number(f, 0, NULL))
			report(v, "SCHEMA_VALIDATION_FAILED", at(l, "MaxAttempts"), "MaxAttempts must be a non-negative integer");
		if ((f = outbox_jsonb_get(r->val.binary.data, "MaxDelaySeconds")) && !whole_number(f, 1, NULL))
			report(v, "SCHEMA_VALIDATION_FAILED", at(l, "MaxDelaySeconds"), "MaxDelaySeconds must be a positive integer");
		if ((f = outbox_jsonb_get(r->val.binary.data, "BackoffRate")) &&
			(f->type != jbvNumeric ||
			 DatumGetBool(DirectFunctionCall2(numeric_lt, NumericGetDatum(f->val.numeric),
											  DirectFunctionCall1(int4_numeric, Int32GetDatum(1))))))
			report(v, "SCHEMA_VALIDATION_FAILED", at(l, "BackoffRate"), "BackoffRate must be a number of at least 1.0");
		if ((f = outbox_jsonb_get(r->val.binary.data, "JitterStrategy")) &&
			((js = string_of(f)) == NULL || (strcmp(js, "FULL") != 0 && strcmp(js, "NONE") != 0)))
			report(v, "SCHEMA_VALIDATION_FAILED", at(l, "JitterStrategy"), "JitterStrategy must be FULL or NONE");
	}
}

/* Returns the Next targets of the catchers, for the scope's checks. */
static List *
check_catch(Validator *v, JsonbContainer *s, const char *loc)
{
	static const char *const keys[] = {"ErrorEquals", "Next", "ResultPath", "Comment", "Assign", NULL};
	JsonbValue *c = outbox_jsonb_get(s, "Catch");
	const char *cloc = at(loc, "Catch");
	List	   *targets = NIL;
	int			n;

	if (c == NULL)
		return NIL;
	if (!is_array(c))
	{
		report(v, "SCHEMA_VALIDATION_FAILED", cloc, "Catch must be an array of catchers");
		return NIL;
	}
	n = JsonContainerSize(c->val.binary.data);
	for (int i = 0; i < n; i++)
	{
		JsonbValue *r = getIthJsonbValueFromContainer(c->val.binary.data, i);
		const char *l = at_index(cloc, i);
		char	   *next;

		if (!is_object(r))
		{
			report(v, "SCHEMA_VALIDATION_FAILED", l, "a catcher must be an object");
			continue;
		}
		check_fields(v, r->val.binary.data, l, "a catcher", keys);
		if (check_error_equals(v, r->val.binary.data, l) && i != n - 1)
			report(v, "SCHEMA_VALIDATION_FAILED", at(l, "ErrorEquals"), "a catcher with States.ALL must be the last one");
		next = string_of(outbox_jsonb_get(r->val.binary.data, "Next"));
		if (next == NULL)
			report(v, "SCHEMA_VALIDATION_FAILED", at(l, "Next"), "a catcher needs a Next state");
		else
			targets = lappend(targets, list_make2(next, (void *) at(l, "Next")));
		check_path_field(v, r->val.binary.data, "ResultPath", l, true, true);
	}
	return targets;
}

static bool
is_comparison(const char *key)
{
	for (int i = 0; comparison_ops[i]; i++)
		if (strcmp(comparison_ops[i], key) == 0)
			return true;
	return false;
}

static void
check_choice_rule(Validator *v, JsonbValue *rule, const char *loc, bool top)
{
	JsonbContainer *r;
	JsonbIterator *it;
	JsonbValue	val;
	char	   *key;
	int			comparisons = 0;
	bool		logical = false;

	if (!is_object(rule))
	{
		report(v, "SCHEMA_VALIDATION_FAILED", loc, "a choice rule must be an object");
		return;
	}
	r = rule->val.binary.data;
	if (top && outbox_jsonb_get(r, "Next") == NULL)
		report(v, "SCHEMA_VALIDATION_FAILED", at(loc, "Next"), "a top-level choice rule needs a Next state");
	if (!top && outbox_jsonb_get(r, "Next"))
		report(v, "SCHEMA_VALIDATION_FAILED", at(loc, "Next"), "a nested choice rule must not have a Next");
	it = JsonbIteratorInit(r);
	while (outbox_jsonb_next_pair(&it, &key, &val))
	{
		if (strcmp(key, "And") == 0 || strcmp(key, "Or") == 0)
		{
			logical = true;
			if (!is_array(&val) || JsonContainerSize(val.val.binary.data) == 0)
			{
				report(v, "SCHEMA_VALIDATION_FAILED", at(loc, key), "%s must be a non-empty array of rules", key);
				continue;
			}
			for (uint32 i = 0; i < JsonContainerSize(val.val.binary.data); i++)
				check_choice_rule(v, getIthJsonbValueFromContainer(val.val.binary.data, i),
								  at_index(at(loc, key), i), false);
		}
		else if (strcmp(key, "Not") == 0)
		{
			JsonbValue *copy = palloc(sizeof(JsonbValue));

			logical = true;
			*copy = val;
			check_choice_rule(v, copy, at(loc, key), false);
		}
		else if (is_comparison(key))
		{
			size_t		len = strlen(key);

			comparisons++;
			if (len > 4 && strcmp(key + len - 4, "Path") == 0)
			{
				char	   *s = string_of(&val);

				if (s == NULL || !valid_path(s, true))
					report(v, "INVALID_JSON_PATH", at(loc, key), "%s must be a reference path", key);
			}
		}
		else if (strcmp(key, "Assign") == 0 && !top)
			report(v, "SCHEMA_VALIDATION_FAILED", at(loc, key), "only a top-level choice rule may have Assign");
		else if (strcmp(key, "Variable") != 0 && strcmp(key, "Next") != 0 && strcmp(key, "Comment") != 0 &&
				 strcmp(key, "Assign") != 0)
			report(v, "SCHEMA_VALIDATION_FAILED", at(loc, key), "field \"%s\" is not allowed in a choice rule", key);
	}
	if (logical && (comparisons > 0 || outbox_jsonb_get(r, "Variable")))
		report(v, "SCHEMA_VALIDATION_FAILED", loc, "a choice rule is either And/Or/Not or a comparison, not both");
	else if (!logical)
	{
		if (outbox_jsonb_get(r, "Variable") == NULL)
			report(v, "SCHEMA_VALIDATION_FAILED", at(loc, "Variable"), "a comparison needs a Variable");
		else
			check_path_field(v, r, "Variable", loc, true, false);
		if (comparisons != 1)
			report(v, "SCHEMA_VALIDATION_FAILED", loc, "a comparison needs exactly one comparison operator, found %d",
				   comparisons);
	}
}

/* ---- scopes ---- */

typedef struct ScopeState
{
	char	   *name;
	List	   *nexts;			/* of list_make2(name, location) */
	bool		terminal;
	bool		reached;
} ScopeState;

static void check_scope(Validator *v, JsonbContainer *scope, const char *loc);

static void
add_next(ScopeState *st, JsonbContainer *s, const char *key, const char *loc)
{
	char	   *n = string_of(outbox_jsonb_get(s, key));

	if (n)
		st->nexts = lappend(st->nexts, list_make2(n, (void *) at(loc, key)));
}

static void
check_state(Validator *v, ScopeState *st, JsonbContainer *s, const char *loc)
{
	static const char *const common[] = {"Type", "Comment", NULL};
	static const char *const task_f[] = {"Type", "Comment", "Next", "End", "InputPath", "OutputPath", "Parameters",
		"ResultSelector", "ResultPath", "Retry", "Catch", "Resource", "TimeoutSeconds", "TimeoutSecondsPath",
	"HeartbeatSeconds", "HeartbeatSecondsPath", "Credentials", "Assign", NULL};
	static const char *const pass_f[] = {"Type", "Comment", "Next", "End", "InputPath", "OutputPath", "Parameters",
	"Result", "ResultPath", "Assign", NULL};
	static const char *const choice_f[] = {"Type", "Comment", "InputPath", "OutputPath", "Choices", "Default", "Assign", NULL};
	static const char *const wait_f[] = {"Type", "Comment", "Next", "End", "InputPath", "OutputPath", "Seconds",
	"Timestamp", "SecondsPath", "TimestampPath", "Assign", NULL};
	static const char *const succeed_f[] = {"Type", "Comment", "InputPath", "OutputPath", NULL};
	static const char *const fail_f[] = {"Type", "Comment", "Error", "ErrorPath", "Cause", "CausePath", NULL};
	static const char *const parallel_f[] = {"Type", "Comment", "Next", "End", "InputPath", "OutputPath", "Parameters",
	"ResultSelector", "ResultPath", "Retry", "Catch", "Branches", "Assign", NULL};
	static const char *const map_f[] = {"Type", "Comment", "Next", "End", "InputPath", "OutputPath", "Parameters",
		"ItemSelector", "ResultSelector", "ResultPath", "Retry", "Catch", "ItemsPath", "ItemProcessor", "Iterator",
		"MaxConcurrency", "MaxConcurrencyPath", "ToleratedFailureCount", "ToleratedFailurePercentage",
	"ToleratedFailureCountPath", "ToleratedFailurePercentagePath", "ItemBatcher", "Label", "Assign", NULL};
	char	   *type = string_of(outbox_jsonb_get(s, "Type"));
	bool		has_next = outbox_jsonb_get(s, "Next") != NULL;
	JsonbValue *end = outbox_jsonb_get(s, "End");
	bool		flows;
	List	   *catches = NIL;
	ListCell   *lc;

	(void) common;
	if (type == NULL)
	{
		report(v, "SCHEMA_VALIDATION_FAILED", at(loc, "Type"), "a state needs a Type");
		return;
	}
	flows = strcmp(type, "Task") == 0 || strcmp(type, "Pass") == 0 || strcmp(type, "Wait") == 0 ||
		strcmp(type, "Parallel") == 0 || strcmp(type, "Map") == 0;
	if (strcmp(type, "Task") == 0)
		check_fields(v, s, loc, psprintf("a %s state", type), task_f);
	else if (strcmp(type, "Pass") == 0)
		check_fields(v, s, loc, psprintf("a %s state", type), pass_f);
	else if (strcmp(type, "Choice") == 0)
		check_fields(v, s, loc, psprintf("a %s state", type), choice_f);
	else if (strcmp(type, "Wait") == 0)
		check_fields(v, s, loc, psprintf("a %s state", type), wait_f);
	else if (strcmp(type, "Succeed") == 0)
		check_fields(v, s, loc, psprintf("a %s state", type), succeed_f);
	else if (strcmp(type, "Fail") == 0)
		check_fields(v, s, loc, psprintf("a %s state", type), fail_f);
	else if (strcmp(type, "Parallel") == 0)
		check_fields(v, s, loc, psprintf("a %s state", type), parallel_f);
	else if (strcmp(type, "Map") == 0)
		check_fields(v, s, loc, psprintf("a %s state", type), map_f);
	else
	{
		report(v, "SCHEMA_VALIDATION_FAILED", at(loc, "Type"),
			   "\"%s\" is not a state type (Task, Pass, Choice, Wait, Succeed, Fail, Parallel, Map)", type);
		return;
	}

	if (flows)
	{
		bool		is_end = end && end->type == jbvBool && end->val.boolean;

		if (end && end->type != jbvBool)
			report(v, "SCHEMA_VALIDATION_FAILED", at(loc, "End"), "End must be true or false");
		if (has_next && is_end)
			report(v, "SCHEMA_VALIDATION_FAILED", loc, "a state has either Next or \"End\": true, not both");
		else if (!has_next && !is_end)
			report(v, "SCHEMA_VALIDATION_FAILED", loc, "a %s state needs Next or \"End\": true", type);
		if (has_next && string_of(outbox_jsonb_get(s, "Next")) == NULL)
			report(v, "SCHEMA_VALIDATION_FAILED", at(loc, "Next"), "Next must be a state name");
		add_next(st, s, "Next", loc);
		st->terminal = is_end;
	}
	check_path_field(v, s, "InputPath", loc, false, true);
	check_path_field(v, s, "OutputPath", loc, false, true);
	check_path_field(v, s, "ResultPath", loc, true, true);
	if (outbox_jsonb_get(s, "Parameters"))
		check_template(v, outbox_jsonb_get(s, "Parameters"), at(loc, "Parameters"));
	if (outbox_jsonb_get(s, "ResultSelector"))
		check_template(v, outbox_jsonb_get(s, "ResultSelector"), at(loc, "ResultSelector"));
	if (outbox_jsonb_get(s, "ItemSelector"))
		check_template(v, outbox_jsonb_get(s, "ItemSelector"), at(loc, "ItemSelector"));

	if (strcmp(type, "Task") == 0 || strcmp(type, "Parallel") == 0 || strcmp(type, "Map") == 0)
	{
		check_retry(v, s, loc);
		catches = check_catch(v, s, loc);
		foreach(lc, catches)
			st->nexts = lappend(st->nexts, lfirst(lc));
	}

	if (strcmp(type, "Task") == 0)
	{
		char	   *resource = string_of(outbox_jsonb_get(s, "Resource"));

		if (resource == NULL || *resource == '\0')
			report(v, "SCHEMA_VALIDATION_FAILED", at(loc, "Resource"), "a Task state needs a Resource");
		else
		{
			SfnTaskCall call;

			memset(&call, 0, sizeof(call));
			if (!sfn_task_describe(resource, &call))
				report(v, "UNSUPPORTED_FEATURE", at(loc, "Resource"),
					   "resource \"%s\" is not supported", resource);
		}
		check_timeouts(v, s, loc);
		if (resource && strstr(resource, ".waitForTaskToken"))
		{
			JsonbValue *params = outbox_jsonb_get(s, "Parameters");
			Jsonb	   *pj = params ? JsonbValueToJsonb(params) : NULL;

			if (pj == NULL || strstr(JsonbToCString(NULL, &pj->root, VARSIZE(pj)), "$$.Task.Token") == NULL)
				report(v, "SCHEMA_VALIDATION_FAILED", at(loc, "Parameters"),
					   "a .waitForTaskToken task must pass $$.Task.Token in its Parameters");
		}
	}
	else if (strcmp(type, "Wait") == 0)
	{
		int			n = (outbox_jsonb_get(s, "Seconds") != NULL) + (outbox_jsonb_get(s, "Timestamp") != NULL) +
			(outbox_jsonb_get(s, "SecondsPath") != NULL) + (outbox_jsonb_get(s, "TimestampPath") != NULL);

		if (n != 1)
			report(v, "SCHEMA_VALIDATION_FAILED", loc,
				   "a Wait state needs exactly one of Seconds, Timestamp, SecondsPath and TimestampPath");
		if (outbox_jsonb_get(s, "Seconds") && !whole_number(outbox_jsonb_get(s, "Seconds"), 0, NULL))
			report(v, "SCHEMA_VALIDATION_FAILED", at(loc, "Seconds"), "Seconds must be a non-negative integer");
		if (outbox_jsonb_get(s, "Timestamp") && string_of(outbox_jsonb_get(s, "Timestamp")) == NULL)
			report(v, "SCHEMA_VALIDATION_FAILED", at(loc, "Timestamp"), "Timestamp must be an ISO 8601 string");
		check_path_field(v, s, "SecondsPath", loc, true, false);
		check_path_field(v, s, "TimestampPath", loc, true, false);
	}
	else if (strcmp(type, "Choice") == 0)
	{
		JsonbValue *choices = outbox_jsonb_get(s, "Choices");

		if (!is_array(choices) || JsonContainerSize(choices->val.binary.data) == 0)
			report(v, "SCHEMA_VALIDATION_FAILED", at(loc, "Choices"), "a Choice state needs a non-empty Choices array");
		else
		{
			for (uint32 i = 0; i < JsonContainerSize(choices->val.binary.data); i++)
			{
				JsonbValue *rule = getIthJsonbValueFromContainer(choices->val.binary.data, i);
				const char *rl = at_index(at(loc, "Choices"), i);

				check_choice_rule(v, rule, rl, true);
				if (is_object(rule))
					add_next(st, rule->val.binary.data, "Next", rl);
			}
		}
		add_next(st, s, "Default", loc);
	}
	else if (strcmp(type, "Succeed") == 0)
		st->terminal = true;
	else if (strcmp(type, "Fail") == 0)
	{
		st->terminal = true;
		if (outbox_jsonb_get(s, "Error") && outbox_jsonb_get(s, "ErrorPath"))
			report(v, "SCHEMA_VALIDATION_FAILED", loc, "Error and ErrorPath exclude each other");
		if (outbox_jsonb_get(s, "Cause") && outbox_jsonb_get(s, "CausePath"))
			report(v, "SCHEMA_VALIDATION_FAILED", loc, "Cause and CausePath exclude each other");
		check_path_field(v, s, "ErrorPath", loc, false, false);
		check_path_field(v, s, "CausePath", loc, false, false);
	}
	else if (strcmp(type, "Parallel") == 0)
	{
		JsonbValue *branches = outbox_jsonb_get(s, "Branches");

		if (!is_array(branches) || JsonContainerSize(branches->val.binary.data) == 0)
			report(v, "SCHEMA_VALIDATION_FAILED", at(loc, "Branches"), "a Parallel state needs a non-empty Branches array");
		else
			for (uint32 i = 0; i < JsonContainerSize(branches->val.binary.data); i++)
			{
				JsonbValue *b = getIthJsonbValueFromContainer(branches->val.binary.data, i);

				if (!is_object(b))
					report(v, "SCHEMA_VALIDATION_FAILED", at_index(at(loc, "Branches"), i), "a branch must be an object");
				else
					check_scope(v, b->val.binary.data, at_index(at(loc, "Branches"), i));
			}
	}
	else if (strcmp(type, "Map") == 0)
	{
		JsonbValue *proc = outbox_jsonb_get(s, "ItemProcessor");
		JsonbValue *iter = outbox_jsonb_get(s, "Iterator");
		JsonbValue *mc = outbox_jsonb_get(s, "MaxConcurrency");

		if ((proc != NULL) == (iter != NULL))
			report(v, "SCHEMA_VALIDATION_FAILED", loc, "a Map state needs exactly one of ItemProcessor and Iterator");
		else if (!is_object(proc ? proc : iter))
			report(v, "SCHEMA_VALIDATION_FAILED", at(loc, proc ? "ItemProcessor" : "Iterator"), "expected an object");
		else
			check_scope(v, (proc ? proc : iter)->val.binary.data, at(loc, proc ? "ItemProcessor" : "Iterator"));
		if (outbox_jsonb_get(s, "Parameters") && outbox_jsonb_get(s, "ItemSelector"))
			report(v, "SCHEMA_VALIDATION_FAILED", loc, "Parameters and ItemSelector exclude each other");
		if (mc && !whole_number(mc, 0, NULL))
			report(v, "SCHEMA_VALIDATION_FAILED", at(loc, "MaxConcurrency"), "MaxConcurrency must be a non-negative integer");
		if (mc && outbox_jsonb_get(s, "MaxConcurrencyPath"))
			report(v, "SCHEMA_VALIDATION_FAILED", loc, "MaxConcurrency and MaxConcurrencyPath exclude each other");
		check_path_field(v, s, "ItemsPath", loc, true, false);
		check_path_field(v, s, "MaxConcurrencyPath", loc, true, false);
	}
}

static ScopeState *
find_state(ScopeState *states, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(states[i].name, name) == 0)
			return &states[i];
	return NULL;
}

static void
reach(ScopeState *states, int n, ScopeState *s)
{
	ListCell   *lc;

	if (s == NULL || s->reached)
		return;
	s->reached = true;
	foreach(lc, s->nexts)
		reach(states, n, find_state(states, n, linitial((List *) lfirst(lc))));
}

static void
check_scope(Validator *v, JsonbContainer *scope, const char *loc)
{
	static const char *const scope_keys[] = {"StartAt", "States", "Comment", "Version", "TimeoutSeconds",
	"QueryLanguage", "ProcessorConfig", NULL};
	char	   *start = string_of(outbox_jsonb_get(scope, "StartAt"));
	JsonbValue *states = outbox_jsonb_get(scope, "States");
	JsonbIterator *it;
	JsonbValue	val;
	char	   *key;
	ScopeState *st;
	int			n = 0;
	bool		any_terminal = false;
	const char *sloc = at(loc, "States");

	check_fields(v, scope, loc, *loc ? "a branch or processor" : "the state machine", scope_keys);
	if (is_object(outbox_jsonb_get(scope, "ProcessorConfig")))
	{
		char	   *mode = string_of(outbox_jsonb_get(outbox_jsonb_get(scope, "ProcessorConfig")->val.binary.data, "Mode"));

		if (mode && strcmp(mode, "INLINE") != 0)
			report(v, "UNSUPPORTED_FEATURE", at(at(loc, "ProcessorConfig"), "Mode"),
				   "only INLINE Map processors are supported");
	}
	if (start == NULL)
		report(v, "SCHEMA_VALIDATION_FAILED", at(loc, "StartAt"), "StartAt must name the first state");
	if (!is_object(states) || JsonContainerSize(states->val.binary.data) == 0)
	{
		report(v, "SCHEMA_VALIDATION_FAILED", sloc, "States must be a non-empty object of states");
		return;
	}
	st = palloc0(sizeof(ScopeState) * JsonContainerSize(states->val.binary.data));
	it = JsonbIteratorInit(states->val.binary.data);
	while (outbox_jsonb_next_pair(&it, &key, &val))
	{
		const char *l = at(sloc, key);
		ListCell   *lc;

		if (strlen(key) == 0 || strlen(key) > 80)
			report(v, "SCHEMA_VALIDATION_FAILED", l, "a state name has 1 to 80 characters");
		foreach(lc, v->all_names)
			if (strcmp((char *) lfirst(lc), key) == 0)
				report(v, "SCHEMA_VALIDATION_FAILED", l, "state name \"%s\" is used twice in the state machine", key);
		v->all_names = lappend(v->all_names, key);
		st[n].name = key;
		if (!is_object(&val))
			report(v, "SCHEMA_VALIDATION_FAILED", l, "a state must be an object");
		else
			check_state(v, &st[n], val.val.binary.data, l);
		n++;
	}

	/* transitions stay in the scope */
	for (int i = 0; i < n; i++)
	{
		ListCell   *lc;

		foreach(lc, st[i].nexts)
		{
			List	   *t = lfirst(lc);

			if (find_state(st, n, linitial(t)) == NULL)
				report(v, "MISSING_TRANSITION_TARGET", lsecond(t), "state \"%s\" does not exist in this scope",
					   (char *) linitial(t));
		}
	}
	if (start && find_state(st, n, start) == NULL)
		report(v, "MISSING_TRANSITION_TARGET", at(loc, "StartAt"), "StartAt names state \"%s\", which does not exist in this scope",
			   start);
	else if (start)
	{
		reach(st, n, find_state(st, n, start));
		for (int i = 0; i < n; i++)
		{
			if (!st[i].reached)
				report(v, "UNREACHABLE_STATE", at(sloc, st[i].name), "state \"%s\" cannot be reached from StartAt",
					   st[i].name);
			else if (st[i].terminal)
				any_terminal = true;
		}
		if (!any_terminal)
			report(v, "NO_TERMINAL_STATE", loc[0] ? loc : "/", "no terminal state (End, Succeed or Fail) can be reached");
	}
}

/* Validate a definition; the diagnostics in document order. */
List *
sfn_validate_definition(Jsonb *definition)
{
	Validator	v;
	JsonbValue *f;

	memset(&v, 0, sizeof(v));
	if (!JB_ROOT_IS_OBJECT(definition) || JB_ROOT_IS_SCALAR(definition))
	{
		report(&v, "SCHEMA_VALIDATION_FAILED", "/", "a definition must be a JSON object");
		return v.diagnostics;
	}
	if ((f = outbox_jsonb_get(&definition->root, "Version")) && !(string_of(f) && strcmp(string_of(f), "1.0") == 0))
		report(&v, "SCHEMA_VALIDATION_FAILED", "/Version", "Version must be \"1.0\"");
	if ((f = outbox_jsonb_get(&definition->root, "TimeoutSeconds")) && !whole_number(f, 1, NULL))
		report(&v, "SCHEMA_VALIDATION_FAILED", "/TimeoutSeconds", "TimeoutSeconds must be a positive integer");
	if ((f = outbox_jsonb_get(&definition->root, "QueryLanguage")))
	{
		char	   *ql = string_of(f);

		if (ql && strcmp(ql, "JSONata") == 0)
			report(&v, "UNSUPPORTED_FEATURE", "/QueryLanguage", "the JSONata query language is not supported yet");
		else if (ql == NULL || strcmp(ql, "JSONPath") != 0)
			report(&v, "SCHEMA_VALIDATION_FAILED", "/QueryLanguage", "QueryLanguage must be JSONPath or JSONata");
	}
	check_scope(&v, &definition->root, "");
	return v.diagnostics;
}

PG_FUNCTION_INFO_V1(outbox_validate_state_machine_definition);
Datum
outbox_validate_state_machine_definition(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Jsonb	   *definition;
	List	   *diags;
	ListCell   *lc;

	outbox_arg_not_null(fcinfo, 0, "definition");
	definition = PG_GETARG_JSONB_P(0);
	InitMaterializedSRF(fcinfo, 0);
	diags = sfn_validate_definition(definition);
	foreach(lc, diags)
	{
		SfnDiagnostic *d = lfirst(lc);
		Datum		vals[4];
		bool		nulls[4] = {false, false, false, false};

		vals[0] = CStringGetTextDatum(d->severity);
		vals[1] = CStringGetTextDatum(d->code);
		vals[2] = CStringGetTextDatum(d->message);
		vals[3] = CStringGetTextDatum(d->location);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, vals, nulls);
	}
	return (Datum) 0;
}
