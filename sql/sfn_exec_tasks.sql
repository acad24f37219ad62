-- Task states calling SQL functions: the result and the data flow around
-- it, outbox.task_context(), errors (raise_task_error, SQL errors as
-- condition names, States.Permissions, a missing function), Retry with
-- its delays checked against the movable clock, Catch and its
-- ResultPath, what States.ALL and States.TaskFailed match, lambda:invoke,
-- and a task's writes committing with its step only.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_outbox;
RESET client_min_messages;
\set VERBOSITY terse
\i sql/include/sfn_helpers.sql
CREATE FUNCTION pg_temp.attempts(machine text, name text) RETURNS bigint LANGUAGE sql AS $$
  SELECT count(*) FROM outbox.get_execution_history(pg_temp.arn(machine, name)) WHERE type = 'TaskScheduled' $$;

-- task functions: f(jsonb) returning jsonb, json, text or void
CREATE TABLE task_log (n serial, what text, who text);
CREATE FUNCTION hello(p jsonb) RETURNS jsonb LANGUAGE sql AS $$ SELECT to_jsonb('Hello, ' || (p ->> 'who') || '!') $$;
CREATE FUNCTION ctx(p jsonb) RETURNS jsonb LANGUAGE sql AS $$
  SELECT jsonb_build_object('input', p, 'context', c #- '{State,EnteredTime}' #- '{Execution,StartTime}',
         'times_iso', c #>> '{State,EnteredTime}' ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$'
                      AND c #>> '{Execution,StartTime}' ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$')
    FROM outbox.task_context() c $$;
-- fails with the names listed in p.errors, one per attempt ($$.State.RetryCount), then succeeds;
-- every attempt logs itself first (a failed attempt's row must roll back)
CREATE FUNCTION flaky(p jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE n int := (outbox.task_context() #>> '{State,RetryCount}')::int;
BEGIN
  INSERT INTO task_log (what, who) VALUES ('attempt ' || n, current_user);
  IF n < jsonb_array_length(p -> 'errors') THEN
    PERFORM outbox.raise_task_error(p -> 'errors' ->> n, 'attempt ' || n || ' failed');
  END IF;
  RETURN jsonb_build_object('attempts', n + 1);
END $$;
CREATE FUNCTION divide(p jsonb) RETURNS jsonb LANGUAGE sql AS $$ SELECT to_jsonb((p ->> 'a')::int / (p ->> 'b')::int) $$;
CREATE FUNCTION complain(p jsonb) RETURNS text LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'order % is on hold', p ->> 'order'; END $$;
CREATE FUNCTION as_text(p jsonb) RETURNS text LANGUAGE sql AS $$ SELECT 'plain ' || (p ->> 'x') $$;
CREATE FUNCTION as_json(p jsonb) RETURNS json LANGUAGE sql AS $$ SELECT '{"kept":  "as json"}'::json $$;
CREATE FUNCTION as_void(p jsonb) RETURNS void LANGUAGE sql AS $$ INSERT INTO task_log (what) VALUES ('void') $$;
CREATE FUNCTION wrong_type(p jsonb) RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;
CREATE FUNCTION slow(p jsonb) RETURNS jsonb LANGUAGE sql AS $$ SELECT pg_sleep(5); SELECT '"late"'::jsonb $$;
CREATE FUNCTION remember(p jsonb) RETURNS jsonb LANGUAGE sql AS $$
  INSERT INTO task_log (what, who) VALUES (p ->> 'what', current_user) RETURNING jsonb_build_object('logged', n) $$;

-- The developer guide's InputPath/ResultPath/OutputPath example, with the
-- "Hello, ..." function; the function's result, its history events
SELECT outbox.create_state_machine('exec-tasks-paths', '{"StartAt": "Hello", "States": {
  "Hello": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:hello",
            "InputPath": "$.lambda", "ResultPath": "$.data.lambdaresult", "OutputPath": "$.data", "Next": "Context"},
  "Context": {"Type": "Task", "Resource": "function:ctx", "Parameters": {"sum.$": "States.MathAdd($.val1, $.val2)", "name.$": "$$.Execution.Name"},
              "ResultSelector": {"seen.$": "$.input", "context.$": "$.context", "iso.$": "$.times_iso"}, "End": true}}}') IS NOT NULL AS created;
SELECT outbox.start_execution('exec-tasks-paths', '{"comment": "An input comment.", "data": {"val1": 23, "val2": 17},
  "extra": "foo", "lambda": {"who": "AWS Step Functions"}}', 'p1') IS NOT NULL AS started;
SELECT pg_temp.drive();
SELECT jsonb_pretty(pg_temp.outcome('exec-tasks-paths', 'p1'));
SELECT id, previous_event_id, type, details FROM outbox.get_execution_history(pg_temp.arn('exec-tasks-paths', 'p1')) WHERE id <= 6;
-- outside a task there is no context
SELECT pg_temp.err('SELECT outbox.task_context()');

-- results of every return type; a function of another shape is not a task function
SELECT outbox.create_state_machine('exec-tasks-types', '{"StartAt": "Text", "States": {
  "Text": {"Type": "Task", "Resource": "function:as_text", "ResultPath": "$.text", "Next": "Json"},
  "Json": {"Type": "Task", "Resource": "function:as_json", "ResultPath": "$.json", "Next": "Void"},
  "Void": {"Type": "Task", "Resource": "function:public.as_void", "ResultPath": "$.void", "End": true}}}') IS NOT NULL AS created;
SELECT outbox.start_execution('exec-tasks-types', '{"x": 1}', 't1') IS NOT NULL AS started;
SELECT pg_temp.drive();
SELECT pg_temp.outcome('exec-tasks-types', 't1');

-- Retry: the developer guide's example.  The task fails with ErrorA, ErrorB,
-- ErrorC, ErrorB: waits of 1 and 2 seconds (first retrier), 5 (second), then
-- the first retrier is exhausted and the Catch goes to Z.
SELECT outbox.create_state_machine('exec-tasks-retry', '{"StartAt": "X", "States": {
  "X": {"Type": "Task", "Resource": "function:flaky", "Next": "Y",
        "Retry": [{"ErrorEquals": ["ErrorA", "ErrorB"], "IntervalSeconds": 1, "BackoffRate": 2.0, "MaxAttempts": 2},
                  {"ErrorEquals": ["ErrorC"], "IntervalSeconds": 5}],
        "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Z"}]},
  "Y": {"Type": "Pass", "End": true},
  "Z": {"Type": "Pass", "End": true}}}') IS NOT NULL AS created;
