/*-------------------------------------------------------------------------
 *
 * sfn.h
 *	  Internal API of the sfn room (Step Functions-style state machines).
 *
 * The validator, the data flow (paths, intrinsics, Choice rules) and the
 * machines' catalog; executions have their own header, sfn_exec.h.
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
extern Jsonb *sfn_current_variables;
extern Jsonb *sfn_path_value(const char *path, Jsonb *input, Jsonb *context);
extern Jsonb *sfn_intrinsic(const char *expr, Jsonb *input, Jsonb *context);
extern Jsonb *sfn_apply_template(Jsonb *template, Jsonb *input, Jsonb *context);

/* sfn_flow.c */
extern Jsonb *sfn_state_input(JsonbContainer *state, Jsonb *raw_input, Jsonb *context);
extern Jsonb *sfn_state_output(JsonbContainer *state, Jsonb *raw_input, Jsonb *result, Jsonb *context);
extern Jsonb *sfn_filter_path(JsonbContainer *state, const char *key, Jsonb *doc, Jsonb *context);
extern Jsonb *sfn_result_path(JsonbContainer *holder, Jsonb *raw_input, Jsonb *result);
extern Jsonb *sfn_select_result(JsonbContainer *state, Jsonb *result, Jsonb *context);
extern Jsonb *sfn_place_result(JsonbContainer *state, Jsonb *raw_input, Jsonb *selected, Jsonb *context);
extern char *sfn_choice_next(JsonbContainer *state, Jsonb *input, Jsonb *context);
extern JsonbContainer *sfn_choice_rule(JsonbContainer *state, Jsonb *input, Jsonb *context);
extern char *sfn_path_string(const char *path, const char *field, Jsonb *doc, Jsonb *context);

/* sfn_api.c: machines, names, rights */
extern char *sfn_machine_arn(const char *name);
extern const char *sfn_machine_name(const char *name_or_arn);
extern void sfn_check_name(const char *name, const char *what);
extern bool sfn_machine_has_right(const char *machine, Oid role, const char *privilege);
extern void sfn_check_read_right(const char *machine);

/* sfn_exec_api.c: for other rooms */
extern void sfn_start_as(const char *machine, const char *input, Oid role, bool *ok, char **error);

/* sfn_choice.c */
extern bool sfn_choice_matches(JsonbContainer *rule, Jsonb *input, Jsonb *context);

/* sfn_validate.c */
extern List *sfn_validate_definition(Jsonb *definition);

#endif							/* OUTBOX_SFN_H */
