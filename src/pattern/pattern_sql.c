/*-------------------------------------------------------------------------
 *
 * pattern_sql.c
 *	  The SQL face of the pattern room: test_event_pattern,
 *	  test_filter_policy and match_event_patterns.
 *
 * Each function keeps its compiled set in fn_extra for the life of the
 * calling expression.  When the pattern argument is a constant or an
 * external parameter it is compiled once per execution; otherwise its bytes
 * are compared with the cached copy on every call and the set is rebuilt
 * only when they differ.  So "SELECT ... FROM events WHERE
 * outbox.test_event_pattern('{...}', body)" compiles the pattern once.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/pattern/pattern_sql.c
 *
 *-------------------------------------------------------------------------
 */
#include "pg_outbox.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "pattern/pattern.h"

typedef struct PatternCache
{
	PatternDialect dialect;
	bool		separately;
	bool		stable;			/* argument cannot change between calls */
	struct varlena *key;		/* copy of the pattern argument */
	int			nsets;
	PatternSet **sets;			/* one set, or one per pattern (separately) */
	int			npatterns;
	int		   *matched;
} PatternCache;

static void
not_null(FunctionCallInfo fcinfo, int arg, const char *name)
{
	if (PG_ARGISNULL(arg))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", name)));
}

typedef struct CompileErrorArg
{
	const char *argname;
	int			element;
} CompileErrorArg;

static void
compile_error_context(void *arg)
{
	CompileErrorArg *a = arg;

	if (a->element > 0)
		errcontext("compiling %s[%d]", a->argname, a->element);
}

static void
drop_cache(PatternCache *c)
{
	for (int i = 0; i < c->nsets; i++)
		pattern_set_free(c->sets[i]);
	if (c->sets)
		pfree(c->sets);
	if (c->matched)
		pfree(c->matched);
	if (c->key)
		pfree(c->key);
	c->sets = NULL;
	c->matched = NULL;
	c->key = NULL;
	c->nsets = 0;
}

/*
 * The compiled form of argument 0: a single jsonb pattern, or a jsonb[] of
 * them (is_array).
 */
static PatternCache *
cached_patterns(FunctionCallInfo fcinfo, PatternDialect dialect, bool is_array,
				bool separately, const char *argname)
{
	FmgrInfo   *flinfo = fcinfo->flinfo;
	PatternCache *c = flinfo->fn_extra;
	struct varlena *raw;
	MemoryContext old;
	ErrorContextCallback errcb;
	CompileErrorArg errarg = {argname, 0};
	int			nsets;

	if (c == NULL)
	{
		c = MemoryContextAllocZero(flinfo->fn_mcxt, sizeof(PatternCache));
		c->stable = get_fn_expr_arg_stable(flinfo, 0);
		flinfo->fn_extra = c;
	}
	else if (c->nsets > 0 && c->dialect == dialect && c->separately == separately)
	{
		/* a stable argument is not even detoasted again */
		if (c->stable)
			return c;
		raw = (struct varlena *) PG_DETOAST_DATUM(PG_GETARG_DATUM(0));
		if (VARSIZE_ANY(raw) == VARSIZE_ANY(c->key) &&
			memcmp(raw, c->key, VARSIZE_ANY(raw)) == 0)
			return c;
	}
	raw = (struct varlena *) PG_DETOAST_DATUM(PG_GETARG_DATUM(0));

	drop_cache(c);
	old = MemoryContextSwitchTo(flinfo->fn_mcxt);
	errcb.callback = compile_error_context;
	errcb.arg = &errarg;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;

	c->dialect = dialect;
	c->separately = separately;
	if (!is_array)
	{
		c->npatterns = 1;
		nsets = 1;
		c->sets = palloc(sizeof(PatternSet *));
		c->sets[0] = pattern_set_create(flinfo->fn_mcxt, dialect);
		pattern_set_add(c->sets[0], (Jsonb *) raw, 0);
		pattern_set_freeze(c->sets[0]);
	}
	else
	{
		ArrayType  *arr = (ArrayType *) raw;
		Datum	   *elems;
		bool	   *nulls;
		int			n;

		if (ARR_NDIM(arr) > 1)
			ereport(ERROR,
					(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
					 errmsg("%s must be a one-dimensional array", argname)));
		deconstruct_array(arr, JSONBOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
		c->npatterns = n;
		c->sets = palloc0(sizeof(PatternSet *) * Max(n, 1));
		if (!separately)
			c->sets[0] = pattern_set_create(flinfo->fn_mcxt, dialect);
		for (int i = 0; i < n; i++)
		{
			Jsonb	   *p;

			errarg.element = i + 1;
			if (nulls[i])
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("%s[%d] must not be null", argname, i + 1)));
			p = DatumGetJsonbP(elems[i]);
			if (separately)
			{
				c->sets[i] = pattern_set_create(flinfo->fn_mcxt, dialect);
				pattern_set_add(c->sets[i], p, 0);
				pattern_set_freeze(c->sets[i]);
			}
			else
				pattern_set_add(c->sets[0], p, i);
		}
		if (!separately)
			pattern_set_freeze(c->sets[0]);
		nsets = separately ? n : 1;
	}
	c->matched = palloc(sizeof(int) * Max(c->npatterns, 1));
	if (!c->stable)
	{
		c->key = palloc(VARSIZE_ANY(raw));
		memcpy(c->key, raw, VARSIZE_ANY(raw));
	}
	error_context_stack = errcb.previous;
	MemoryContextSwitchTo(old);
	/* only now is the cache complete: an error above leaves it empty */
	c->nsets = nsets;
	return c;
}

