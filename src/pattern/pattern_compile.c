/*-------------------------------------------------------------------------
 *
 * pattern_compile.c
 *	  Validate an event pattern or filter policy and rewrite it into
 *	  disjunctive normal form: a list of sub-patterns, each a list of
 *	  PatSteps that must all hold (see pattern_int.h).
 *
 * Validation is as strict as AWS's: every rule of the language is checked
 * here, once, and an invalid pattern is reported with SQLSTATE 22023 and a
 * message naming the field path and the reason.  The matcher downstream
 * trusts what this file produces.
 *
 * The dialects differ only here: SNS filter policies have no wildcard,
 * no case-insensitive prefix/suffix/anything-but, no null in attribute
 * scope, nested objects only in body scope, a narrower numeric range and
 * their own key and value-combination limits.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/pattern/pattern_compile.c
 *
 *-------------------------------------------------------------------------
 */
#include "pg_outbox.h"

#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/value.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "core/jsonb_util.h"
#include "pattern/pattern_int.h"

int			outbox_max_event_pattern_length = 2048;

typedef struct CompileCtx
{
	PatternDialect dialect;
	const char *what;			/* "event pattern" or "filter policy" */
	int64		limit;			/* numeric bounds, on the fixed-point line */
	const char *limit_text;
} CompileCtx;

/* Field names AWS refuses inside an $or branch (operator names). */
static const char *const reserved_in_or[] = {
	"equals", "equals-ignore-case", "prefix", "suffix", "anything-but",
	"exists", "wildcard", "numeric", "cidr", "=", "<", "<=", ">", ">=",
	"regex", "not-wildcard", "not-equals-ignore-case", "date-after",
	"date-on-or-after", "date-before", "date-on-or-before", "in-date-range",
	"ip-address-in-range", "ip-address-not-in-range", NULL
};

static char *
path_display(List *keys)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, keys)
	{
		if (buf.len > 0)
			appendStringInfoChar(&buf, '.');
		appendStringInfoString(&buf, (char *) lfirst(lc));
	}
	return buf.data;
}

static void
pg_attribute_printf(3, 4) pg_attribute_noreturn()
bad(CompileCtx *c, List *keys, const char *fmt,...)
{
	StringInfoData reason;

	initStringInfo(&reason);
	for (;;)
	{
		va_list		args;
		int			needed;

		va_start(args, fmt);
		needed = appendStringInfoVA(&reason, fmt, args);
		va_end(args);
		if (needed == 0)
			break;
		enlargeStringInfo(&reason, needed);
	}
	if (keys == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid %s: %s", c->what, reason.data)));
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid %s at \"%s\": %s", c->what, path_display(keys),
					reason.data)));
}

static const char *
jbv_type_name(JsonbValue *v)
{
	switch (v->type)
	{
		case jbvString:
			return "a string";
		case jbvNumeric:
			return "a number";
		case jbvBool:
			return "a boolean";
		case jbvNull:
			return "null";
		case jbvBinary:
			return JsonContainerIsArray(v->val.binary.data) ? "an array" : "an object";
		default:
			return "a JSON value";
	}
}

static bool
jbv_is_object(JsonbValue *v)
{
	return v->type == jbvBinary && JsonContainerIsObject(v->val.binary.data);
}

static bool
jbv_is_array(JsonbValue *v)
{
	return v->type == jbvBinary && JsonContainerIsArray(v->val.binary.data);
}

/* The elements of an array container, nested containers as jbvBinary. */
static List *
array_elements(JsonbContainer *array)
{
	JsonbIterator *it = JsonbIteratorInit(array);
	JsonbIteratorToken tok;
	JsonbValue	v;
	List	   *result = NIL;

	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_ELEM)
		{
			JsonbValue *copy = palloc(sizeof(JsonbValue));

			*copy = v;
			result = lappend(result, copy);
		}
	}
	return result;
}

/* The single key of an operator object such as {"prefix": "x"}. */
static char *
operator_of(CompileCtx *c, List *keys, JsonbContainer *obj, JsonbValue *value,
			const char *context)
{
	JsonbIterator *it;
	char	   *key = NULL;
	int			n = JsonContainerSize(obj);

	if (n == 0)
		bad(c, keys, "%s must name an operator, found an empty object", context);
	if (n > 1)
		bad(c, keys, "%s must have exactly one key, found %d", context, n);
	it = JsonbIteratorInit(obj);
	if (!outbox_jsonb_next_pair(&it, &key, value))
		elog(ERROR, "operator object lost its key");
	return key;
}

