/*-------------------------------------------------------------------------
 *
 * sfn_flow.c
 *	  A state's data flow in JSONPath mode: InputPath -> Parameters ->
 *	  (the state's work) -> ResultSelector -> ResultPath -> OutputPath, and
 *	  where a Choice state goes next.  outbox.test_state runs one state of
 *	  a definition this way, as AWS's TestState does.
 *
 * ResultPath merges into the state's raw input (not the InputPath-filtered
 * one): null keeps the raw input, "$" replaces it, "$.a.b" sets that
 * field, making the objects on the way.  InputPath or OutputPath null give
 * {}.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/sfn/sfn_flow.c
 *
 *-------------------------------------------------------------------------
 */
#include "pg_outbox.h"

#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "core/json_path.h"
#include "core/jsonb_util.h"
#include "core/security.h"
#include "sfn/sfn.h"

static Jsonb *
json_of(const char *text)
{
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(text)));
}

static char *
string_field(JsonbContainer *state, const char *key, bool *present, bool *is_null)
{
	JsonbValue *v = outbox_jsonb_get(state, key);

	*present = v != NULL;
	*is_null = v != NULL && v->type == jbvNull;
	return v && v->type == jbvString ? pnstrdup(v->val.string.val, v->val.string.len) : NULL;
}

/* Apply an InputPath/OutputPath field: absent "$", null {}, else the selected value. */
Jsonb *
sfn_filter_path(JsonbContainer *state, const char *key, Jsonb *doc, Jsonb *context)
{
	bool		present;
	bool		is_null;
	char	   *path = string_field(state, key, &present, &is_null);
	Jsonb	   *v;

	if (!present)
		return doc;
	if (is_null)
		return json_of("{}");
	v = sfn_path_value(path, doc, context);
	if (v == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("States.Runtime: %s %s selects nothing", key, path)));
	return v;
}

/* doc with value set at the steps of a reference path, objects made on the way */
static JsonbValue *
set_at(JsonbParseState **st, JsonbContainer *doc, OutboxPathStep *steps, int n, Jsonb *value,
	   JsonbIteratorToken as)
{
	JsonbIterator *it;
	JsonbValue	v;
	char	   *key;
	bool		done = false;
	JsonbValue	k;

	if (n == 0)
	{
		outbox_jsonb_root_value(value, &v);
		return pushJsonbValue(st, as, &v);
	}
	if (steps[0].name == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("States.Runtime: ResultPath can only set object fields")));
	pushJsonbValue(st, WJB_BEGIN_OBJECT, NULL);
	if (doc && JsonContainerIsObject(doc))
	{
		it = JsonbIteratorInit(doc);
		while (outbox_jsonb_next_pair(&it, &key, &v))
		{
			k.type = jbvString;
			k.val.string.val = key;
			k.val.string.len = strlen(key);
			pushJsonbValue(st, WJB_KEY, &k);
			if (strcmp(key, steps[0].name) == 0)
			{
				if (n > 1 && (v.type != jbvBinary || !JsonContainerIsObject(v.val.binary.data)))
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("States.ResultPathMatchFailure: field \"%s\" on the ResultPath is not an object",
									key)));
				(void) set_at(st, v.type == jbvBinary ? v.val.binary.data : NULL, steps + 1, n - 1, value, WJB_VALUE);
				done = true;
			}
			else
				pushJsonbValue(st, WJB_VALUE, &v);
		}
	}
	if (!done)
	{
		k.type = jbvString;
		k.val.string.val = steps[0].name;
		k.val.string.len = strlen(steps[0].name);
		pushJsonbValue(st, WJB_KEY, &k);
		(void) set_at(st, NULL, steps + 1, n - 1, value, WJB_VALUE);
	}
	return pushJsonbValue(st, WJB_END_OBJECT, NULL);
}

/* The state's output, from its raw input and the result of its work. */
Jsonb *
sfn_state_output(JsonbContainer *state, Jsonb *raw_input, Jsonb *result, Jsonb *context)
{
	return sfn_place_result(state, raw_input, sfn_select_result(state, result, context), context);
}

