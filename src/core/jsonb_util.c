/*-------------------------------------------------------------------------
 *
 * jsonb_util.c
 *	  Small jsonb helpers every room uses: find a key of an object, walk the
 *	  key/value pairs of an object, turn a scalar into text, push a key and
 *	  value while building an object.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/core/jsonb_util.c
 *
 *-------------------------------------------------------------------------
 */
#include "pg_outbox.h"

#include "common/jsonapi.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/numeric.h"

#include "core/jsonb_util.h"

/* The value of "key" in an object container, or NULL. */
JsonbValue *
outbox_jsonb_get(JsonbContainer *object, const char *key)
{
	JsonbValue	k;

	k.type = jbvString;
	k.val.string.val = (char *) key;
	k.val.string.len = strlen(key);
	return findJsonbValueFromContainer(object, JB_FOBJECT, &k);
}

/*
 * Walk the top-level pairs of an object: start with
 * it = JsonbIteratorInit(container) and call until it returns false.
 * Nested containers come back as jbvBinary values; keys are palloc'd.
 */
bool
outbox_jsonb_next_pair(JsonbIterator **it, char **key, JsonbValue *value)
{
	JsonbIteratorToken tok;

	while ((tok = JsonbIteratorNext(it, value, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
		{
			*key = pnstrdup(value->val.string.val, value->val.string.len);
			tok = JsonbIteratorNext(it, value, true);
			Assert(tok == WJB_VALUE);
			return true;
		}
	}
	return false;
}

/* A string, number or boolean as text; NULL for null, arrays and objects. */
char *
outbox_jsonb_scalar_cstring(JsonbValue *v)
{
	switch (v->type)
	{
		case jbvString:
			return pnstrdup(v->val.string.val, v->val.string.len);
		case jbvNumeric:
			return DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(v->val.numeric)));
		case jbvBool:
			return pstrdup(v->val.boolean ? "true" : "false");
		default:
			return NULL;
	}
}

void
outbox_jsonb_push_value(JsonbParseState **state, const char *key, JsonbValue *value)
{
	JsonbValue	k;

	k.type = jbvString;
	k.val.string.val = (char *) key;
	k.val.string.len = strlen(key);
	(void) pushJsonbValue(state, WJB_KEY, &k);
	(void) pushJsonbValue(state, WJB_VALUE, value);
}

void
outbox_jsonb_push_string(JsonbParseState **state, const char *key, const char *value)
{
	JsonbValue	v;

	v.type = jbvString;
	v.val.string.val = (char *) value;
	v.val.string.len = strlen(value);
	outbox_jsonb_push_value(state, key, &v);
}

/* ---- attribute values: AWS sends every attribute as a string ---- */

int32
outbox_attr_int(JsonbValue *v, const char *attr, int32 min, int32 max)
{
	char	   *s = outbox_jsonb_scalar_cstring(v);
	char	   *end;
	long		n;

	if (s == NULL || *s == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid attribute \"%s\": expected an integer between %d and %d", attr, min, max)));
	errno = 0;
	n = strtol(s, &end, 10);
	if (*end != '\0' || errno != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid attribute \"%s\": \"%s\" is not an integer", attr, s)));
	if (n < min || n > max)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid attribute \"%s\": %ld is out of range (%d to %d)", attr, n, min, max)));
	return (int32) n;
}

bool
outbox_attr_bool(JsonbValue *v, const char *attr)
{
	char	   *s = outbox_jsonb_scalar_cstring(v);

	if (s && pg_strcasecmp(s, "true") == 0)
		return true;
	if (s && pg_strcasecmp(s, "false") == 0)
		return false;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid attribute \"%s\": expected \"true\" or \"false\"", attr)));
	return false;				/* keep compiler quiet */
}

/*
 * A policy attribute may be given as a JSON object or, as in the AWS API, as
 * a string holding one.  Returns NULL for "" (remove the policy).
 */
Jsonb *
outbox_attr_policy(JsonbValue *v, const char *attr)
{
	Jsonb	   *j;

	if (v->type == jbvString)
	{
		char	   *s = pnstrdup(v->val.string.val, v->val.string.len);
		MemoryContext cxt = CurrentMemoryContext;

		if (*s == '\0')
			return NULL;

		/*
		 * Parsing has no side effects, so its error can be caught here and
		 * reported as a bad attribute (PostgreSQL 15 has no soft-error jsonb
		 * input yet).
		 */
		PG_TRY();
		{
			j = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(s)));
		}
		PG_CATCH();
		{
			ErrorData  *edata;

			MemoryContextSwitchTo(cxt);
			edata = CopyErrorData();
			FlushErrorState();
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid attribute \"%s\": the string is not a JSON object", attr),
					 errdetail("%s", edata->message)));
		}
		PG_END_TRY();
	}
	else if (v->type == jbvBinary)
		j = JsonbValueToJsonb(v);
	else
		j = NULL;
	if (j == NULL || !JB_ROOT_IS_OBJECT(j) || JB_ROOT_IS_SCALAR(j))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid attribute \"%s\": expected a JSON object", attr)));
	return j;
}

/*
 * Parse text as JSON without raising: NULL if it is not valid JSON.  (The
 * validity check runs first, so jsonb_in never fails here.)
 */
Jsonb *
outbox_jsonb_parse_or_null(const char *text, int len)
{
	char	   *copy = pnstrdup(text, len);
	JsonLexContext *lex;

#if PG_VERSION_NUM >= 170000
	lex = makeJsonLexContextCstringLen(NULL, copy, len, GetDatabaseEncoding(), true);
#else
	lex = makeJsonLexContextCstringLen(copy, len, GetDatabaseEncoding(), true);
#endif
	if (pg_parse_json(lex, &nullSemAction) != JSON_SUCCESS)
		return NULL;
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(copy)));
}

/* A string field of an object, copied; NULL if absent or not a string. */
char *
outbox_jsonb_get_string(JsonbContainer *object, const char *key)
{
	JsonbValue *v = outbox_jsonb_get(object, key);

	return v && v->type == jbvString ? pnstrdup(v->val.string.val, v->val.string.len) : NULL;
}

/* "name": {"DataType": "String", "StringValue": value}, an SQS message attribute */
void
outbox_jsonb_push_string_attribute(JsonbParseState **state, const char *name, const char *value)
{
	JsonbValue	k;

	k.type = jbvString;
	k.val.string.val = (char *) name;
	k.val.string.len = strlen(name);
	pushJsonbValue(state, WJB_KEY, &k);
	pushJsonbValue(state, WJB_BEGIN_OBJECT, NULL);
	outbox_jsonb_push_string(state, "DataType", "String");
	outbox_jsonb_push_string(state, "StringValue", value);
	pushJsonbValue(state, WJB_END_OBJECT, NULL);
}

/* The root of a document as a value to push or store: its scalar, or its container. */
void
outbox_jsonb_root_value(Jsonb *j, JsonbValue *out)
{
	if (JB_ROOT_IS_SCALAR(j))
		(void) JsonbExtractScalar(&j->root, out);
	else
	{
		out->type = jbvBinary;
		out->val.binary.data = &j->root;
		out->val.binary.len = VARSIZE(j) - VARHDRSZ;
	}
}