PG_FUNCTION_INFO_V1(outbox_test_event_pattern);
Datum
outbox_test_event_pattern(PG_FUNCTION_ARGS)
{
	PatternCache *c;
	Jsonb	   *event;

	not_null(fcinfo, 0, "event_pattern");
	not_null(fcinfo, 1, "event");
	event = PG_GETARG_JSONB_P(1);
	c = cached_patterns(fcinfo, PATTERN_EVENTBRIDGE, false, false, "event_pattern");
	if (!JB_ROOT_IS_OBJECT(event))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("event must be a JSON object")));
	PG_RETURN_BOOL(pattern_set_match(c->sets[0], event, c->matched) > 0);
}

PG_FUNCTION_INFO_V1(outbox_test_filter_policy);
Datum
outbox_test_filter_policy(PG_FUNCTION_ARGS)
{
	PatternCache *c;
	Jsonb	   *message;
	char	   *scope;
	PatternDialect dialect;

	not_null(fcinfo, 0, "filter_policy");
	not_null(fcinfo, 1, "message");
	not_null(fcinfo, 2, "scope");
	message = PG_GETARG_JSONB_P(1);
	scope = text_to_cstring(PG_GETARG_TEXT_PP(2));
	if (strcmp(scope, "MessageAttributes") == 0)
		dialect = PATTERN_SNS_ATTRIBUTES;
	else if (strcmp(scope, "MessageBody") == 0)
		dialect = PATTERN_SNS_BODY;
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid scope \"%s\": must be MessageAttributes or MessageBody", scope)));
	c = cached_patterns(fcinfo, dialect, false, false, "filter_policy");
	if (dialect == PATTERN_SNS_ATTRIBUTES && !JB_ROOT_IS_OBJECT(message))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("message must be a JSON object of message attributes when scope is MessageAttributes")));
	PG_RETURN_BOOL(pattern_set_match(c->sets[0], message, c->matched) > 0);
}

PG_FUNCTION_INFO_V1(outbox_match_event_patterns);
Datum
outbox_match_event_patterns(PG_FUNCTION_ARGS)
{
	PatternCache *c;
	Jsonb	   *event;
	bool		separately;
	int			n = 0;
	Datum	   *out;

	not_null(fcinfo, 0, "event_patterns");
	not_null(fcinfo, 1, "event");
	not_null(fcinfo, 2, "separately");
	event = PG_GETARG_JSONB_P(1);
	separately = PG_GETARG_BOOL(2);
	c = cached_patterns(fcinfo, PATTERN_EVENTBRIDGE, true, separately, "event_patterns");
	if (!JB_ROOT_IS_OBJECT(event))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("event must be a JSON object")));
	if (c->nsets > 0 && !separately)
		n = pattern_set_match(c->sets[0], event, c->matched);
	else
	{
		int			one;

		for (int i = 0; i < c->nsets; i++)
			if (pattern_set_match(c->sets[i], event, &one) > 0)
				c->matched[n++] = i;
	}
	out = palloc(sizeof(Datum) * Max(n, 1));
	for (int i = 0; i < n; i++)
		out[i] = Int32GetDatum(c->matched[i] + 1);
	PG_RETURN_ARRAYTYPE_P(construct_array(out, n, INT4OID, sizeof(int32), true, TYPALIGN_INT));
}
