-- The life of an execution after it stops: RedriveExecution (from the
-- state that failed, the same input, ExecutionRedriven, $$.Execution.
-- RedriveCount, only the failed branches and iterations again, a fresh
-- execution timeout), StopExecution of waiting tasks and of a parent
-- whose .sync child is running, and UpdateStateMachine leaving running
-- executions on the definition they started with.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_outbox;
RESET client_min_messages;
\set VERBOSITY terse
CREATE FUNCTION pg_temp.err(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN EXECUTE sql; RETURN 'ok'; EXCEPTION WHEN OTHERS THEN RETURN SQLSTATE || ': ' || SQLERRM; END $$;
CREATE FUNCTION pg_temp.drive() RETURNS void LANGUAGE plpgsql AS $$
BEGIN FOR i IN 1..50 LOOP EXIT WHEN outbox.run_due_work() = 0; END LOOP; END $$;
CREATE FUNCTION pg_temp.tick(s numeric) RETURNS void LANGUAGE sql AS $$
  SELECT outbox.advance_clock(make_interval(secs => s)) $$;
CREATE FUNCTION pg_temp.arn(machine text, name text) RETURNS text LANGUAGE sql AS $$
  SELECT 'arn:aws:states:local:000000000000:execution:' || machine || ':' || name $$;
CREATE FUNCTION pg_temp.outcome(machine text, name text) RETURNS jsonb LANGUAGE sql AS $$
  SELECT jsonb_object_agg(k, v) FROM jsonb_each(outbox.describe_execution(pg_temp.arn(machine, name))) e(k, v)
   WHERE k IN ('status', 'output', 'error', 'cause', 'redriveCount', 'redriveStatus') $$;
CREATE FUNCTION pg_temp.types(machine text, name text, since int DEFAULT 0) RETURNS text LANGUAGE sql AS $$
  SELECT string_agg(type, ' ' ORDER BY id) FROM outbox.get_execution_history(pg_temp.arn(machine, name)) WHERE id > since $$;
CREATE FUNCTION pg_temp.take(q text) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
  SELECT * INTO r FROM outbox.receive_message(q);
  IF NOT FOUND THEN RETURN NULL; END IF;
  PERFORM outbox.delete_message(q, r.receipt_handle);
  RETURN r.body::jsonb;
END $$;

CREATE TABLE runs (n serial, what text);
CREATE TABLE gates (name text PRIMARY KEY);
-- log a run of p.what
CREATE FUNCTION log_run(p jsonb) RETURNS jsonb LANGUAGE sql AS $$
  INSERT INTO runs (what) VALUES (p ->> 'what') RETURNING jsonb_build_object('ran', what) $$;
-- fail with GateClosed until the gate p.gate is opened; then report the redrive count it sees
CREATE FUNCTION pass_gate(p jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO runs (what) VALUES ('gate ' || (p ->> 'gate'));
  IF NOT EXISTS (SELECT FROM gates WHERE name = p ->> 'gate') THEN
    PERFORM outbox.raise_task_error('GateClosed', 'gate ' || (p ->> 'gate') || ' is closed');
  END IF;
  RETURN jsonb_build_object('passed', p ->> 'gate', 'redriveCount', outbox.task_context() #> '{Execution,RedriveCount}');
END $$;

-- a failed execution redriven: it goes on from the failed state with that state's
-- input; the states before it are not run again
SELECT outbox.create_state_machine('exec-redrive', '{"StartAt": "Prepare", "States": {
  "Prepare": {"Type": "Task", "Resource": "function:log_run", "Parameters": {"what": "prepare"}, "ResultPath": "$.prepared", "Next": "Gate"},
  "Gate": {"Type": "Task", "Resource": "function:pass_gate", "ResultPath": "$.gate", "Next": "Done"},
  "Done": {"Type": "Pass", "Parameters": {"prepared.$": "$.prepared", "gate.$": "$.gate", "redrives.$": "$$.Execution.RedriveCount"}, "End": true}}}') IS NOT NULL AS created;
SELECT outbox.start_execution('exec-redrive', '{"gate": "g1"}', 'r1') IS NOT NULL AS started;
SELECT pg_temp.drive();
SELECT pg_temp.outcome('exec-redrive', 'r1');
-- RUNNING and SUCCEEDED executions cannot be redriven
SELECT outbox.start_execution('exec-redrive', '{"gate": "g0"}', 'running') IS NOT NULL AS started;
SELECT pg_temp.err(format('SELECT outbox.redrive_execution(%L)', pg_temp.arn('exec-redrive', 'running')));
SELECT outbox.stop_execution(pg_temp.arn('exec-redrive', 'running')) IS NOT NULL AS stopped;
SELECT pg_temp.err($$SELECT outbox.redrive_execution('arn:aws:states:local:000000000000:execution:exec-redrive:nope')$$);
SELECT pg_temp.err('SELECT outbox.redrive_execution(NULL)');
INSERT INTO gates VALUES ('g1');
SELECT outbox.redrive_execution(pg_temp.arn('exec-redrive', 'r1')) IS NOT NULL AS redriven;
SELECT d ->> 'status' AS status, d -> 'redriveCount' AS redrive_count, d ? 'stopDate' AS has_stop_date,
       (d ->> 'redriveDate')::timestamptz >= (d ->> 'startDate')::timestamptz AS redrive_date
  FROM outbox.describe_execution(pg_temp.arn('exec-redrive', 'r1')) d;
SELECT name, status, redrive_count FROM outbox.list_executions('exec-redrive', 'RUNNING');
SELECT pg_temp.drive();
SELECT pg_temp.outcome('exec-redrive', 'r1');
SELECT what, count(*) FROM runs GROUP BY what ORDER BY what;
SELECT id, previous_event_id, type, details ->> 'name' AS name, details -> 'redriveCount' AS redrive_count,
       details -> 'input' AS input
  FROM outbox.get_execution_history(pg_temp.arn('exec-redrive', 'r1')) WHERE id >= 9;
SELECT pg_temp.err(format('SELECT outbox.redrive_execution(%L)', pg_temp.arn('exec-redrive', 'r1')));
-- a stopped (ABORTED) execution is redrivable too; once more in the same state
SELECT pg_temp.outcome('exec-redrive', 'running') ->> 'redriveStatus' AS aborted_is;
SELECT outbox.redrive_execution(pg_temp.arn('exec-redrive', 'running')) IS NOT NULL AS redriven;
SELECT pg_temp.drive();
SELECT pg_temp.outcome('exec-redrive', 'running') - 'cause' AS outcome;
INSERT INTO gates VALUES ('g0');
SELECT outbox.redrive_execution(pg_temp.arn('exec-redrive', 'running')) IS NOT NULL AS redriven_again;
SELECT pg_temp.drive();
SELECT pg_temp.outcome('exec-redrive', 'running');

-- a redriven callback task sends a new token; the old one stays dead
SELECT outbox.create_queue('exec-redrive-q') IS NOT NULL AS queue;
SELECT outbox.create_state_machine('exec-redrive-cb', '{"StartAt": "Ask", "States": {
  "Ask": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken", "End": true,
          "Parameters": {"QueueUrl": "exec-redrive-q", "MessageBody": {"token.$": "$$.Task.Token", "redrives.$": "$$.Execution.RedriveCount"}}}}}') IS NOT NULL AS created;