SELECT outbox.start_execution('exec-tasks-retry', '{"errors": ["ErrorA", "ErrorB", "ErrorC", "ErrorB"]}', 'r1') IS NOT NULL AS started;
SELECT pg_temp.drive();
SELECT pg_temp.attempts('exec-tasks-retry', 'r1') AS attempts;          -- 1
SELECT pg_temp.tick(0.9); SELECT pg_temp.drive();
SELECT pg_temp.attempts('exec-tasks-retry', 'r1') AS attempts;          -- still 1
SELECT pg_temp.tick(0.1); SELECT pg_temp.drive();
SELECT pg_temp.attempts('exec-tasks-retry', 'r1') AS attempts;          -- 2, after 1 s
SELECT pg_temp.tick(1.9); SELECT pg_temp.drive();
SELECT pg_temp.attempts('exec-tasks-retry', 'r1') AS attempts;
SELECT pg_temp.tick(0.1); SELECT pg_temp.drive();
SELECT pg_temp.attempts('exec-tasks-retry', 'r1') AS attempts;          -- 3, after 2 s
SELECT pg_temp.tick(4.9); SELECT pg_temp.drive();
SELECT pg_temp.attempts('exec-tasks-retry', 'r1') AS attempts;
SELECT pg_temp.tick(0.1); SELECT pg_temp.drive();
SELECT pg_temp.attempts('exec-tasks-retry', 'r1') AS attempts;          -- 4, after 5 s; then caught
SELECT pg_temp.outcome('exec-tasks-retry', 'r1');
SELECT pg_temp.types('exec-tasks-retry', 'r1');
-- the failed attempts' writes rolled back with them
SELECT count(*) AS logged_attempts FROM task_log WHERE what LIKE 'attempt%';
-- and one that gets through on its third attempt, with RetryCount 2
SELECT outbox.start_execution('exec-tasks-retry', '{"errors": ["ErrorA", "ErrorC"]}', 'r2') IS NOT NULL AS started;
SELECT pg_temp.drive(); SELECT pg_temp.tick(1); SELECT pg_temp.drive(); SELECT pg_temp.tick(5); SELECT pg_temp.drive();
SELECT pg_temp.outcome('exec-tasks-retry', 'r2');
SELECT what FROM task_log WHERE what LIKE 'attempt%' ORDER BY n;

