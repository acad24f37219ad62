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