static PatKey
string_key(JsonbValue *v)
{
	PatKey		k;

	k.kind = PK_STRING;
	k.len = v->val.string.len;
	k.bytes = pnstrdup(v->val.string.val, v->val.string.len);
	return k;
}

static PatKey
folded_key(JsonbValue *v)
{
	PatKey		k;

	k.kind = PK_STRING;
	k.bytes = pat_fold(v->val.string.val, v->val.string.len, &k.len);
	return k;
}

static PatKey
number_key(JsonbValue *v)
{
	PatKey		k;

	k.kind = PK_NUMBER;
	k.bytes = numeric_normalize(v->val.numeric);
	k.len = strlen(k.bytes);
	return k;
}

/* A number bound of "numeric", checked against the dialect's range. */
static int64
numeric_bound(CompileCtx *c, List *keys, JsonbValue *v, const char *op)
{
	PatKey		k;
	int64		fixed;

	if (v == NULL || v->type != jbvNumeric)
		bad(c, keys, "numeric operator \"%s\" must be followed by a number, found %s",
			op, v ? jbv_type_name(v) : "nothing");
	k = number_key(v);
	if (!pat_number_fixed(k.bytes, c->limit, true, &fixed))
		bad(c, keys, "numeric value %s is out of range (must be between -%s and %s)",
			k.bytes, c->limit_text, c->limit_text);
	return fixed;
}

static void
compile_numeric(CompileCtx *c, List *keys, JsonbValue *arg, PatPred *p)
{
	List	   *elems;
	int			n;
	int			i = 0;
	bool		have_lo = false;
	bool		have_hi = false;
	int64		lob = 0;

	if (!jbv_is_array(arg))
		bad(c, keys, "the value of \"numeric\" must be an array, found %s", jbv_type_name(arg));
	elems = array_elements(arg->val.binary.data);
	n = list_length(elems);
	if (n == 0)
		bad(c, keys, "\"numeric\" must not be empty");
	p->op = PO_NUMERIC;
	p->lo = PG_INT64_MIN;
	p->hi = PG_INT64_MAX;
	while (i < n)
	{
		JsonbValue *opv = list_nth(elems, i);
		JsonbValue *val = (i + 1 < n) ? list_nth(elems, i + 1) : NULL;
		char	   *op;
		int64		b;

		if (opv->type != jbvString)
			bad(c, keys, "\"numeric\" expects an operator (=, <, <=, >, >=) at position %d, found %s",
				i + 1, jbv_type_name(opv));
		op = pnstrdup(opv->val.string.val, opv->val.string.len);
		if (strcmp(op, "=") == 0)
		{
			if (i != 0 || n != 2)
				bad(c, keys, "numeric \"=\" must be the only operator of its range");
			b = numeric_bound(c, keys, val, op);
			p->lo = p->hi = b;
			return;
		}
		else if (strcmp(op, ">") == 0 || strcmp(op, ">=") == 0)
		{
			if (have_lo || have_hi)
				bad(c, keys, "numeric range has more than one lower bound or a lower bound after the upper bound");
			b = numeric_bound(c, keys, val, op);
			p->lo = (op[1] == '=') ? b : b + 1;
			lob = b;
			have_lo = true;
		}
		else if (strcmp(op, "<") == 0 || strcmp(op, "<=") == 0)
		{
			if (have_hi)
				bad(c, keys, "numeric range has more than one upper bound");
			b = numeric_bound(c, keys, val, op);
			p->hi = (op[1] == '=') ? b : b - 1;
			have_hi = true;
			/* the upper bound must be the last term */
			if (i + 2 < n)
				bad(c, keys, "numeric range has too many terms (at most one lower and one upper bound)");
			/* the bounds as written: lower must be below upper */
			if (have_lo && lob >= b)
				bad(c, keys, "numeric range lower bound must be below upper bound");
		}
		else
			bad(c, keys, "unknown numeric operator \"%s\" (expected =, <, <=, > or >=)", op);
		i += 2;
	}
}

