/*-------------------------------------------------------------------------
 *
 * bus_input.c
 *	  What a target receives: the event, a constant (Input), a part of the
 *	  event (InputPath), or a template filled from the event
 *	  (InputTransformer).
 *
 * Paths are core/json_path.c's (EventBridge's JSONPath subset).
 *
 * Templates.  An InputTemplate is scanned once, when the target is put:
 * it becomes literal text between placeholders "<name>", each marked as
 * inside or outside a JSON string of the template.  A name must be a key
 * of InputPathsMap or one of the reserved variables
 * (aws.events.rule-arn, aws.events.rule-name, aws.events.event.ingestion-time,
 * aws.events.event, aws.events.event.json); anything else is refused then,
 * rather than sent as literal text.  Filling it in:
 *
 *	  value				outside a string		inside a string
 *	  string			the text, unquoted		the text, JSON-escaped
 *	  other JSON		its JSON text			its JSON text, escaped
 *	  nothing			null					(empty)
 *
 * aws.events.event (the event without "detail") and aws.events.event.json
 * (with it) are JSON and may only stand outside strings.  A template that
 * starts with "{" or "[" must be valid JSON once its placeholders are
 * filled with null or empty text.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/bus/bus_input.c
 *
 *-------------------------------------------------------------------------
 */
#include "pg_outbox.h"

#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"

#include "core/jsonb_util.h"
#include "bus/bus.h"

static const char *const reserved_variables[] = {
	"aws.events.rule-arn", "aws.events.rule-name", "aws.events.event.ingestion-time",
	"aws.events.event", "aws.events.event.json", NULL
};

/* ---- templates ---- */

static bool
is_reserved(const char *name)
{
	for (int i = 0; reserved_variables[i]; i++)
		if (strcmp(name, reserved_variables[i]) == 0)
			return true;
	return false;
}

static bool
template_name_char(char c)
{
	return isalnum((unsigned char) c) || c == '_' || c == '-' || c == '.';
}

void
bus_parse_transformer(JsonbContainer *def, const char *field, InputTransformer *out)
{
	JsonbValue *map = outbox_jsonb_get(def, "InputPathsMap");
	JsonbValue *tmpl = outbox_jsonb_get(def, "InputTemplate");
	const char *p;
	const char *lit;
	bool		in_string = false;
	int			cap = 8;
	char	   *text;
	StringInfoData probe;

	memset(out, 0, sizeof(*out));
	if (tmpl == NULL || tmpl->type != jbvString || tmpl->val.string.len == 0 ||
		tmpl->val.string.len > INPUT_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid \"%s.InputTemplate\": a string of 1 to %d characters is required", field, INPUT_MAX)));
	if (map && map->type != jbvNull)
	{
		JsonbIterator *it;
		JsonbValue	v;
		char	   *key;
		int			n;

		if (map->type != jbvBinary || !JsonContainerIsObject(map->val.binary.data))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid \"%s.InputPathsMap\": expected an object of variable names and paths", field)));
		n = JsonContainerSize(map->val.binary.data);
		if (n > INPUT_PATHS_MAP_MAX)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid \"%s.InputPathsMap\": %d variables, at most %d are allowed",
							field, n, INPUT_PATHS_MAP_MAX)));
		out->var_names = palloc0(sizeof(char *) * Max(n, 1));
		out->var_paths = palloc0(sizeof(BusPath) * Max(n, 1));
		it = JsonbIteratorInit(map->val.binary.data);
		while (outbox_jsonb_next_pair(&it, &key, &v))
		{
			for (const char *c = key; *c; c++)
				if (!isalnum((unsigned char) *c) && *c != '_' && *c != '-')
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("invalid \"%s.InputPathsMap\": variable name \"%s\" may have only letters, digits, \"_\" and \"-\"",
									field, key)));
			if (*key == '\0' || strlen(key) > 256 || pg_strncasecmp(key, "AWS.", 4) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid \"%s.InputPathsMap\": variable name \"%s\" is not allowed", field, key)));
			if (v.type != jbvString)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid \"%s.InputPathsMap.%s\": expected a JSONPath string", field, key)));
			out->var_names[out->nvars] = key;
			outbox_path_parse(pnstrdup(v.val.string.val, v.val.string.len),
						   psprintf("%s.InputPathsMap.%s", field, key), &out->var_paths[out->nvars]);
			out->nvars++;
		}
	}

	text = pnstrdup(tmpl->val.string.val, tmpl->val.string.len);
	for (p = text; isspace((unsigned char) *p); p++)
		;
	out->json_template = (*p == '{' || *p == '[');
	out->parts = palloc0(sizeof(TemplatePart) * cap);
	initStringInfo(&probe);
	lit = text;
	for (p = text; *p; p++)
	{
		const char *end;
		char	   *name;
		bool		known;

		if (out->json_template && *p == '"')
		{
			int			backslashes = 0;

			for (const char *b = p - 1; b >= text && *b == '\\'; b--)
				backslashes++;
			if (backslashes % 2 == 0)
				in_string = !in_string;
			continue;
		}
		if (*p != '<')
			continue;
		for (end = p + 1; template_name_char(*end); end++)
			;
		if (*end != '>' || end == p + 1)
			continue;			/* not a placeholder: literal text */
		name = pnstrdup(p + 1, end - p - 1);
		known = is_reserved(name);
		for (int i = 0; i < out->nvars && !known; i++)
			known = strcmp(out->var_names[i], name) == 0;
		if (!known)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid \"%s.InputTemplate\": <%s> is neither a key of InputPathsMap nor a reserved variable",
							field, name)));
		if (in_string && (strcmp(name, "aws.events.event") == 0 || strcmp(name, "aws.events.event.json") == 0))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid \"%s.InputTemplate\": <%s> is JSON and cannot stand inside a string", field, name)));
		if (out->nparts + 2 > cap)
		{
			cap *= 2;
			out->parts = repalloc(out->parts, sizeof(TemplatePart) * cap);
		}
		out->parts[out->nparts].literal = pnstrdup(lit, p - lit);
		out->parts[out->nparts].variable = name;
		out->parts[out->nparts].in_string = in_string;
		appendStringInfoString(&probe, out->parts[out->nparts].literal);
		appendStringInfoString(&probe, in_string ? "" : "null");
		out->nparts++;
		lit = end + 1;
		p = end;
	}
	out->parts[out->nparts].literal = pstrdup(lit);
	out->parts[out->nparts].variable = NULL;
	out->nparts++;
	appendStringInfoString(&probe, lit);
	if (out->json_template && outbox_jsonb_parse_or_null(probe.data, probe.len) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid \"%s.InputTemplate\": a template starting with \"{\" or \"[\" must be JSON", field),
				 errdetail("With its placeholders filled (null, or empty text inside strings) it reads: %s", probe.data)));
}