SELECT outbox.start_execution('exec-redrive-cb', '{}', 'c1') IS NOT NULL AS started;
SELECT pg_temp.drive();
SELECT pg_temp.take('exec-redrive-q') ->> 'token' AS token \gset
SELECT outbox.stop_execution(pg_temp.arn('exec-redrive-cb', 'c1'), 'Paused') IS NOT NULL AS stopped;
SELECT outbox.redrive_execution(pg_temp.arn('exec-redrive-cb', 'c1')) IS NOT NULL AS redriven;
SELECT pg_temp.drive();
SELECT pg_temp.take('exec-redrive-q') AS m \gset
SELECT (:'m'::jsonb) -> 'redrives' AS redrives, (:'m'::jsonb) ->> 'token' <> :'token' AS new_token;
SELECT pg_temp.err(format('SELECT outbox.send_task_success(%L, %L)', :'token', '"old"'));
SELECT outbox.send_task_success((:'m'::jsonb) ->> 'token', '"new"');
SELECT pg_temp.drive();
SELECT pg_temp.outcome('exec-redrive-cb', 'c1');
SELECT pg_temp.types('exec-redrive-cb', 'c1');

-- the execution timeout starts again at a redrive
SELECT outbox.create_state_machine('exec-redrive-timeout', '{"TimeoutSeconds": 20, "StartAt": "Long", "States": {
  "Long": {"Type": "Wait", "Seconds": 30, "End": true}}}') IS NOT NULL AS created;