/* ResultSelector applied to a result (the result itself without one). */
Jsonb *
sfn_select_result(JsonbContainer *state, Jsonb *result, Jsonb *context)
{
	JsonbValue *selector = outbox_jsonb_get(state, "ResultSelector");

	return selector ? sfn_apply_template(JsonbValueToJsonb(selector), result, context) : result;
}

/* ResultPath, then OutputPath: the output of a state whose result was selected. */
Jsonb *
sfn_place_result(JsonbContainer *state, Jsonb *raw_input, Jsonb *selected, Jsonb *context)
{
	return sfn_filter_path(state, "OutputPath", sfn_result_path(state, raw_input, selected), context);
}

/* Place result into the raw input as the ResultPath of holder (a state or a catcher) says. */
Jsonb *
sfn_result_path(JsonbContainer *holder, Jsonb *raw_input, Jsonb *result)
{
	bool		present;
	bool		is_null;
	char	   *result_path = string_field(holder, "ResultPath", &present, &is_null);
	OutboxPath	p;
	JsonbParseState *st = NULL;

	if (!present || (result_path && strcmp(result_path, "$") == 0))
		return result;
	if (is_null)
		return raw_input;
	outbox_path_parse(result_path, "ResultPath", &p);
	if (JB_ROOT_IS_SCALAR(raw_input) || JB_ROOT_IS_ARRAY(raw_input))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("States.ResultPathMatchFailure: ResultPath %s cannot be applied to an input that is not an object",
						result_path)));
	return JsonbValueToJsonb(set_at(&st, &raw_input->root, p.steps, p.nsteps, result, WJB_VALUE));
}

/* The first top-level rule of a Choice state that matches, or NULL. */
JsonbContainer *
sfn_choice_rule(JsonbContainer *state, Jsonb *input, Jsonb *context)
{
	JsonbValue *choices = outbox_jsonb_get(state, "Choices");

	for (uint32 i = 0; i < JsonContainerSize(choices->val.binary.data); i++)
	{
		JsonbContainer *rule = getIthJsonbValueFromContainer(choices->val.binary.data, i)->val.binary.data;

		if (sfn_choice_matches(rule, input, context))
			return rule;
	}
	return NULL;
}

/* Where a Choice state goes: the first matching rule's Next, the Default, or NULL. */
char *
sfn_choice_next(JsonbContainer *state, Jsonb *input, Jsonb *context)
{
	JsonbContainer *rule = sfn_choice_rule(state, input, context);

	return outbox_jsonb_get_string(rule ? rule : state, rule ? "Next" : "Default");
}

/* A path that must select a string (ErrorPath, CausePath, TimestampPath). */
char *
sfn_path_string(const char *path, const char *field, Jsonb *doc, Jsonb *context)
{
	Jsonb	   *v = sfn_path_value(path, doc, context);
	JsonbValue	s;

	if (v == NULL || !JB_ROOT_IS_SCALAR(v) || !JsonbExtractScalar(&v->root, &s) || s.type != jbvString)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("States.Runtime: %s %s does not select a string", field, path)));
	return pnstrdup(s.val.string.val, s.val.string.len);
}

/* The state's effective input: InputPath, then Parameters. */
Jsonb *
sfn_state_input(JsonbContainer *state, Jsonb *raw_input, Jsonb *context)
{
	Jsonb	   *in = sfn_filter_path(state, "InputPath", raw_input, context);
	JsonbValue *params = outbox_jsonb_get(state, "Parameters");

	return params ? sfn_apply_template(JsonbValueToJsonb(params), in, context) : in;
}