static void
compile_cidr(CompileCtx *c, List *keys, JsonbValue *arg, PatPred *p)
{
	char	   *text;
	char	   *slash;
	char	   *end;
	long		bits;
	int			maxbits;

	if (arg->type != jbvString)
		bad(c, keys, "the value of \"cidr\" must be a string, found %s", jbv_type_name(arg));
	text = pnstrdup(arg->val.string.val, arg->val.string.len);
	slash = strchr(text, '/');
	if (slash == NULL || strchr(slash + 1, '/') != NULL)
		bad(c, keys, "malformed CIDR \"%s\": exactly one \"/\" is required", text);
	*slash = '\0';
	if (!pat_parse_ip(text, strlen(text), &p->family, p->addr))
		bad(c, keys, "malformed CIDR: \"%s\" is not an IPv4 or IPv6 address", text);
	errno = 0;
	bits = strtol(slash + 1, &end, 10);
	if (slash[1] == '\0' || *end != '\0' || errno != 0)
		bad(c, keys, "malformed CIDR: mask bits \"%s\" must be an integer", slash + 1);
	maxbits = (p->family == 4) ? 32 : 128;
	/* AWS accepts masks up to one bit short of the address length */
	if (bits < 0 || bits >= maxbits)
		bad(c, keys, "IPv%d mask bits must be between 0 and %d, found %ld",
			p->family, maxbits - 1, bits);
	p->op = PO_CIDR;
	p->bits = (uint8) bits;
}

static void
check_wildcard(CompileCtx *c, List *keys, JsonbValue *v, const char *what)
{
	const char *why;

	if (v->type != jbvString)
		bad(c, keys, "the value of %s must be a string, found %s", what, jbv_type_name(v));
	if (c->dialect != PATTERN_EVENTBRIDGE)
		bad(c, keys, "wildcard matching is not supported in filter policies");
	if (!pat_wildcard_check(v->val.string.val, v->val.string.len, &why))
		bad(c, keys, "invalid wildcard \"%.*s\": %s", v->val.string.len, v->val.string.val, why);
}

/* anything-but: a value, a list, or {prefix|suffix|equals-ignore-case|wildcard: ...} */
static void
compile_anything_but(CompileCtx *c, List *keys, JsonbValue *arg, PatPred *p)
{
	if (jbv_is_object(arg))
	{
		JsonbValue	inner;
		char	   *op = operator_of(c, keys, arg->val.binary.data, &inner,
									 "\"anything-but\" object");

		if (strcmp(op, "prefix") == 0 || strcmp(op, "suffix") == 0)
		{
			if (inner.type != jbvString)
				bad(c, keys, "anything-but %s must be a string, found %s", op, jbv_type_name(&inner));
			if (inner.val.string.len == 0)
				bad(c, keys, "anything-but %s must not be empty", op);
			p->op = (op[0] == 'p') ? PO_NOT_PREFIX : PO_NOT_SUFFIX;
			p->key = string_key(&inner);
			return;
		}
		if (strcmp(op, "equals-ignore-case") == 0 || strcmp(op, "wildcard") == 0)
		{
			bool		ci = (op[0] == 'e');
			List	   *vals;
			ListCell   *lc;
			int			i = 0;

			if (c->dialect != PATTERN_EVENTBRIDGE)
				bad(c, keys, "anything-but %s is not supported in filter policies", op);
			if (jbv_is_array(&inner))
				vals = array_elements(inner.val.binary.data);
			else
				vals = list_make1(&inner);
			if (vals == NIL)
				bad(c, keys, "anything-but %s list must not be empty", op);
			p->op = ci ? PO_NOT_CI : PO_NOT_WILDCARD;
			p->nkeys = list_length(vals);
			p->keys = palloc(sizeof(PatKey) * p->nkeys);
			foreach(lc, vals)
			{
				JsonbValue *v = lfirst(lc);

				if (v->type != jbvString)
					bad(c, keys, "anything-but %s values must be strings, found %s",
						op, jbv_type_name(v));
				if (!ci)
					check_wildcard(c, keys, v, "anything-but wildcard");
				p->keys[i++] = ci ? folded_key(v) : string_key(v);
			}
			return;
		}
		bad(c, keys, "unsupported anything-but operator \"%s\" (expected prefix, suffix, equals-ignore-case or wildcard)", op);
	}
	else
	{
		List	   *vals;
		ListCell   *lc;
		bool		strings = false;
		bool		numbers = false;
		int			i = 0;

		if (jbv_is_array(arg))
			vals = array_elements(arg->val.binary.data);
		else if (arg->type == jbvString || arg->type == jbvNumeric)
			vals = list_make1(arg);
		else
			bad(c, keys, "the value of \"anything-but\" must be a string, a number, an array or an object, found %s",
				jbv_type_name(arg));
		if (vals == NIL)
			bad(c, keys, "anything-but list must not be empty");
		p->op = PO_NOT_VALUES;
		p->nkeys = list_length(vals);
		p->keys = palloc(sizeof(PatKey) * p->nkeys);
		foreach(lc, vals)
		{
			JsonbValue *v = lfirst(lc);

			if (v->type == jbvString)
			{
				strings = true;
				p->keys[i++] = string_key(v);
			}
			else if (v->type == jbvNumeric)
			{
				numbers = true;
				p->keys[i++] = number_key(v);
			}
			else
				bad(c, keys, "anything-but values must be strings or numbers, found %s",
					jbv_type_name(v));
		}
		if (strings && numbers)
			bad(c, keys, "anything-but list must hold only strings or only numbers, not both");
	}
}

