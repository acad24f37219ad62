/*-------------------------------------------------------------------------
 *
 * json_path.c
 *	  The JSONPath subset that EventBridge (InputPath, InputPathsMap) and
 *	  the States Language use: "$" followed by ".name", "['name']", ".*",
 *	  "[n]" and "[*]".  A path without a wildcard selects one value (or
 *	  nothing); with one, an array of every match, in document order.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/core/json_path.c
 *
 *-------------------------------------------------------------------------
 */
#include "pg_outbox.h"

#include "utils/jsonb.h"

#include "core/json_path.h"
#include "core/jsonb_util.h"

static bool
path_name_char(char c)
{
	return c != '\0' && c != '.' && c != '[' && c != ']' && c != '*' &&
		!isspace((unsigned char) c) && c != '"' && c != '\'';
}

void
outbox_path_parse(const char *text, const char *field, OutboxPath *out)
{
	const char *p = text;
	int			cap = 8;

	memset(out, 0, sizeof(*out));
	if (strlen(text) > OUTBOX_PATH_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid \"%s\": longer than %d characters", field, OUTBOX_PATH_MAX)));
	if (*p != '$')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid \"%s\": \"%s\" is not a JSONPath starting with \"$\"", field, text)));
	p++;
	out->steps = palloc0(sizeof(OutboxPathStep) * cap);
	while (*p)
	{
		OutboxPathStep step = {NULL, -1};

		if (p[0] == '.' && p[1] == '*')
			p += 2;
		else if (p[0] == '.' && path_name_char(p[1]))
		{
			const char *start = ++p;

			while (path_name_char(*p))
				p++;
			step.name = pnstrdup(start, p - start);
		}
		else if (p[0] == '[' && p[1] == '*' && p[2] == ']')
			p += 3;
		else if (p[0] == '[' && p[1] == '\'')
		{
			const char *close = strstr(p + 2, "']");

			if (close == NULL)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid \"%s\": unterminated ['name'] in \"%s\"", field, text)));
			step.name = pnstrdup(p + 2, close - p - 2);
			p = close + 2;
		}
		else if (p[0] == '[' && isdigit((unsigned char) p[1]))
		{
			char	   *end;
			long		n = strtol(p + 1, &end, 10);

			if (*end != ']' || n > PG_INT32_MAX)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid \"%s\": bad array index in \"%s\"", field, text)));
			step.index = (int) n;
			p = end + 1;
		}
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid \"%s\": cannot read \"%s\" at \"%s\"", field, text, p),
					 errhint("Paths use dot notation, array indexes and *: $.detail.items[0].sku, $.resources[*].")));
		if (step.name == NULL && step.index < 0)
			out->wildcard = true;
		if (out->nsteps == cap)
		{
			cap *= 2;
			out->steps = repalloc(out->steps, sizeof(OutboxPathStep) * cap);
		}
		out->steps[out->nsteps++] = step;
	}
}

/* Walk the steps from "v", adding every value reached to *found. */
static void
walk(OutboxPath *path, int step, JsonbValue *v, JsonbValue ***found, int *n, int *cap)
{
	OutboxPathStep *s;

	if (step == path->nsteps)
	{
		if (*n == *cap)
		{
			*cap *= 2;
			*found = repalloc(*found, sizeof(JsonbValue *) * *cap);
		}
		(*found)[(*n)++] = v;
		return;
	}
	if (v->type != jbvBinary)
		return;
	s = &path->steps[step];
	if (s->name)
	{
		JsonbValue *c;

		if (JsonContainerIsObject(v->val.binary.data) &&
			(c = outbox_jsonb_get(v->val.binary.data, s->name)) != NULL)
			walk(path, step + 1, c, found, n, cap);
	}
	else if (s->index >= 0)
	{
		JsonbValue *c;

		if (JsonContainerIsArray(v->val.binary.data) &&
			(c = getIthJsonbValueFromContainer(v->val.binary.data, s->index)) != NULL)
			walk(path, step + 1, c, found, n, cap);
	}
	else if (JsonContainerIsArray(v->val.binary.data))
	{
		for (uint32 i = 0; i < JsonContainerSize(v->val.binary.data); i++)
			walk(path, step + 1, getIthJsonbValueFromContainer(v->val.binary.data, i), found, n, cap);
	}
	else
	{
		JsonbIterator *it = JsonbIteratorInit(v->val.binary.data);
		JsonbValue	child;
		char	   *key;

		while (outbox_jsonb_next_pair(&it, &key, &child))
		{
			JsonbValue *copy = palloc(sizeof(JsonbValue));

			*copy = child;
			walk(path, step + 1, copy, found, n, cap);
		}
	}
}

/* The value a path selects in the event: NULL for nothing. */
Jsonb *
outbox_path_eval(OutboxPath *path, Jsonb *event)
{
	JsonbValue	root;
	int			cap = 8;
	int			n = 0;
	JsonbValue **found = palloc(sizeof(JsonbValue *) * cap);

	root.type = jbvBinary;
	root.val.binary.data = &event->root;
	root.val.binary.len = VARSIZE(event) - VARHDRSZ;
	walk(path, 0, &root, &found, &n, &cap);
	if (path->wildcard)
	{
		JsonbParseState *st = NULL;

		pushJsonbValue(&st, WJB_BEGIN_ARRAY, NULL);
		for (int i = 0; i < n; i++)
		{
			if (found[i]->type == jbvBinary)
			{
				Jsonb	   *j = JsonbValueToJsonb(found[i]);
				JsonbIterator *it = JsonbIteratorInit(&j->root);
				JsonbValue	v;
				JsonbIteratorToken tok;

				/* splice the container's tokens into the array */
				while ((tok = JsonbIteratorNext(&it, &v, false)) != WJB_DONE)
					pushJsonbValue(&st, tok, tok < WJB_BEGIN_ARRAY ? &v : NULL);
			}
			else
				pushJsonbValue(&st, WJB_ELEM, found[i]);
		}
		return JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_ARRAY, NULL));
	}
	return n > 0 ? JsonbValueToJsonb(found[0]) : NULL;
}
