-- EXPRESS state machines: start_sync_execution runs one now, in the
-- caller's transaction, and reports its end in the result (failures in
-- the body, not raised); the history only when asked; no waiting tasks;
-- no name idempotency.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_outbox;
RESET client_min_messages;
\set VERBOSITY terse
CREATE FUNCTION pg_temp.err(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN EXECUTE sql; RETURN 'ok'; EXCEPTION WHEN OTHERS THEN RETURN SQLSTATE || ': ' || SQLERRM; END $$;
-- a sync result without what differs between runs (dates, the ARN's UUID), and checks of those
CREATE FUNCTION pg_temp.sync(machine text, input jsonb, name text DEFAULT NULL, history boolean DEFAULT false)
RETURNS jsonb LANGUAGE sql AS $$
  SELECT (r - '{startDate,stopDate,history,executionArn,name}'::text[])
         || jsonb_build_object('arn', regexp_replace(r ->> 'executionArn', '[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}', '<uuid>', 'g'),
                               'name', regexp_replace(r ->> 'name', '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$', '<uuid>'),
                               'dates_ok', (r ->> 'stopDate')::timestamptz >= (r ->> 'startDate')::timestamptz)
         || CASE WHEN history THEN jsonb_build_object('history', (SELECT jsonb_agg(e - 'timestamp') FROM jsonb_array_elements(r -> 'history') e)) ELSE '{}' END
    FROM outbox.start_sync_execution(machine, input, name, history) AS r $$;

CREATE TABLE express_log (what text);
CREATE FUNCTION express_write(p jsonb) RETURNS jsonb LANGUAGE sql AS $$
  INSERT INTO express_log VALUES (p ->> 'what') RETURNING jsonb_build_object('wrote', what) $$;
CREATE FUNCTION express_fail(p jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN PERFORM outbox.raise_task_error('Express.Failure', 'failed on ' || (p ->> 'what')); RETURN NULL; END $$;

-- the ResultPath example again, synchronously: SUCCEEDED with the output
SELECT outbox.create_state_machine('exec-express', '{"StartAt": "Hello", "States": {
  "Hello": {"Type": "Pass", "Result": "Hello, AWS Step Functions!", "ResultPath": "$.taskresult", "Next": "Route"},
  "Route": {"Type": "Choice", "Choices": [{"And": [{"Variable": "$.fail", "IsPresent": true}, {"Variable": "$.fail", "BooleanEquals": true}], "Next": "Broken"}], "Default": "Write"},
  "Write": {"Type": "Task", "Resource": "function:express_write", "ResultPath": "$.write", "Next": "Fan"},
  "Fan": {"Type": "Map", "ItemsPath": "$.items", "ItemSelector": {"i.$": "$$.Map.Item.Index", "v.$": "$$.Map.Item.Value"},
          "ItemProcessor": {"StartAt": "Both", "States": {"Both": {"Type": "Parallel", "End": true, "Branches": [
            {"StartAt": "A", "States": {"A": {"Type": "Pass", "InputPath": "$.i", "End": true}}},
            {"StartAt": "B", "States": {"B": {"Type": "Pass", "InputPath": "$.v", "End": true}}}]}}},
          "ResultPath": "$.fan", "End": true},
  "Broken": {"Type": "Fail", "Error": "Express.Broken", "Cause": "asked to fail"}}}', 'EXPRESS') IS NOT NULL AS created;
SELECT jsonb_pretty(pg_temp.sync('exec-express', '{"who": "AWS Step Functions", "what": "run 1", "items": ["x", "y"]}', 'sync-1'));
SELECT what FROM express_log;
-- a failure is in the result, not raised: status FAILED, error and cause, no output
SELECT pg_temp.sync('exec-express', '{"fail": true}', 'sync-2');
SELECT pg_temp.sync('exec-express', '{"items": "not an array", "what": "run 3"}') - 'input' AS runtime_failure;
-- no name: a UUID; the same name twice: two executions (no idempotency for EXPRESS)
SELECT pg_temp.sync('exec-express', '{"what": "unnamed", "items": []}') ->> 'name' AS name;
SELECT a <> b AS two_executions
  FROM (SELECT outbox.start_sync_execution('exec-express', '{"items": []}', 'twice') ->> 'executionArn' AS a,
               outbox.start_sync_execution('exec-express', '{"items": []}', 'twice') ->> 'executionArn' AS b) AS t;
SELECT regexp_replace(outbox.start_execution('exec-express', '{"items": []}', 'async'), '[0-9a-f-]{36}$', '<uuid>') AS async_arn;
SELECT outbox.start_execution('exec-express', '{"items": []}', 'async') <> outbox.start_execution('exec-express', '{"items": []}', 'async') AS not_idempotent;
SELECT outbox.run_due_work() >= 0 AS ran;

-- the history, when asked for
SELECT jsonb_pretty(pg_temp.sync('exec-express', '{"fail": true}', 'with-history', true) -> 'history');

-- the tasks' writes belong to the caller's transaction
BEGIN;
SELECT pg_temp.sync('exec-express', '{"what": "rolled back", "items": []}', 'in-txn') ->> 'status' AS status;
SELECT count(*) AS inside FROM express_log WHERE what = 'rolled back';
ROLLBACK;
SELECT count(*) AS after_rollback FROM express_log WHERE what = 'rolled back';
-- a task failure rolls back only the task's own writes; Retry and Catch work as in STANDARD
SELECT outbox.create_state_machine('exec-express-catch', '{"StartAt": "Write", "States": {
  "Write": {"Type": "Task", "Resource": "function:express_write", "ResultPath": "$.w", "Next": "Fail"},
  "Fail": {"Type": "Task", "Resource": "function:express_fail", "End": true,
           "Catch": [{"ErrorEquals": ["Express.Failure"], "ResultPath": "$.error", "Next": "Done"}]},
  "Done": {"Type": "Succeed"}}}', 'EXPRESS') IS NOT NULL AS created;
SELECT pg_temp.sync('exec-express-catch', '{"what": "kept"}') -> 'output' AS output;
SELECT what, count(*) FROM express_log WHERE what IS NOT NULL GROUP BY what ORDER BY what;

-- the machine's TimeoutSeconds: a Wait that would end past it times the execution out
SELECT outbox.create_state_machine('exec-express-timeout', '{"TimeoutSeconds": 2, "StartAt": "Long", "States": {
  "Long": {"Type": "Wait", "Seconds": 60, "End": true}}}', 'EXPRESS') IS NOT NULL AS created;