/* prefix / suffix: a string or {"equals-ignore-case": string} */
static void
compile_affix(CompileCtx *c, List *keys, const char *op, JsonbValue *arg, PatPred *p)
{
	bool		is_prefix = (op[0] == 'p');

	if (jbv_is_object(arg))
	{
		JsonbValue	inner;
		char	   *sub = operator_of(c, keys, arg->val.binary.data, &inner, op);

		if (strcmp(sub, "equals-ignore-case") != 0)
			bad(c, keys, "unsupported %s operator \"%s\" (only equals-ignore-case)", op, sub);
		if (c->dialect != PATTERN_EVENTBRIDGE)
			bad(c, keys, "%s with equals-ignore-case is not supported in filter policies", op);
		if (inner.type != jbvString)
			bad(c, keys, "%s equals-ignore-case must be a string, found %s", op, jbv_type_name(&inner));
		p->op = is_prefix ? PO_PREFIX_CI : PO_SUFFIX_CI;
		p->key = folded_key(&inner);
		return;
	}
	if (arg->type != jbvString)
		bad(c, keys, "the value of \"%s\" must be a string, found %s", op, jbv_type_name(arg));
	p->op = is_prefix ? PO_PREFIX : PO_SUFFIX;
	p->key = string_key(arg);
}

/*
 * One element of a leaf array that is an object: an operator.  Returns
 * false for {"exists": false}, which is not a predicate but "absent".
 */
static bool
compile_operator(CompileCtx *c, List *keys, JsonbContainer *obj, PatPred *p)
{
	JsonbValue	arg;
	char	   *op = operator_of(c, keys, obj, &arg, "match expression");

	memset(p, 0, sizeof(PatPred));
	if (strcmp(op, "prefix") == 0 || strcmp(op, "suffix") == 0)
		compile_affix(c, keys, op, &arg, p);
	else if (strcmp(op, "equals-ignore-case") == 0)
	{
		if (arg.type != jbvString)
			bad(c, keys, "the value of \"equals-ignore-case\" must be a string, found %s",
				jbv_type_name(&arg));
		p->op = PO_EQUALS_CI;
		p->key = folded_key(&arg);
	}
	else if (strcmp(op, "wildcard") == 0)
	{
		check_wildcard(c, keys, &arg, "\"wildcard\"");
		p->op = PO_WILDCARD;
		p->key = string_key(&arg);
	}
	else if (strcmp(op, "anything-but") == 0)
		compile_anything_but(c, keys, &arg, p);
	else if (strcmp(op, "numeric") == 0)
		compile_numeric(c, keys, &arg, p);
	else if (strcmp(op, "cidr") == 0)
		compile_cidr(c, keys, &arg, p);
	else if (strcmp(op, "exists") == 0)
	{
		if (arg.type != jbvBool)
			bad(c, keys, "the value of \"exists\" must be true or false, found %s",
				jbv_type_name(&arg));
		if (!arg.val.boolean)
			return false;
		p->op = PO_EXISTS;
	}
	else
		bad(c, keys, "unrecognized match type \"%s\"", op);
	return true;
}