SELECT outbox.start_execution('exec-redrive-timeout', '{}', 't1') IS NOT NULL AS started;
SELECT pg_temp.drive(); SELECT pg_temp.tick(20); SELECT pg_temp.drive();
SELECT pg_temp.outcome('exec-redrive-timeout', 't1') - 'cause' AS outcome;
SELECT outbox.redrive_execution(pg_temp.arn('exec-redrive-timeout', 't1')) IS NOT NULL AS redriven;
SELECT pg_temp.drive(); SELECT pg_temp.tick(19); SELECT pg_temp.drive();
SELECT pg_temp.outcome('exec-redrive-timeout', 't1') ->> 'status' AS after_19s;
SELECT pg_temp.tick(1); SELECT pg_temp.drive();
SELECT pg_temp.outcome('exec-redrive-timeout', 't1') ->> 'status' AS after_20s;

-- Parallel and Map: a redrive runs only the branches and iterations that failed
-- (the failing ones wait a second, so the others have ended when they fail;
-- pass_gate logs only its successful runs: a failed task's writes roll back)
SELECT outbox.create_state_machine('exec-redrive-par', '{"StartAt": "Both", "States": {
  "Both": {"Type": "Parallel", "End": true, "Branches": [
    {"StartAt": "Fine", "States": {"Fine": {"Type": "Task", "Resource": "function:log_run", "Parameters": {"what": "fine branch"}, "End": true}}},
    {"StartAt": "Later", "States": {"Later": {"Type": "Wait", "Seconds": 1, "Next": "Gated"},
                                    "Gated": {"Type": "Task", "Resource": "function:pass_gate", "End": true}}}]}}}') IS NOT NULL AS created;
SELECT outbox.create_state_machine('exec-redrive-map', '{"StartAt": "Each", "States": {
  "Each": {"Type": "Map", "End": true, "ItemProcessor": {"StartAt": "Later", "States": {
    "Later": {"Type": "Wait", "SecondsPath": "$.delay", "Next": "Item"},
    "Item": {"Type": "Task", "Resource": "function:pass_gate", "End": true}}}}}}') IS NOT NULL AS created;
INSERT INTO gates VALUES ('m-a'), ('m-c');
SELECT outbox.start_execution('exec-redrive-par', '{"gate": "p-b"}', 'p1') IS NOT NULL AS started;
SELECT outbox.start_execution('exec-redrive-map', '[{"gate": "m-a", "delay": 0}, {"gate": "m-b", "delay": 1}, {"gate": "m-c", "delay": 0}]', 'm1') IS NOT NULL AS started;
SELECT pg_temp.drive(); SELECT pg_temp.tick(1); SELECT pg_temp.drive();
SELECT pg_temp.outcome('exec-redrive-par', 'p1') - 'cause' AS parallel, pg_temp.outcome('exec-redrive-map', 'm1') - 'cause' AS map;
SELECT what, count(*) FROM runs WHERE what IN ('fine branch', 'gate m-a', 'gate m-b', 'gate m-c', 'gate p-b') GROUP BY what ORDER BY what;
INSERT INTO gates VALUES ('p-b'), ('m-b');
SELECT outbox.redrive_execution(pg_temp.arn('exec-redrive-par', 'p1')) IS NOT NULL AS redriven,
       outbox.redrive_execution(pg_temp.arn('exec-redrive-map', 'm1')) IS NOT NULL AS redriven;
SELECT pg_temp.drive(); SELECT pg_temp.tick(1); SELECT pg_temp.drive();
SELECT pg_temp.outcome('exec-redrive-par', 'p1');
SELECT pg_temp.outcome('exec-redrive-map', 'm1') -> 'status' AS map_status,
       jsonb_path_query_array(pg_temp.outcome('exec-redrive-map', 'm1') -> 'output', '$[*].passed') AS map_passed;
SELECT what, count(*) FROM runs WHERE what IN ('fine branch', 'gate m-a', 'gate m-b', 'gate m-c', 'gate p-b') GROUP BY what ORDER BY what;