-- MaxDelaySeconds caps each delay: Interval 3, Backoff 2, MaxDelay 10 -> 3, 6, 10, 10
SELECT outbox.create_state_machine('exec-tasks-maxdelay', '{"StartAt": "X", "States": {
  "X": {"Type": "Task", "Resource": "function:flaky", "End": true,
        "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 3, "BackoffRate": 2, "MaxDelaySeconds": 10, "MaxAttempts": 4}]}}}') IS NOT NULL AS created;
SELECT outbox.start_execution('exec-tasks-maxdelay', '{"errors": ["E", "E", "E", "E", "E"]}', 'd1') IS NOT NULL AS started;
SELECT pg_temp.drive();
SELECT pg_temp.tick(2.9); SELECT pg_temp.drive(); SELECT pg_temp.attempts('exec-tasks-maxdelay', 'd1') AS before_3s;
SELECT pg_temp.tick(0.1); SELECT pg_temp.drive(); SELECT pg_temp.attempts('exec-tasks-maxdelay', 'd1') AS after_3s;
SELECT pg_temp.tick(5.9); SELECT pg_temp.drive(); SELECT pg_temp.attempts('exec-tasks-maxdelay', 'd1') AS before_6s;
SELECT pg_temp.tick(0.1); SELECT pg_temp.drive(); SELECT pg_temp.attempts('exec-tasks-maxdelay', 'd1') AS after_6s;
SELECT pg_temp.tick(9.9); SELECT pg_temp.drive(); SELECT pg_temp.attempts('exec-tasks-maxdelay', 'd1') AS before_10s;
SELECT pg_temp.tick(0.1); SELECT pg_temp.drive(); SELECT pg_temp.attempts('exec-tasks-maxdelay', 'd1') AS after_10s;
SELECT pg_temp.tick(9.9); SELECT pg_temp.drive(); SELECT pg_temp.attempts('exec-tasks-maxdelay', 'd1') AS before_10s;
SELECT pg_temp.tick(0.1); SELECT pg_temp.drive(); SELECT pg_temp.attempts('exec-tasks-maxdelay', 'd1') AS after_10s;
-- MaxAttempts 4 used up: the fifth failure fails the execution (no TaskStateExited)
SELECT pg_temp.outcome('exec-tasks-maxdelay', 'd1');
SELECT id, type FROM outbox.get_execution_history(pg_temp.arn('exec-tasks-maxdelay', 'd1'), reverse_order => true) LIMIT 3;

-- the defaults: IntervalSeconds 1, BackoffRate 2.0, MaxAttempts 3 -> waits of 1, 2 and 4 s, then the failure
SELECT outbox.create_state_machine('exec-tasks-defaults', '{"StartAt": "X", "States": {
  "X": {"Type": "Task", "Resource": "function:flaky", "End": true, "Retry": [{"ErrorEquals": ["E"]}]}}}') IS NOT NULL AS created;
SELECT outbox.start_execution('exec-tasks-defaults', '{"errors": ["E", "E", "E", "E"]}', 'd1') IS NOT NULL AS started;
SELECT pg_temp.drive();
SELECT pg_temp.tick(0.9); SELECT pg_temp.drive(); SELECT pg_temp.tick(0.1); SELECT pg_temp.drive(); SELECT pg_temp.attempts('exec-tasks-defaults', 'd1') AS after_1s;
SELECT pg_temp.tick(1.9); SELECT pg_temp.drive(); SELECT pg_temp.tick(0.1); SELECT pg_temp.drive(); SELECT pg_temp.attempts('exec-tasks-defaults', 'd1') AS after_2s;
SELECT pg_temp.tick(3.9); SELECT pg_temp.drive(); SELECT pg_temp.attempts('exec-tasks-defaults', 'd1') AS before_4s;
SELECT pg_temp.tick(0.1); SELECT pg_temp.drive(); SELECT pg_temp.attempts('exec-tasks-defaults', 'd1') AS after_4s;
SELECT pg_temp.outcome('exec-tasks-defaults', 'd1');

-- BackoffRate 1.5 (the guide's States.Timeout retrier shape): 3 s, then 4.5 s; JitterStrategy FULL waits at most the delay
SELECT outbox.create_state_machine('exec-tasks-backoff', '{"StartAt": "X", "States": {
  "X": {"Type": "Task", "Resource": "function:flaky", "End": true,
        "Retry": [{"ErrorEquals": ["Slow"], "IntervalSeconds": 3, "MaxAttempts": 2, "BackoffRate": 1.5},
                  {"ErrorEquals": ["Jittery"], "IntervalSeconds": 8, "MaxAttempts": 1, "JitterStrategy": "FULL"}]}}}') IS NOT NULL AS created;
SELECT outbox.start_execution('exec-tasks-backoff', '{"errors": ["Slow", "Slow", "Jittery"]}', 'b1') IS NOT NULL AS started;
SELECT pg_temp.drive();
SELECT pg_temp.tick(3); SELECT pg_temp.drive(); SELECT pg_temp.attempts('exec-tasks-backoff', 'b1') AS after_3s;
SELECT pg_temp.tick(4.4); SELECT pg_temp.drive(); SELECT pg_temp.attempts('exec-tasks-backoff', 'b1') AS before_4_5s;
SELECT pg_temp.tick(0.1); SELECT pg_temp.drive(); SELECT pg_temp.attempts('exec-tasks-backoff', 'b1') AS after_4_5s;
SELECT pg_temp.tick(8); SELECT pg_temp.drive(); SELECT pg_temp.attempts('exec-tasks-backoff', 'b1') AS within_8s;
SELECT pg_temp.outcome('exec-tasks-backoff', 'b1');

-- MaxAttempts 0: ErrorA is never retried (the later catch-all retrier is not consulted)
SELECT outbox.create_state_machine('exec-tasks-noretry', '{"StartAt": "X", "States": {
  "X": {"Type": "Task", "Resource": "function:flaky", "End": true,
        "Retry": [{"ErrorEquals": ["ErrorA"], "MaxAttempts": 0}, {"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1}],
        "Catch": [{"ErrorEquals": ["ErrorA"], "ResultPath": "$.caught", "Next": "Caught"}]},
  "Caught": {"Type": "Pass", "End": true}}}') IS NOT NULL AS created;
SELECT outbox.start_execution('exec-tasks-noretry', '{"errors": ["ErrorB", "ErrorA"]}', 'n1') IS NOT NULL AS started;
SELECT pg_temp.drive(); SELECT pg_temp.tick(1); SELECT pg_temp.drive();
SELECT pg_temp.attempts('exec-tasks-noretry', 'n1') AS attempts, pg_temp.outcome('exec-tasks-noretry', 'n1');

-- Catch and its ResultPath (the guide's "error with the original input"); the default $ replaces
-- the input, null keeps it; SQL errors fail with their condition name and message
SELECT outbox.create_state_machine('exec-tasks-catch', '{"StartAt": "Divide", "States": {
  "Divide": {"Type": "Task", "Resource": "function:divide", "ResultPath": "$.quotient", "Next": "Complain",
             "Catch": [{"ErrorEquals": ["division_by_zero"], "ResultPath": "$.error", "Next": "Complain"}]},
  "Complain": {"Type": "Task", "Resource": "function:complain", "Next": "Done",
               "Catch": [{"ErrorEquals": ["unique_violation"], "Next": "Done"},
                         {"ErrorEquals": ["raise_exception"], "ResultPath": null, "Next": "Replace"}]},
  "Replace": {"Type": "Task", "Resource": "function:flaky", "Parameters": {"errors": ["Error here"]}, "End": true,
              "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Done"}]},
  "Done": {"Type": "Succeed"}}}') IS NOT NULL AS created;
