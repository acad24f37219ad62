/*-------------------------------------------------------------------------
 *
 * sfn_choice.c
 *	  Choice rules: And, Or, Not and the 39 comparison operators.
 *
 * As the States Language has it: a comparison of values of different
 * types is false (not an error); strings compare by Unicode code point
 * (byte order of UTF-8, never the database collation); numbers exactly;
 * timestamps (RFC 3339 strings) as instants, so "...T10:00:00+02:00"
 * equals "...T08:00:00Z"; StringMatches knows only "*" (any run of
 * characters), with "\*" and "\\" for the characters themselves.  A
 * Variable (or a ...Path operand) that selects nothing is States.Runtime,
 * except for IsPresent, which is what it tests.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/sfn/sfn_choice.c
 *
 *-------------------------------------------------------------------------
 */
#include "pg_outbox.h"

#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "core/clock.h"
#include "core/jsonb_util.h"
#include "core/security.h"
#include "sfn/sfn.h"

static void
runtime(const char *fmt, const char *arg)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("States.Runtime: %s", psprintf(fmt, arg))));
}

/* "*" matches any run; "\*" and "\\" are literal */
static bool
matches(const char *s, const char *p)
{
	for (; *p; p++, s++)
	{
		if (*p == '*')
		{
			for (p++; *p == '*'; p++)
				;
			if (*p == '\0')
				return true;
			for (; *s; s++)
				if (matches(s, p))
					return true;
			return false;
		}
		if (*p == '\\' && (p[1] == '*' || p[1] == '\\'))
			p++;
		if (*s != *p)
			return false;
	}
	return *s == '\0';
}

static int
compare_strings(JsonbValue *a, JsonbValue *b)
{
	int			r = memcmp(a->val.string.val, b->val.string.val, Min(a->val.string.len, b->val.string.len));

	return r != 0 ? r : a->val.string.len - b->val.string.len;
}

/* Evaluate one comparison; a and b are scalars (b may be absent for the type tests). */
static bool
compare(const char *op, JsonbValue *a, bool present, JsonbValue *b)
{
	size_t		len = strlen(op);
	char	   *base = pnstrdup(op, len > 4 && strcmp(op + len - 4, "Path") == 0 ? len - 4 : len);
	int			c;

	if (strcmp(base, "IsPresent") == 0)
		return present == (b->type == jbvBool && b->val.boolean);
	if (strncmp(base, "Is", 2) == 0)
	{
		bool		want = b->type == jbvBool && b->val.boolean;
		bool		is;

		if (strcmp(base, "IsNull") == 0)
			is = a->type == jbvNull;
		else if (strcmp(base, "IsBoolean") == 0)
			is = a->type == jbvBool;
		else if (strcmp(base, "IsNumeric") == 0)
			is = a->type == jbvNumeric;
		else if (strcmp(base, "IsString") == 0)
			is = a->type == jbvString;
		else
		{
			TimestampTz t;

			is = a->type == jbvString && outbox_parse_iso_timestamp(pnstrdup(a->val.string.val, a->val.string.len), 1, &t);
		}
		return is == want;
	}
	if (strcmp(base, "BooleanEquals") == 0)
		return a->type == jbvBool && b->type == jbvBool && a->val.boolean == b->val.boolean;
	if (strcmp(base, "StringMatches") == 0)
		return a->type == jbvString && b->type == jbvString &&
			matches(pnstrdup(a->val.string.val, a->val.string.len), pnstrdup(b->val.string.val, b->val.string.len));
	if (strncmp(base, "String", 6) == 0)
	{
		if (a->type != jbvString || b->type != jbvString)
			return false;
		c = compare_strings(a, b);
		base += 6;
	}
	else if (strncmp(base, "Numeric", 7) == 0)
	{
		if (a->type != jbvNumeric || b->type != jbvNumeric)
			return false;
		c = DatumGetInt32(DirectFunctionCall2(numeric_cmp, NumericGetDatum(a->val.numeric),
											  NumericGetDatum(b->val.numeric)));
		base += 7;
	}
	else if (strncmp(base, "Timestamp", 9) == 0)
	{
		TimestampTz ta, tb;

		if (a->type != jbvString || b->type != jbvString ||
			!outbox_parse_iso_timestamp(pnstrdup(a->val.string.val, a->val.string.len), 1, &ta) ||
			!outbox_parse_iso_timestamp(pnstrdup(b->val.string.val, b->val.string.len), 1, &tb))
			return false;
		c = ta < tb ? -1 : ta > tb ? 1 : 0;
		base += 9;
	}
	else
		return false;
	if (strcmp(base, "Equals") == 0)
		return c == 0;
	if (strcmp(base, "GreaterThan") == 0)
		return c > 0;
	if (strcmp(base, "GreaterThanEquals") == 0)
		return c >= 0;
	if (strcmp(base, "LessThan") == 0)
		return c < 0;
	if (strcmp(base, "LessThanEquals") == 0)
		return c <= 0;
	return false;
}