/* Append JSON text, as is or escaped for the inside of a JSON string. */
static void
append_json(StringInfo buf, const char *json, bool in_string)
{
	if (!in_string)
		appendStringInfoString(buf, json);
	else
	{
		StringInfoData esc;

		initStringInfo(&esc);
		escape_json(&esc, json);
		appendBinaryStringInfo(buf, esc.data + 1, esc.len - 2);	/* without the quotes */
	}
}

static void
append_value(StringInfo buf, Jsonb *value, bool in_string)
{
	JsonbValue	scalar;

	if (value == NULL)
	{
		if (!in_string)
			appendStringInfoString(buf, "null");
		return;
	}
	if (JsonbExtractScalar(&value->root, &scalar) && scalar.type == jbvString)
	{
		char	   *s = pnstrdup(scalar.val.string.val, scalar.val.string.len);

		if (in_string)
			append_json(buf, s, true);
		else
			appendStringInfoString(buf, s);
		return;
	}
	append_json(buf, JsonbToCString(NULL, &value->root, VARSIZE(value)), in_string);
}

static char *
event_without_detail(Jsonb *event)
{
	JsonbParseState *st = NULL;
	JsonbIterator *it = JsonbIteratorInit(&event->root);
	JsonbValue	v;
	char	   *key;
	Jsonb	   *j;

	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	while (outbox_jsonb_next_pair(&it, &key, &v))
		if (strcmp(key, "detail") != 0)
			outbox_jsonb_push_value(&st, key, &v);
	j = JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL));
	return JsonbToCString(NULL, &j->root, VARSIZE(j));
}

static char *
apply_transformer(RuleInfo *r, InputTransformer *x, BusEvent *e)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (int i = 0; i < x->nparts; i++)
	{
		TemplatePart *part = &x->parts[i];
		const char *v = part->variable;

		appendStringInfoString(&buf, part->literal);
		if (v == NULL)
			break;
		if (strcmp(v, "aws.events.rule-arn") == 0)
			append_json(&buf, r->arn, part->in_string);
		else if (strcmp(v, "aws.events.rule-name") == 0)
			append_json(&buf, r->name, part->in_string);
		else if (strcmp(v, "aws.events.event.ingestion-time") == 0)
			append_json(&buf, bus_iso_seconds(e->ingestion), part->in_string);
		else if (strcmp(v, "aws.events.event") == 0)
			appendStringInfoString(&buf, event_without_detail(e->event));
		else if (strcmp(v, "aws.events.event.json") == 0)
			appendStringInfoString(&buf, JsonbToCString(NULL, &e->event->root, VARSIZE(e->event)));
		else
		{
			for (int k = 0; k < x->nvars; k++)
				if (strcmp(x->var_names[k], v) == 0)
				{
					append_value(&buf, outbox_path_eval(&x->var_paths[k], e->event), part->in_string);
					break;
				}
		}
	}
	return buf.data;
}

/* The text a target receives for an event. */
char *
bus_target_input(RuleInfo *r, TargetInfo *t, BusEvent *e)
{
	Jsonb	   *selected;

	switch (t->input_kind)
	{
		case INPUT_CONSTANT:
			return t->input;
		case INPUT_PATH:
			selected = outbox_path_eval(&t->input_path, e->event);
			return selected ? JsonbToCString(NULL, &selected->root, VARSIZE(selected)) : pstrdup("null");
		case INPUT_TRANSFORMER:
			return apply_transformer(r, &t->transformer, e);
		case INPUT_EVENT:
		default:
			return JsonbToCString(NULL, &e->event->root, VARSIZE(e->event));
	}
}