SELECT outbox.start_execution('exec-tasks-catch', '{"foo": "bar", "a": 1, "b": 0, "order": 7}', 'c1') IS NOT NULL AS started;
SELECT pg_temp.drive();
SELECT pg_temp.outcome('exec-tasks-catch', 'c1');
SELECT type, details ->> 'name' AS name, coalesce(details -> 'output', details - 'resource' - 'resourceType') AS details
  FROM outbox.get_execution_history(pg_temp.arn('exec-tasks-catch', 'c1'))
 WHERE type IN ('TaskFailed', 'TaskStateExited') ORDER BY id;

-- States.ALL does not catch States.Runtime (OutputPath selecting nothing); a TaskFailed
-- catcher does not catch States.Timeout (TimeoutSeconds as a statement timeout)
SELECT outbox.create_state_machine('exec-tasks-uncatchable', '{"StartAt": "Runtime", "States": {
  "Runtime": {"Type": "Task", "Resource": "function:hello", "OutputPath": "$.missing", "End": true,
              "Retry": [{"ErrorEquals": ["States.ALL"]}], "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}]},
  "Caught": {"Type": "Succeed"}}}') IS NOT NULL AS created;
SELECT outbox.start_execution('exec-tasks-uncatchable', '{"who": "x"}', 'u1') IS NOT NULL AS started;
SELECT pg_temp.drive();
SELECT pg_temp.outcome('exec-tasks-uncatchable', 'u1') - 'cause' AS outcome, pg_temp.types('exec-tasks-uncatchable', 'u1');
SELECT outbox.create_state_machine('exec-tasks-timeout', '{"StartAt": "Slow", "States": {
  "Slow": {"Type": "Task", "Resource": "function:slow", "TimeoutSeconds": 1, "End": true,
           "Catch": [{"ErrorEquals": ["States.TaskFailed"], "Next": "Wrong"}, {"ErrorEquals": ["States.Timeout"], "ResultPath": "$.timeout", "Next": "Right"}]},
  "Wrong": {"Type": "Fail", "Error": "Wrong"},
  "Right": {"Type": "Succeed"}}}') IS NOT NULL AS created;
