/*-------------------------------------------------------------------------
 *
 * sfn.h
 *	  Internal API of the sfn room (Step Functions-style state machines).
 *
 * This first part holds the Amazon States Language validator; the
 * interpreter, executions and history come in the next landings.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/sfn/sfn.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef OUTBOX_SFN_H
#define OUTBOX_SFN_H

#include "nodes/pg_list.h"
#include "utils/jsonb.h"

/* One problem of a definition, as ValidateStateMachineDefinition reports it */
typedef struct SfnDiagnostic
{
	const char *severity;		/* ERROR */
	const char *code;			/* SCHEMA_VALIDATION_FAILED, MISSING_TRANSITION_TARGET, ... */
	char	   *message;
	char	   *location;		/* JSON pointer: /States/Check/Choices/0/Next */
} SfnDiagnostic;

/* sfn_data.c: paths, intrinsic functions, templates */
extern Jsonb *sfn_path_value(const char *path, Jsonb *input, Jsonb *context);
extern Jsonb *sfn_intrinsic(const char *expr, Jsonb *input, Jsonb *context);
extern Jsonb *sfn_apply_template(Jsonb *template, Jsonb *input, Jsonb *context);

/* sfn_flow.c */
extern Jsonb *sfn_state_input(JsonbContainer *state, Jsonb *raw_input, Jsonb *context);
extern Jsonb *sfn_state_output(JsonbContainer *state, Jsonb *raw_input, Jsonb *result, Jsonb *context);

/* sfn_choice.c */
extern bool sfn_choice_matches(JsonbContainer *rule, Jsonb *input, Jsonb *context);

/* sfn_validate.c */
extern List *sfn_validate_definition(Jsonb *definition);

#endif							/* OUTBOX_SFN_H */
