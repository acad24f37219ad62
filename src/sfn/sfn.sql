-- sfn: Step Functions-style state machines.  This first part is the
-- Amazon States Language validator; state machines and executions follow.

CREATE FUNCTION outbox.validate_state_machine_definition(definition jsonb,
        OUT severity text, OUT code text, OUT message text, OUT location text)
    RETURNS SETOF record AS 'MODULE_PATHNAME', 'outbox_validate_state_machine_definition' LANGUAGE C IMMUTABLE;
COMMENT ON FUNCTION outbox.validate_state_machine_definition(jsonb) IS
  'ValidateStateMachineDefinition: every problem of an Amazon States Language definition (JSONPath mode), with its location; no rows when it is valid';
