-- sfn: Step Functions-style state machines: the Amazon States Language
-- validator and data tools, machines and their revisions, executions with
-- their threads and history, task tokens.

CREATE FUNCTION outbox.validate_state_machine_definition(definition jsonb,
        OUT severity text, OUT code text, OUT message text, OUT location text)
    RETURNS SETOF record AS 'MODULE_PATHNAME', 'outbox_validate_state_machine_definition' LANGUAGE C IMMUTABLE;
COMMENT ON FUNCTION outbox.validate_state_machine_definition(jsonb) IS
  'ValidateStateMachineDefinition: every problem of an Amazon States Language definition (JSONPath mode), with its location; no rows when it is valid';

CREATE SEQUENCE outbox.state_machine_id_seq AS integer;
CREATE TABLE outbox.state_machine (
    name            text PRIMARY KEY,
    machine_id      integer NOT NULL UNIQUE DEFAULT nextval('outbox.state_machine_id_seq'),
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

-- ---- machines: ids, revisions, grants

SELECT pg_catalog.pg_extension_config_dump('outbox.state_machine_id_seq', '');

-- Every definition a machine ever had: running executions keep the one they started with.
CREATE TABLE outbox.state_machine_revision (
    machine_id      integer NOT NULL,
    revision        integer NOT NULL,
    definition      jsonb NOT NULL,
    PRIMARY KEY (machine_id, revision)
);
COMMENT ON TABLE outbox.state_machine_revision IS 'The definitions of every revision of every state machine (executions run the revision they started with)';

-- Privileges granted on a machine: start (1: start, stop, redrive executions), read (2).
CREATE TABLE outbox.state_machine_grant (
    machine_id      integer NOT NULL REFERENCES outbox.state_machine (machine_id) ON DELETE CASCADE,
    grantee         name NOT NULL,
    privileges      integer NOT NULL CHECK (privileges >= 0 AND privileges < 4),
    PRIMARY KEY (machine_id, grantee)
);
COMMENT ON TABLE outbox.state_machine_grant IS 'Privileges granted on state machines (use grant_state_machine and revoke_state_machine)';

-- ---- executions

CREATE SEQUENCE outbox.execution_id_seq AS bigint;

CREATE TABLE outbox.execution (
    execution_id    bigint PRIMARY KEY,
    arn             text NOT NULL UNIQUE,
    name            text NOT NULL,
    state_machine   text NOT NULL,
    type            text NOT NULL,
    machine_id      integer NOT NULL,
    revision        integer NOT NULL,
    owner           regrole NOT NULL,
    started_by      regrole NOT NULL,
    status          text NOT NULL CHECK (status IN ('RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED')),
    input           jsonb NOT NULL,
    output          jsonb,
    error           text,
    cause           text,
    start_date      timestamptz NOT NULL,
    stop_date       timestamptz,
    timeout_at      timestamptz NOT NULL,
    redrive_count   integer NOT NULL DEFAULT 0,
    redrive_date    timestamptz,
    last_event      integer NOT NULL,
    next_thread     integer NOT NULL,
    parent_token    text
);
CREATE INDEX execution_machine_idx ON outbox.execution (state_machine, start_date DESC);
CREATE INDEX execution_running_idx ON outbox.execution (state_machine) WHERE status = 'RUNNING';
COMMENT ON TABLE outbox.execution IS 'Executions of state machines (use start_execution, describe_execution, list_executions)';

-- The running threads of an execution: 0 is the top level, Parallel
-- branches and Map items have their own.  phase and status are the
-- interpreter's enums (src/sfn/sfn_exec.h).
CREATE TABLE outbox.execution_thread (
    execution_id    bigint NOT NULL,
    thread_id       integer NOT NULL,
    parent_id       integer,
    item_index      integer NOT NULL,
    scope           text NOT NULL,
    state           text NOT NULL,
    phase           integer NOT NULL,
    status          integer NOT NULL,
    input           jsonb,
    work            jsonb,
    retries         jsonb,
    retry_count     integer NOT NULL,
    token           text,
    entered_at      timestamptz NOT NULL,
    timeout_at      timestamptz NOT NULL,
    heartbeat_at    timestamptz NOT NULL,
    wake            integer NOT NULL,
    pending         integer NOT NULL,
    next_item       integer NOT NULL,
    failures        integer NOT NULL,
    last_event      integer NOT NULL,
    output          jsonb,
    error           text,
    cause           text,
    vars            jsonb,
    PRIMARY KEY (execution_id, thread_id)
);
CREATE INDEX execution_thread_parent_idx ON outbox.execution_thread (execution_id, parent_id);
COMMENT ON TABLE outbox.execution_thread IS 'Where each thread of an execution is (the interpreter''s state; read it through the execution functions)';

CREATE TABLE outbox.execution_event (
    execution_id        bigint NOT NULL,
    event_id            integer NOT NULL,
    previous_event_id   integer NOT NULL,
    timestamp           timestamptz NOT NULL,
    type                text NOT NULL,
    details             jsonb,
    PRIMARY KEY (execution_id, event_id)
);
COMMENT ON TABLE outbox.execution_event IS 'The history of STANDARD executions (use get_execution_history)';

REVOKE ALL ON outbox.state_machine_revision, outbox.state_machine_grant, outbox.execution,
    outbox.execution_thread, outbox.execution_event, outbox.execution_id_seq,
    outbox.state_machine_id_seq FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('outbox.state_machine_revision', '');
SELECT pg_catalog.pg_extension_config_dump('outbox.state_machine_grant', '');
SELECT pg_catalog.pg_extension_config_dump('outbox.execution', '');
SELECT pg_catalog.pg_extension_config_dump('outbox.execution_thread', '');
SELECT pg_catalog.pg_extension_config_dump('outbox.execution_event', '');
SELECT pg_catalog.pg_extension_config_dump('outbox.execution_id_seq', '');

CREATE FUNCTION outbox.grant_state_machine(name text, privileges text[], grantee text)
    RETURNS void AS 'MODULE_PATHNAME', 'outbox_grant_state_machine' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION outbox.grant_state_machine(text, text[], text) IS
  'Let a role start (and stop, redrive) executions of a machine, or read them; only the owner may grant';
CREATE FUNCTION outbox.revoke_state_machine(name text, privileges text[], grantee text)
    RETURNS void AS 'MODULE_PATHNAME', 'outbox_revoke_state_machine' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION outbox.revoke_state_machine(text, text[], text) IS 'Take back rights given by grant_state_machine';

CREATE FUNCTION outbox.start_execution(state_machine text, input jsonb DEFAULT '{}', name text DEFAULT NULL)
    RETURNS text AS 'MODULE_PATHNAME', 'outbox_start_execution' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION outbox.start_execution(text, jsonb, text) IS
  'StartExecution in this transaction (it runs after commit); returns the execution ARN; idempotent by name for a running STANDARD execution with the same input';

CREATE FUNCTION outbox.start_sync_execution(state_machine text, input jsonb DEFAULT '{}', name text DEFAULT NULL,
        include_history boolean DEFAULT false)
    RETURNS jsonb AS 'MODULE_PATHNAME', 'outbox_start_sync_execution' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION outbox.start_sync_execution(text, jsonb, text, boolean) IS
  'StartSyncExecution: run an EXPRESS machine now, in this transaction; returns status, output or error and cause (and the history when asked)';

CREATE FUNCTION outbox.stop_execution(execution_arn text, error text DEFAULT NULL, cause text DEFAULT NULL)
    RETURNS timestamptz AS 'MODULE_PATHNAME', 'outbox_stop_execution' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION outbox.stop_execution(text, text, text) IS 'StopExecution: ABORTED; returns the stop date (an ended execution is left as it is)';

CREATE FUNCTION outbox.redrive_execution(execution_arn text)
    RETURNS timestamptz AS 'MODULE_PATHNAME', 'outbox_redrive_execution' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION outbox.redrive_execution(text) IS 'RedriveExecution: a FAILED, TIMED_OUT or ABORTED execution runs again from the state it stopped in';

CREATE FUNCTION outbox.describe_execution(execution_arn text)
    RETURNS jsonb AS 'MODULE_PATHNAME', 'outbox_describe_execution' LANGUAGE C STABLE;
COMMENT ON FUNCTION outbox.describe_execution(text) IS 'DescribeExecution: status, input, output or error and cause, dates, redrives';

CREATE FUNCTION outbox.list_executions(state_machine text, status_filter text DEFAULT NULL,
        max_results integer DEFAULT 100,
        OUT execution_arn text, OUT name text, OUT status text, OUT start_date timestamptz,
        OUT stop_date timestamptz, OUT redrive_count integer, OUT type text)
    RETURNS SETOF record AS 'MODULE_PATHNAME', 'outbox_list_executions' LANGUAGE C STABLE;
COMMENT ON FUNCTION outbox.list_executions(text, text, integer) IS 'ListExecutions: newest first';

CREATE FUNCTION outbox.get_execution_history(execution_arn text, reverse_order boolean DEFAULT false,
        include_execution_data boolean DEFAULT true,
        OUT id integer, OUT previous_event_id integer, OUT "timestamp" timestamptz, OUT type text,
        OUT details jsonb)
    RETURNS SETOF record AS 'MODULE_PATHNAME', 'outbox_get_execution_history' LANGUAGE C STABLE;
COMMENT ON FUNCTION outbox.get_execution_history(text, boolean, boolean) IS
  'GetExecutionHistory: AWS''s event types with their details (inputs and outputs as jsonb)';

CREATE FUNCTION outbox.send_task_success(task_token text, output jsonb)
    RETURNS void AS 'MODULE_PATHNAME', 'outbox_send_task_success' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION outbox.send_task_success(text, jsonb) IS 'SendTaskSuccess: the waiting task succeeds with output';
CREATE FUNCTION outbox.send_task_failure(task_token text, error text DEFAULT NULL, cause text DEFAULT NULL)
    RETURNS void AS 'MODULE_PATHNAME', 'outbox_send_task_failure' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION outbox.send_task_failure(text, text, text) IS 'SendTaskFailure: the waiting task fails with error and cause';
CREATE FUNCTION outbox.send_task_heartbeat(task_token text)
    RETURNS void AS 'MODULE_PATHNAME', 'outbox_send_task_heartbeat' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION outbox.send_task_heartbeat(text) IS 'SendTaskHeartbeat: the task is alive (restarts HeartbeatSeconds, not TimeoutSeconds)';

CREATE FUNCTION outbox.task_context()
    RETURNS jsonb AS 'MODULE_PATHNAME', 'outbox_task_context' LANGUAGE C STABLE;
COMMENT ON FUNCTION outbox.task_context() IS
  'Inside a task function: the context object ($$): Execution, State, StateMachine, Task.Token when there is one';
CREATE FUNCTION outbox.raise_task_error(error text, cause text DEFAULT NULL)
    RETURNS void AS 'MODULE_PATHNAME', 'outbox_raise_task_error' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION outbox.raise_task_error(text, text) IS
  'Inside a task function: fail the task with this Error name (for Retry and Catch) and Cause';
GRANT EXECUTE ON FUNCTION outbox.task_context(), outbox.raise_task_error(text, text) TO PUBLIC;
COMMENT ON SEQUENCE outbox.state_machine_id_seq IS 'State machine numbers';
COMMENT ON SEQUENCE outbox.execution_id_seq IS 'Execution numbers';
CREATE INDEX execution_revision_idx ON outbox.execution (machine_id, revision);
CREATE INDEX execution_closed_idx ON outbox.execution (stop_date) WHERE status <> 'RUNNING';

CREATE FUNCTION outbox.run_sfn_maintenance() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    forgotten bigint;
BEGIN
    WITH gone AS (
      DELETE FROM outbox.execution WHERE execution_id IN (
        SELECT execution_id FROM outbox.execution
         WHERE status <> 'RUNNING'
           AND stop_date < outbox.clock_now()
                           - make_interval(days => coalesce(current_setting('pg_outbox.execution_retention_days', true), '90')::integer)
         LIMIT 10000)
      RETURNING execution_id),
    events AS (DELETE FROM outbox.execution_event e USING gone g WHERE e.execution_id = g.execution_id),
    threads AS (DELETE FROM outbox.execution_thread t USING gone g WHERE t.execution_id = g.execution_id)
    SELECT count(*) INTO forgotten FROM gone;
    -- then the definitions no machine and no execution refers to any more
    DELETE FROM outbox.state_machine_revision r
     WHERE NOT EXISTS (SELECT 1 FROM outbox.state_machine m WHERE m.machine_id = r.machine_id AND m.revision = r.revision)
       AND NOT EXISTS (SELECT 1 FROM outbox.execution x WHERE x.machine_id = r.machine_id AND x.revision = r.revision);
    RETURN forgotten;
END $$;
REVOKE ALL ON FUNCTION outbox.run_sfn_maintenance() FROM PUBLIC;
COMMENT ON FUNCTION outbox.run_sfn_maintenance() IS
  'Forget executions closed longer than pg_outbox.execution_retention_days ago, and definitions no execution runs any more (the workers run it with queue maintenance)';

CREATE FUNCTION outbox.execution_counts(OUT state_machine text, OUT running bigint, OUT succeeded_last_hour bigint,
        OUT failed_last_hour bigint, OUT timed_out_last_hour bigint, OUT aborted_last_hour bigint,
        OUT last_start timestamptz)
    RETURNS SETOF record AS 'MODULE_PATHNAME', 'outbox_execution_counts' LANGUAGE C STABLE;
COMMENT ON FUNCTION outbox.execution_counts() IS
  'Executions of the machines you may read: running now, and ended in the last hour by status';

-- ---- pictures

CREATE FUNCTION outbox.render_state_machine_graph(definition jsonb, format text DEFAULT 'dot',
        state_status jsonb DEFAULT NULL)
    RETURNS text AS 'MODULE_PATHNAME', 'outbox_render_state_machine_graph' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION outbox.render_state_machine_graph(jsonb, text, jsonb) IS
  'A state machine definition drawn as a graph, as Workflow Studio shows it: Graphviz DOT (format ''dot'') or a Mermaid flowchart (''mermaid''); state_status maps state names to SUCCEEDED, FAILED, TIMED_OUT, CAUGHT, RUNNING, ABORTED or NOT_RUN to color an execution''s states';

CREATE FUNCTION outbox.state_machine_graph(name text, format text DEFAULT 'dot')
    RETURNS text AS 'MODULE_PATHNAME', 'outbox_state_machine_graph' LANGUAGE C STABLE;
COMMENT ON FUNCTION outbox.state_machine_graph(text, text) IS 'A state machine drawn as a graph (dot or mermaid)';

CREATE FUNCTION outbox.execution_graph(execution_arn text, format text DEFAULT 'dot')
    RETURNS text AS 'MODULE_PATHNAME', 'outbox_execution_graph' LANGUAGE C STABLE;
COMMENT ON FUNCTION outbox.execution_graph(text, text) IS
  'An execution drawn over its machine''s graph: each state colored by how it went (succeeded, failed, caught, running, aborted)';
CREATE INDEX execution_parent_idx ON outbox.execution (parent_token) WHERE parent_token IS NOT NULL;
-- an ended execution drops its pending timers
CREATE INDEX due_item_execution_idx ON outbox.due_item ((payload->>'e')) WHERE kind = 'sfn';