static bool
scalar_of(Jsonb *j, JsonbValue *out)
{
	if (j == NULL || !JsonbExtractScalar(&j->root, out))
	{
		out->type = jbvBinary;	/* an object or array: never equal to a scalar */
		return false;
	}
	return true;
}

/* Evaluate a choice rule against the input (and the context, for $$ paths). */
bool
sfn_choice_matches(JsonbContainer *rule, Jsonb *input, Jsonb *context)
{
	JsonbValue *v;
	JsonbIterator *it;
	JsonbValue	val;
	char	   *key;
	char	   *variable;
	Jsonb	   *a;

	if ((v = outbox_jsonb_get(rule, "And")) != NULL || (v = outbox_jsonb_get(rule, "Or")) != NULL)
	{
		bool		is_and = outbox_jsonb_get(rule, "And") != NULL;

		for (uint32 i = 0; i < JsonContainerSize(v->val.binary.data); i++)
		{
			bool		m = sfn_choice_matches(getIthJsonbValueFromContainer(v->val.binary.data, i)->val.binary.data,
											   input, context);

			if (is_and && !m)
				return false;
			if (!is_and && m)
				return true;
		}
		return is_and;
	}
	if ((v = outbox_jsonb_get(rule, "Not")) != NULL)
		return !sfn_choice_matches(v->val.binary.data, input, context);

	v = outbox_jsonb_get(rule, "Variable");
	if (v == NULL || v->type != jbvString)
		runtime("a choice rule needs a Variable%s", "");
	variable = pnstrdup(v->val.string.val, v->val.string.len);
	a = sfn_path_value(variable, input, context);
	it = JsonbIteratorInit(rule);
	while (outbox_jsonb_next_pair(&it, &key, &val))
	{
		size_t		len = strlen(key);
		JsonbValue	av;
		JsonbValue	bv;

		if (strcmp(key, "Variable") == 0 || strcmp(key, "Next") == 0 || strcmp(key, "Comment") == 0 ||
			strcmp(key, "Assign") == 0)
			continue;
		if (strcmp(key, "IsPresent") != 0 && a == NULL)
			runtime("the Variable %s selects nothing in the input", variable);
		if (len > 4 && strcmp(key + len - 4, "Path") == 0)
		{
			char	   *path = pnstrdup(val.val.string.val, val.val.string.len);
			Jsonb	   *b = sfn_path_value(path, input, context);

			if (b == NULL)
				runtime("the path %s of the choice rule selects nothing", path);
			scalar_of(b, &bv);
		}
		else
			bv = val;
		scalar_of(a, &av);
		return compare(key, &av, a != NULL, &bv);
	}
	runtime("the choice rule on %s has no comparison", variable);
	return false;
}

PG_FUNCTION_INFO_V1(outbox_test_choice_rule);
Datum
outbox_test_choice_rule(PG_FUNCTION_ARGS)
{
	Jsonb	   *rule;
	Jsonb	   *input;
	Jsonb	   *context;

	outbox_arg_not_null(fcinfo, 0, "rule");
	outbox_arg_not_null(fcinfo, 1, "input");
	rule = PG_GETARG_JSONB_P(0);
	input = PG_GETARG_JSONB_P(1);
	context = PG_ARGISNULL(2) ? DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum("{}"))) :
		PG_GETARG_JSONB_P(2);
	if (!JB_ROOT_IS_OBJECT(rule) || JB_ROOT_IS_SCALAR(rule))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid \"rule\": a choice rule is a JSON object")));
	/* check it as the validator would, inside a one-state machine */
	{
		Jsonb	   *with_next = DatumGetJsonbP(DirectFunctionCall2(jsonb_concat, JsonbPGetDatum(rule),
																	DirectFunctionCall1(jsonb_in, CStringGetDatum("{\"Next\": \"E\"}"))));
		char	   *def = psprintf("{\"StartAt\": \"C\", \"States\": {\"C\": {\"Type\": \"Choice\", \"Choices\": [%s]},"
								   " \"E\": {\"Type\": \"Succeed\"}}}",
								   JsonbToCString(NULL, &with_next->root, VARSIZE(with_next)));
		List	   *diags = sfn_validate_definition(DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(def))));

		if (diags != NIL)
		{
			SfnDiagnostic *d = linitial(diags);
			const char *at = d->location + Min(strlen(d->location), strlen("/States/C/Choices/0"));

			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid choice rule at %s: %s", *at ? at : "/", d->message)));
		}
	}
	PG_RETURN_BOOL(sfn_choice_matches(&rule->root, input, context));
}