SELECT outbox.start_execution('exec-tasks-timeout', '{}', 'to1') IS NOT NULL AS started;
SELECT pg_temp.drive();
SELECT pg_temp.outcome('exec-tasks-timeout', 'to1'), pg_temp.types('exec-tasks-timeout', 'to1');
-- a task result over 256 KiB is States.DataLimitExceeded: terminal, States.ALL does not catch it
CREATE FUNCTION too_big(p jsonb) RETURNS jsonb LANGUAGE sql AS $$ SELECT to_jsonb(repeat('x', 262145)) $$;
SELECT outbox.create_state_machine('exec-tasks-big', '{"StartAt": "Big", "States": {
  "Big": {"Type": "Task", "Resource": "function:too_big", "End": true,
          "Retry": [{"ErrorEquals": ["States.ALL"]}], "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}]},
  "Caught": {"Type": "Succeed"}}}') IS NOT NULL AS created;
SELECT outbox.start_execution('exec-tasks-big', '{}', 'b1') IS NOT NULL AS started;
SELECT pg_temp.drive();
SELECT pg_temp.outcome('exec-tasks-big', 'b1') - 'cause' AS outcome, pg_temp.attempts('exec-tasks-big', 'b1') AS attempts;
-- States.TaskFailed matches an ordinary failure
SELECT outbox.create_state_machine('exec-tasks-taskfailed', '{"StartAt": "X", "States": {
  "X": {"Type": "Task", "Resource": "function:divide", "End": true,
        "Catch": [{"ErrorEquals": ["States.TaskFailed"], "Next": "Caught"}]},
  "Caught": {"Type": "Pass", "End": true}}}') IS NOT NULL AS created;