-- stopping a parent stops the child execution its .sync task waits for
SELECT outbox.create_state_machine('exec-redrive-child', '{"StartAt": "Long", "States": {
  "Long": {"Type": "Wait", "Seconds": 100, "End": true}}}') IS NOT NULL AS created;
SELECT outbox.create_state_machine('exec-redrive-parent', '{"StartAt": "Run", "States": {
  "Run": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2", "End": true,
          "Parameters": {"StateMachineArn": "exec-redrive-child", "Name": "child-of-s1", "Input": {}}}}}') IS NOT NULL AS created;
SELECT outbox.start_execution('exec-redrive-parent', '{}', 's1') IS NOT NULL AS started;
SELECT pg_temp.drive();
SELECT pg_temp.outcome('exec-redrive-child', 'child-of-s1') ->> 'status' AS child_running;
SELECT outbox.stop_execution(pg_temp.arn('exec-redrive-parent', 's1'), 'Stop', 'parent stopped') IS NOT NULL AS stopped;
SELECT pg_temp.drive();
SELECT pg_temp.types('exec-redrive-parent', 's1', 4);
SELECT pg_temp.outcome('exec-redrive-child', 'child-of-s1') ->> 'status' AS child_status;

-- a task function that stops its own execution: the execution ends ABORTED, the task's result
-- is discarded and nothing after it runs
CREATE FUNCTION stop_self(p jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
  PERFORM outbox.stop_execution(outbox.task_context() #>> '{Execution,Id}', 'SelfStop', 'stopped by its task');
  RETURN '"after the stop"';
END $$;
SELECT outbox.create_state_machine('exec-redrive-selfstop', '{"StartAt": "Stop", "States": {
  "Stop": {"Type": "Task", "Resource": "function:stop_self", "Next": "After"},
  "After": {"Type": "Pass", "Result": "went on", "End": true}}}') IS NOT NULL AS created;
SELECT outbox.start_execution('exec-redrive-selfstop', '{}', 'x1') IS NOT NULL AS started;
SELECT pg_temp.drive();
SELECT pg_temp.outcome('exec-redrive-selfstop', 'x1');
SELECT count(*) FILTER (WHERE type = 'ExecutionAborted') AS aborted_events,
       count(*) FILTER (WHERE type IN ('TaskSucceeded', 'PassStateEntered')) AS went_on
  FROM outbox.get_execution_history(pg_temp.arn('exec-redrive-selfstop', 'x1'));

-- UpdateStateMachine: running executions keep their definition, new ones take the new one
SELECT outbox.create_state_machine('exec-redrive-update', '{"StartAt": "W", "States": {
  "W": {"Type": "Wait", "Seconds": 5, "Next": "V"}, "V": {"Type": "Pass", "Result": "version 1", "End": true}}}') IS NOT NULL AS created;
SELECT outbox.start_execution('exec-redrive-update', '{}', 'old') IS NOT NULL AS started;
SELECT pg_temp.drive();
SELECT outbox.update_state_machine('exec-redrive-update', '{"StartAt": "W", "States": {
  "W": {"Type": "Wait", "Seconds": 5, "Next": "V"}, "V": {"Type": "Pass", "Result": "version 2", "End": true}}}') IS NOT NULL AS updated;
SELECT outbox.start_execution('exec-redrive-update', '{}', 'new') IS NOT NULL AS started;
SELECT pg_temp.drive(); SELECT pg_temp.tick(5); SELECT pg_temp.drive();
SELECT name, outbox.describe_execution(execution_arn) -> 'output' AS output FROM outbox.list_executions('exec-redrive-update') ORDER BY name;

SELECT count(outbox.stop_execution(execution_arn)) >= 0 AS cleaned FROM outbox.list_executions('exec-redrive-child', 'RUNNING');
SELECT outbox.stop_execution(pg_temp.arn('exec-redrive-selfstop', 'x1')) IS NOT NULL AS stopped;
SELECT pg_temp.drive();
SELECT outbox.delete_state_machine(m) FROM unnest('{exec-redrive,exec-redrive-cb,exec-redrive-timeout,exec-redrive-par,exec-redrive-map,exec-redrive-child,exec-redrive-parent,exec-redrive-selfstop,exec-redrive-update}'::text[]) m;
SELECT outbox.delete_queue('exec-redrive-q');
DROP TABLE runs, gates;
DROP FUNCTION log_run(jsonb), pass_gate(jsonb), stop_self(jsonb);
