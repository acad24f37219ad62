-- sfn: Step Functions-style state machines.  This first part is the
-- Amazon States Language validator; state machines and executions follow.

CREATE FUNCTION outbox.validate_state_machine_definition(definition jsonb,
        OUT severity text, OUT code text, OUT message text, OUT location text)
    RETURNS SETOF record AS 'MODULE_PATHNAME', 'outbox_validate_state_machine_definition' LANGUAGE C IMMUTABLE;
COMMENT ON FUNCTION outbox.validate_state_machine_definition(jsonb) IS
  'ValidateStateMachineDefinition: every problem of an Amazon States Language definition (JSONPath mode), with its location; no rows when it is valid';

CREATE TABLE outbox.state_machine (
    name            text PRIMARY KEY,
    type            text NOT NULL CHECK (type IN ('STANDARD', 'EXPRESS')),
    definition      jsonb NOT NULL,
    owner           name NOT NULL,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    revision        integer NOT NULL DEFAULT 1
);
COMMENT ON TABLE outbox.state_machine IS 'State machines: validated ASL definitions (use create_state_machine)';
REVOKE ALL ON outbox.state_machine FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('outbox.state_machine', '');

CREATE FUNCTION outbox.create_state_machine(name text, definition jsonb, type text DEFAULT 'STANDARD')
    RETURNS text AS 'MODULE_PATHNAME', 'outbox_create_state_machine' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION outbox.create_state_machine(text, jsonb, text) IS
  'CreateStateMachine: validate and store a definition (idempotent for the same definition and type); returns the ARN';

CREATE FUNCTION outbox.update_state_machine(name text, definition jsonb)
    RETURNS text AS 'MODULE_PATHNAME', 'outbox_update_state_machine' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION outbox.update_state_machine(text, jsonb) IS 'UpdateStateMachine: a new, validated definition';

CREATE FUNCTION outbox.delete_state_machine(name text)
    RETURNS void AS 'MODULE_PATHNAME', 'outbox_delete_state_machine' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION outbox.delete_state_machine(text) IS 'DeleteStateMachine (a missing machine is not an error)';

CREATE FUNCTION outbox.describe_state_machine(name text)
    RETURNS jsonb AS 'MODULE_PATHNAME', 'outbox_describe_state_machine' LANGUAGE C STABLE;
COMMENT ON FUNCTION outbox.describe_state_machine(text) IS 'DescribeStateMachine';

CREATE FUNCTION outbox.list_state_machines(OUT name text, OUT arn text, OUT type text, OUT owner name,
        OUT created_at timestamptz)
    RETURNS SETOF record AS 'MODULE_PATHNAME', 'outbox_list_state_machines' LANGUAGE C STABLE;
COMMENT ON FUNCTION outbox.list_state_machines() IS 'ListStateMachines: the machines the caller owns (all, for a superuser)';

CREATE FUNCTION outbox.test_state_parameters(parameters jsonb, input jsonb, context jsonb DEFAULT '{}')
    RETURNS jsonb AS 'MODULE_PATHNAME', 'outbox_test_state_parameters' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION outbox.test_state_parameters(jsonb, jsonb, jsonb) IS
  'Fill a Parameters (or ResultSelector, ItemSelector) template against an input and a context object: paths, $$ and every intrinsic function, as a state would';

CREATE FUNCTION outbox.test_choice_rule(rule jsonb, input jsonb, context jsonb DEFAULT '{}')
    RETURNS boolean AS 'MODULE_PATHNAME', 'outbox_test_choice_rule' LANGUAGE C IMMUTABLE;
COMMENT ON FUNCTION outbox.test_choice_rule(jsonb, jsonb, jsonb) IS
  'Whether a Choice rule (And, Or, Not or a comparison) matches an input, as a Choice state decides';

CREATE FUNCTION outbox.test_state(definition jsonb, state_name text, input jsonb, result jsonb DEFAULT NULL,
        context jsonb DEFAULT '{}')
    RETURNS jsonb AS 'MODULE_PATHNAME', 'outbox_test_state' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION outbox.test_state(jsonb, text, jsonb, jsonb, jsonb) IS
  'TestState: run one top-level state''s data flow (InputPath, Parameters, ResultSelector, ResultPath, OutputPath; a Choice''s next state) on an input and, for Task/Parallel/Map, the result of its work';