static char *
canon_of(JsonbContainer *leaf, bool absent)
{
	if (absent)
		return "!absent";
	return JsonbToCString(NULL, leaf, 64);
}

static PatStep *
make_step(List *keys, bool absent, List *preds, char *canon)
{
	PatStep    *s = palloc0(sizeof(PatStep));
	ListCell   *lc;
	int			i = 0;

	s->keys = list_copy(keys);
	s->display = path_display(keys);
	s->absent = absent;
	s->canon = canon;
	s->npreds = list_length(preds);
	s->preds = palloc(sizeof(PatPred) * Max(s->npreds, 1));
	foreach(lc, preds)
		s->preds[i++] = *(PatPred *) lfirst(lc);
	return s;
}

/* A leaf array: returns a DNF with one or two single-step alternatives. */
static List *
compile_leaf(CompileCtx *c, List *keys, JsonbContainer *leaf, int *nvalues)
{
	List	   *elems = array_elements(leaf);
	List	   *preds = NIL;
	bool		absent = false;
	ListCell   *lc;
	List	   *dnf = NIL;

	if (elems == NIL)
		bad(c, keys, "empty arrays are not allowed");
	*nvalues = list_length(elems);
	foreach(lc, elems)
	{
		JsonbValue *v = lfirst(lc);
		PatPred    *p = palloc0(sizeof(PatPred));

		switch (v->type)
		{
			case jbvString:
				p->op = PO_EXACT;
				p->key = string_key(v);
				preds = lappend(preds, p);
				/* an address also matches its other spellings */
				{
					PatPred    *ip = palloc0(sizeof(PatPred));

					if (pat_parse_ip(v->val.string.val, v->val.string.len,
									 &ip->family, ip->addr))
					{
						ip->op = PO_CIDR;
						ip->bits = (ip->family == 4) ? 32 : 128;
						preds = lappend(preds, ip);
					}
				}
				break;
			case jbvNumeric:
				p->op = PO_EXACT;
				p->key = number_key(v);
				preds = lappend(preds, p);
				break;
			case jbvBool:
				p->op = PO_EXACT;
				p->key.kind = v->val.boolean ? PK_TRUE : PK_FALSE;
				p->key.bytes = "";
				preds = lappend(preds, p);
				break;
			case jbvNull:
				if (c->dialect == PATTERN_SNS_ATTRIBUTES)
					bad(c, keys, "null is allowed only in filter policies with MessageBody scope");
				p->op = PO_EXACT;
				p->key.kind = PK_NULL;
				p->key.bytes = "";
				preds = lappend(preds, p);
				break;
			case jbvBinary:
				if (JsonContainerIsArray(v->val.binary.data))
					bad(c, keys, "match values must be strings, numbers, true, false, null or operator objects, found an array");
				if (compile_operator(c, keys, v->val.binary.data, p))
					preds = lappend(preds, p);
				else
					absent = true;
				break;
			default:
				bad(c, keys, "match values must be strings, numbers, true, false, null or operator objects");
		}
	}
	if (preds != NIL)
		dnf = lappend(dnf, list_make1(make_step(keys, false, preds, canon_of(leaf, false))));
	if (absent)
		dnf = lappend(dnf, list_make1(make_step(keys, true, NIL, canon_of(leaf, true))));
	return dnf;
}

/* AND of two DNFs: every pair of conjunctions, concatenated. */
static List *
dnf_and(CompileCtx *c, List *keys, List *a, List *b)
{
	List	   *result = NIL;
	ListCell   *la;
	ListCell   *lb;

	if ((int64) list_length(a) * list_length(b) > PATTERN_MAX_BRANCHES)
		bad(c, keys, "$or combinations expand to more than %d sub-patterns",
			PATTERN_MAX_BRANCHES);
	foreach(la, a)
		foreach(lb, b)
			result = lappend(result, list_concat_copy((List *) lfirst(la), (List *) lfirst(lb)));
	return result;
}

static List *compile_object(CompileCtx *c, List *keys, JsonbContainer *obj, bool in_or,
							int *combos);