PG_FUNCTION_INFO_V1(outbox_test_state);
Datum
outbox_test_state(PG_FUNCTION_ARGS)
{
	Jsonb	   *definition;
	char	   *name;
	Jsonb	   *input;
	Jsonb	   *result;
	Jsonb	   *context;
	JsonbValue *states;
	JsonbValue *sv;
	JsonbContainer *state;
	char	   *type;
	Jsonb	   *effective;
	JsonbParseState *st = NULL;
	JsonbValue	v;
	List	   *diags;

	outbox_arg_not_null(fcinfo, 0, "definition");
	definition = PG_GETARG_JSONB_P(0);
	name = outbox_arg_text(fcinfo, 1, "state_name");
	outbox_arg_not_null(fcinfo, 2, "input");
	input = PG_GETARG_JSONB_P(2);
	result = PG_ARGISNULL(3) ? NULL : PG_GETARG_JSONB_P(3);
	context = PG_ARGISNULL(4) ? json_of("{}") : PG_GETARG_JSONB_P(4);

	diags = sfn_validate_definition(definition);
	if (diags != NIL)
	{
		SfnDiagnostic *d = linitial(diags);

		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid state machine definition at %s: %s", d->location, d->message)));
	}
	states = outbox_jsonb_get(&definition->root, "States");
	sv = outbox_jsonb_get(states->val.binary.data, name);
	if (sv == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("state \"%s\" is not a top-level state of the definition", name)));
	state = sv->val.binary.data;
	type = outbox_jsonb_scalar_cstring(outbox_jsonb_get(state, "Type"));

	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	if (strcmp(type, "Fail") == 0)
	{
		char	   *error = outbox_jsonb_get(state, "Error") ? outbox_jsonb_scalar_cstring(outbox_jsonb_get(state, "Error")) : NULL;
		char	   *cause = outbox_jsonb_get(state, "Cause") ? outbox_jsonb_scalar_cstring(outbox_jsonb_get(state, "Cause")) : NULL;

		outbox_jsonb_push_string(&st, "status", "FAILED");
		if (error)
			outbox_jsonb_push_string(&st, "error", error);
		if (cause)
			outbox_jsonb_push_string(&st, "cause", cause);
		PG_RETURN_JSONB_P(JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL)));
	}
	effective = strcmp(type, "Choice") == 0 || strcmp(type, "Wait") == 0 || strcmp(type, "Succeed") == 0 ?
		sfn_filter_path(state, "InputPath", input, context) : sfn_state_input(state, input, context);
	outbox_jsonb_root_value(effective, &v);
	outbox_jsonb_push_value(&st, "effectiveInput", &v);

	if (strcmp(type, "Choice") == 0)
	{
		char	   *next = sfn_choice_next(state, effective, context);
		Jsonb	   *out;

		if (next == NULL)
		{
			outbox_jsonb_push_string(&st, "status", "FAILED");
			outbox_jsonb_push_string(&st, "error", "States.NoChoiceMatched");
			outbox_jsonb_push_string(&st, "cause", "no Choice rule matched and there is no Default");
			PG_RETURN_JSONB_P(JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL)));
		}
		out = sfn_filter_path(state, "OutputPath", effective, context);
		outbox_jsonb_root_value(out, &v);
		outbox_jsonb_push_value(&st, "output", &v);
		outbox_jsonb_push_string(&st, "nextState", next);
		outbox_jsonb_push_string(&st, "status", "SUCCEEDED");
	}
	else
	{
		Jsonb	   *out;
		JsonbValue *next = outbox_jsonb_get(state, "Next");

		if (strcmp(type, "Pass") == 0)
		{
			JsonbValue *r = outbox_jsonb_get(state, "Result");

			out = sfn_state_output(state, input, r ? JsonbValueToJsonb(r) : effective, context);
		}
		else if (strcmp(type, "Task") == 0 || strcmp(type, "Parallel") == 0 || strcmp(type, "Map") == 0)
		{
			if (result == NULL)
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("\"result\" must be given for a %s state: what its work returned", type)));
			out = sfn_state_output(state, input, result, context);
		}
		else
			out = sfn_filter_path(state, "OutputPath", effective, context);
		outbox_jsonb_root_value(out, &v);
		outbox_jsonb_push_value(&st, "output", &v);
		if (next)
			outbox_jsonb_push_value(&st, "nextState", next);
		outbox_jsonb_push_string(&st, "status", "SUCCEEDED");
	}
	PG_RETURN_JSONB_P(JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL)));
}