SELECT outbox.start_execution('exec-tasks-taskfailed', '{"a": 1, "b": 0}', 'tf1') IS NOT NULL AS started;
SELECT pg_temp.drive();
SELECT pg_temp.outcome('exec-tasks-taskfailed', 'tf1');

-- tasks run as the machine's owner: a function it may not execute is States.Permissions;
-- a missing function, or one of another shape, Lambda.ResourceNotFoundException
CREATE ROLE sfn_exec_tasks_owner;
GRANT INSERT, SELECT ON task_log TO sfn_exec_tasks_owner;
GRANT USAGE ON SEQUENCE task_log_n_seq TO sfn_exec_tasks_owner;
REVOKE EXECUTE ON FUNCTION hello(jsonb) FROM PUBLIC;
SET ROLE sfn_exec_tasks_owner;
SELECT outbox.create_state_machine('exec-tasks-owner', '{"StartAt": "Log", "States": {
  "Log": {"Type": "Task", "Resource": "function:remember", "ResultPath": "$.log", "Next": "Hello"},
  "Hello": {"Type": "Task", "Resource": "function:hello", "End": true,
            "Catch": [{"ErrorEquals": ["States.Permissions"], "ResultPath": "$.denied", "Next": "Missing"}]},
  "Missing": {"Type": "Task", "Resource": "function:no_such_function", "End": true,
              "Catch": [{"ErrorEquals": ["Lambda.ResourceNotFoundException"], "ResultPath": "$.missing", "Next": "WrongType"}]},
  "WrongType": {"Type": "Task", "Resource": "function:wrong_type", "End": true,
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.wrong", "Next": "Done"}]},
  "Done": {"Type": "Succeed"}}}') IS NOT NULL AS created;
RESET ROLE;
SELECT outbox.start_execution('exec-tasks-owner', '{"what": "as owner"}', 'o1') IS NOT NULL AS started;
SELECT pg_temp.drive();
SELECT jsonb_pretty(pg_temp.outcome('exec-tasks-owner', 'o1') #- '{output,log}');
SELECT what, who FROM task_log WHERE what = 'as owner';

-- lambda:invoke: Parameters {FunctionName, Payload}; the result wraps the payload as Lambda does
SELECT outbox.create_state_machine('exec-tasks-invoke', '{"StartAt": "Invoke", "States": {
  "Invoke": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
             "Parameters": {"FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:divide", "Payload": {"a.$": "$.x", "b": 2}},
             "ResultPath": "$.raw", "Next": "Selected"},
  "Selected": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
               "Parameters": {"FunctionName": "divide", "Payload.$": "$"}, "ResultSelector": {"value.$": "$.Payload"}, "ResultPath": "$.selected", "Next": "Failing"},
  "Failing": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"FunctionName": "divide", "Payload": {"a": 1, "b": 0}}, "End": true,
              "Catch": [{"ErrorEquals": ["division_by_zero"], "ResultPath": "$.failed", "Next": "Done"}]},
  "Done": {"Type": "Succeed"}}}') IS NOT NULL AS created;