/* "$or": [ {...}, {...}, ... ] at some object level */
static List *
compile_or(CompileCtx *c, List *keys, JsonbValue *value, int *combos)
{
	List	   *branches;
	List	   *result = NIL;
	ListCell   *lc;
	List	   *orkeys = lappend(list_copy(keys), "$or");

	if (!jbv_is_array(value))
		bad(c, orkeys, "the value of $or must be an array, found %s", jbv_type_name(value));
	branches = array_elements(value->val.binary.data);
	foreach(lc, branches)
	{
		JsonbValue *b = lfirst(lc);
		int			bc = 0;

		if (!jbv_is_object(b))
			bad(c, orkeys, "$or must hold only objects, found %s", jbv_type_name(b));
		if (JsonContainerSize(b->val.binary.data) == 0)
			bad(c, orkeys, "empty objects are not allowed");
		result = list_concat(result, compile_object(c, keys, b->val.binary.data, true, &bc));
		*combos += bc;
		if (list_length(result) > PATTERN_MAX_BRANCHES)
			bad(c, orkeys, "$or combinations expand to more than %d sub-patterns",
				PATTERN_MAX_BRANCHES);
	}
	if (list_length(branches) < 2)
		bad(c, orkeys, "$or must hold at least two objects");
	return result;
}

/*
 * An object of the pattern.  *combos returns SNS's value-combination count
 * of this object: the product of its leaves' lengths and its $or sums.
 */
static List *
compile_object(CompileCtx *c, List *keys, JsonbContainer *obj, bool in_or, int *combos)
{
	JsonbIterator *it = JsonbIteratorInit(obj);
	JsonbValue	value;
	char	   *key;
	List	   *dnf = list_make1(NIL);
	bool		any = false;
	int64		product = 1;

	check_stack_depth();
	while (outbox_jsonb_next_pair(&it, &key, &value))
	{
		List	   *sub;
		List	   *child;
		int			n = 1;

		any = true;
		if (strcmp(key, "$or") == 0)
		{
			sub = compile_or(c, keys, &value, &n);
			dnf = dnf_and(c, keys, dnf, sub);
			product *= n;
			product = Min(product, PG_INT32_MAX);
			continue;
		}
		child = lappend(list_copy(keys), key);
		if (key[0] == '\0')
			bad(c, child, "field names must not be empty");
		if (in_or)
		{
			for (int i = 0; reserved_in_or[i]; i++)
				if (strcmp(key, reserved_in_or[i]) == 0)
					bad(c, child, "\"%s\" is a reserved name and cannot be a field inside $or", key);
		}
		if (jbv_is_object(&value))
		{
			if (c->dialect == PATTERN_SNS_ATTRIBUTES)
				bad(c, child, "filter policies with MessageAttributes scope take an array of values per attribute, not an object (nested policies need MessageBody scope)");
			sub = compile_object(c, child, value.val.binary.data, in_or, &n);
		}
		else if (jbv_is_array(&value))
			sub = compile_leaf(c, child, value.val.binary.data, &n);
		else
			bad(c, child, "the value must be an object or an array, found %s",
				jbv_type_name(&value));
		dnf = dnf_and(c, child, dnf, sub);
		product *= n;
		product = Min(product, PG_INT32_MAX);
	}
	if (!any)
		bad(c, keys, "empty objects are not allowed");
	*combos = (int) product;
	return dnf;
}