SELECT pg_temp.sync('exec-express-timeout', '{}', 't1') - 'cause' AS timed_out;

-- STANDARD machines cannot be run synchronously
SELECT outbox.create_state_machine('exec-express-standard', '{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}') IS NOT NULL AS created;
SELECT pg_temp.err($$SELECT outbox.start_sync_execution('exec-express-standard', '{}')$$);
SELECT pg_temp.err($$SELECT outbox.start_sync_execution('no-such-machine', '{}')$$);
SELECT pg_temp.err($$SELECT outbox.start_sync_execution('exec-express', '{}', 'bad name')$$);
SELECT pg_temp.err($$SELECT outbox.start_sync_execution(NULL, '{}')$$);
-- EXPRESS machines cannot wait: no .waitForTaskToken and no .sync tasks, on create or update
SELECT pg_temp.err($q$SELECT outbox.create_state_machine('exec-express-wait', '{"StartAt": "Ask", "States": {
  "Ask": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
          "Parameters": {"QueueUrl": "q", "MessageBody": {"token.$": "$$.Task.Token"}}, "End": true}}}', 'EXPRESS')$q$);
SELECT pg_temp.err($q$SELECT outbox.create_state_machine('exec-express-sync', '{"StartAt": "Run", "States": {
  "Run": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2",
          "Parameters": {"StateMachineArn": "exec-express", "Input": {}}, "End": true}}}', 'EXPRESS')$q$);
SELECT pg_temp.err($q$SELECT outbox.update_state_machine('exec-express-timeout', '{"StartAt": "Ask", "States": {
  "Ask": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
          "Parameters": {"FunctionName": "express_write", "Payload": {"token.$": "$$.Task.Token"}}, "End": true}}}')$q$);
SELECT outbox.describe_state_machine('exec-express-timeout') #>> '{definition,States,Long,Type}' AS unchanged;
-- request-response integrations are fine in EXPRESS
SELECT outbox.create_state_machine('exec-express-rr', '{"StartAt": "Run", "States": {
  "Run": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution",
          "Parameters": {"StateMachineArn": "exec-express-standard", "Name": "from-express", "Input": {}}, "End": true}}}', 'EXPRESS') IS NOT NULL AS created;
SELECT pg_temp.sync('exec-express-rr', '{}') #>> '{output,ExecutionArn}' AS started;
SELECT outbox.run_due_work() >= 0 AS ran;

SELECT outbox.delete_state_machine(m) FROM unnest('{exec-express,exec-express-catch,exec-express-timeout,exec-express-standard,exec-express-rr}'::text[]) m;
DROP TABLE express_log;
DROP FUNCTION express_write(jsonb), express_fail(jsonb);