SELECT outbox.start_execution('exec-tasks-invoke', '{"x": 9, "a": 8, "b": 4}', 'i1') IS NOT NULL AS started;
SELECT pg_temp.drive();
SELECT jsonb_pretty(pg_temp.outcome('exec-tasks-invoke', 'i1'));
SELECT details ->> 'resourceType' AS resource_type, details ->> 'resource' AS resource, details -> 'parameters' AS parameters
  FROM outbox.get_execution_history(pg_temp.arn('exec-tasks-invoke', 'i1')) WHERE type = 'TaskScheduled' ORDER BY id LIMIT 1;

-- a task's writes commit with its step: a step run in a transaction that rolls back
-- leaves neither the write nor the transition, and runs again later
SELECT outbox.create_state_machine('exec-tasks-txn', '{"StartAt": "Write", "States": {
  "Write": {"Type": "Task", "Resource": "function:remember", "End": true}}}') IS NOT NULL AS created;
SELECT outbox.start_execution('exec-tasks-txn', '{"what": "step write"}', 'w1') IS NOT NULL AS started;
BEGIN;
SELECT pg_temp.drive();
SELECT count(*) AS rows_inside, outbox.describe_execution(pg_temp.arn('exec-tasks-txn', 'w1')) ->> 'status' AS status_inside
  FROM task_log WHERE what = 'step write';
ROLLBACK;
SELECT count(*) AS rows_after_rollback, outbox.describe_execution(pg_temp.arn('exec-tasks-txn', 'w1')) ->> 'status' AS status
  FROM task_log WHERE what = 'step write';
SELECT pg_temp.drive();
SELECT count(*) AS rows_after_run, outbox.describe_execution(pg_temp.arn('exec-tasks-txn', 'w1')) ->> 'status' AS status
  FROM task_log WHERE what = 'step write';
SELECT pg_temp.types('exec-tasks-txn', 'w1');

-- raise_task_error: limits; outside a task it is an ordinary error
SELECT pg_temp.err(format('SELECT outbox.raise_task_error(%L)', repeat('e', 257)));
SELECT pg_temp.err($$SELECT outbox.raise_task_error('MyError', 'my cause')$$);

-- a task may not run due work itself (it would step its own execution): the task fails with
-- the refusal, the execution goes on to its catcher
CREATE FUNCTION nested_work(p jsonb) RETURNS jsonb LANGUAGE sql AS $$ SELECT to_jsonb(outbox.run_due_work()) $$;
SELECT outbox.create_state_machine('exec-tasks-nested', '{"StartAt": "T", "States": {
  "T": {"Type": "Task", "Resource": "function:nested_work", "End": true,
        "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "C"}]},
  "C": {"Type": "Pass", "End": true}}}') IS NOT NULL AS created;
SELECT outbox.start_execution('exec-tasks-nested', '{}', 'n1') IS NOT NULL AS started;
SELECT pg_temp.drive();
SELECT pg_temp.outcome('exec-tasks-nested', 'n1');

SELECT pg_temp.drive();
SELECT outbox.delete_state_machine(m) FROM unnest('{exec-tasks-nested,exec-tasks-paths,exec-tasks-types,exec-tasks-retry,exec-tasks-maxdelay,exec-tasks-defaults,exec-tasks-backoff,exec-tasks-big,exec-tasks-noretry,exec-tasks-catch,exec-tasks-uncatchable,exec-tasks-timeout,exec-tasks-taskfailed,exec-tasks-owner,exec-tasks-invoke,exec-tasks-txn}'::text[]) m;
DROP TABLE task_log;
DROP FUNCTION hello(jsonb), ctx(jsonb), flaky(jsonb), divide(jsonb), complain(jsonb), as_text(jsonb), as_json(jsonb),
  as_void(jsonb), wrong_type(jsonb), slow(jsonb), remember(jsonb), too_big(jsonb), nested_work(jsonb);
DROP ROLE sfn_exec_tasks_owner;