/* Length of the compact JSON text of a jsonb (whitespace outside strings dropped). */
static int
compact_length(Jsonb *jb)
{
	char	   *text = JsonbToCString(NULL, &jb->root, VARSIZE(jb));
	int			n = 0;
	bool		in_string = false;

	for (char *p = text; *p; p++)
	{
		if (in_string)
		{
			if (*p == '\\' && p[1])
			{
				n += 2;
				p++;
				continue;
			}
			if (*p == '"')
				in_string = false;
		}
		else if (*p == '"')
			in_string = true;
		else if (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
			continue;
		n++;
	}
	pfree(text);
	return n;
}

/* SNS: at most 5 leaf keys in any sub-pattern. */
static void
check_sns_keys(CompileCtx *c, List *dnf)
{
	ListCell   *lc;

	foreach(lc, dnf)
	{
		List	   *conj = lfirst(lc);
		List	   *seen = NIL;
		ListCell   *ls;

		foreach(ls, conj)
		{
			PatStep    *s = lfirst(ls);

			if (!list_member(seen, makeString(s->display)))
				seen = lappend(seen, makeString(s->display));
		}
		if (list_length(seen) > SNS_MAX_KEYS)
			bad(c, NIL, "a filter policy may use at most %d keys, found %d",
				SNS_MAX_KEYS, list_length(seen));
	}
}

/*
 * How a step sorts: steps every predicate of which is indexed (exact,
 * prefix, suffix, equals-ignore-case, numeric, cidr) first, then steps with
 * a predicate tested one by one (anything-but, wildcard, exists), then
 * exists:false.  A selective indexed step near the start of a sub-pattern
 * keeps the states that carry the linear lists rarely reached.
 */
static int
step_class(const PatStep *s)
{
	if (s->absent)
		return 2;
	for (int i = 0; i < s->npreds; i++)
	{
		switch (s->preds[i].op)
		{
			case PO_WILDCARD:
			case PO_EXISTS:
			case PO_NOT_VALUES:
			case PO_NOT_PREFIX:
			case PO_NOT_SUFFIX:
			case PO_NOT_CI:
			case PO_NOT_WILDCARD:
				return 1;
			default:
				break;
		}
	}
	return 0;
}

int
pattern_compare_steps(const PatStep *sa, const PatStep *sb)
{
	int			r = step_class(sa) - step_class(sb);

	if (r != 0)
		return r;
	r = strcmp(sa->display, sb->display);

	if (r != 0)
		return r;
	r = list_length(sa->keys) - list_length(sb->keys);
	if (r != 0)
		return r;
	return strcmp(sa->canon, sb->canon);
}

static int
compare_step_cells(const ListCell *a, const ListCell *b)
{
	return pattern_compare_steps(lfirst(a), lfirst(b));
}

/*
 * Validate and rewrite one pattern.  Returns a list of sub-patterns, each a
 * list of PatStep, sorted by path.
 */
List *
pattern_compile(Jsonb *pattern, PatternDialect dialect)
{
	CompileCtx	c;
	List	   *dnf;
	ListCell   *lc;
	int			combos = 0;

	c.dialect = dialect;
	c.what = (dialect == PATTERN_EVENTBRIDGE) ? "event pattern" : "filter policy";
	if (dialect == PATTERN_EVENTBRIDGE)
	{
		c.limit = PAT_FIXED_LIMIT_EB;
		c.limit_text = "5000000000";
	}
	else
	{
		c.limit = PAT_FIXED_LIMIT_SNS;
		c.limit_text = "1000000000";
	}

	if (!JB_ROOT_IS_OBJECT(pattern))
		bad(&c, NIL, "must be a JSON object");
	if (dialect == PATTERN_EVENTBRIDGE)
	{
		int			len = compact_length(pattern);

		if (len > outbox_max_event_pattern_length)
			bad(&c, NIL, "%d characters, the limit is %d (pg_outbox.max_event_pattern_length)",
				len, outbox_max_event_pattern_length);
	}
	else if (VARSIZE(pattern) > SNS_MAX_POLICY_BYTES &&
			 compact_length(pattern) > SNS_MAX_POLICY_BYTES)
		bad(&c, NIL, "longer than %d bytes", SNS_MAX_POLICY_BYTES);

	dnf = compile_object(&c, NIL, &pattern->root, false, &combos);

	if (dialect != PATTERN_EVENTBRIDGE)
	{
		check_sns_keys(&c, dnf);
		if (combos > SNS_MAX_COMBINATIONS)
			bad(&c, NIL, "%d value combinations, the limit is %d",
				combos, SNS_MAX_COMBINATIONS);
	}

	/* steps in path order, so sub-patterns share automaton prefixes */
	foreach(lc, dnf)
	{
		List	   *conj = lfirst(lc);

		list_sort(conj, compare_step_cells);
	}
	return dnf;
}

void
pattern_validate(Jsonb *pattern, PatternDialect dialect)
{
	MemoryContext tmp = AllocSetContextCreate(CurrentMemoryContext,
											  "pattern validation",
											  ALLOCSET_SMALL_SIZES);
	MemoryContext old = MemoryContextSwitchTo(tmp);

	(void) pattern_compile(pattern, dialect);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(tmp);
}
