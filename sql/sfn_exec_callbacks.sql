-- Tasks that wait: .waitForTaskToken (the token sent through a queue,
-- SendTaskSuccess/Failure/Heartbeat, TimeoutSeconds and HeartbeatSeconds
-- on the movable clock, dead tokens), nested executions
-- (states:startExecution, .sync, .sync:2), and the sns:publish and
-- events:putEvents integrations.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_outbox;
RESET client_min_messages;
\set VERBOSITY terse
\i sql/include/sfn_helpers.sql
CREATE FUNCTION pg_temp.mask(j jsonb) RETURNS jsonb LANGUAGE sql AS $$
  SELECT regexp_replace(regexp_replace(regexp_replace(j::text,
           '"\d+\.\d+\.[0-9a-f]{32}"', '"<token>"', 'g'),
           '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}', '<uuid>', 'g'),
           '"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"', '"<time>"', 'g')::jsonb $$;
-- receive (and delete) the next message of the queue: its body as jsonb
CREATE FUNCTION pg_temp.take(q text) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
  SELECT * INTO r FROM outbox.receive_message(q);
  IF NOT FOUND THEN RETURN NULL; END IF;
  PERFORM outbox.delete_message(q, r.receipt_handle);
  RETURN r.body::jsonb;
END $$;

SELECT outbox.create_queue('exec-cb-queue') IS NOT NULL AS queue;
-- the developer guide's callback example: the token travels in an SQS message
SELECT outbox.create_state_machine('exec-cb', '{"StartAt": "Send message to SQS", "States": {
  "Send message to SQS": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
    "Parameters": {"QueueUrl": "https://sqs.us-east-2.amazonaws.com/123456789012/exec-cb-queue",
                   "MessageBody": {"Message": "Hello from Step Functions!", "TaskToken.$": "$$.Task.Token", "order.$": "$.order"}},
    "TimeoutSecondsPath": "$.timeout", "HeartbeatSecondsPath": "$.heartbeat", "ResultPath": "$.approval", "Next": "Done",
    "Catch": [{"ErrorEquals": ["Rejected"], "ResultPath": "$.rejected", "Next": "Done"},
              {"ErrorEquals": ["States.Timeout"], "ResultPath": "$.timedOut", "Next": "Done"},
              {"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.failed", "Next": "Done"}]},
  "Done": {"Type": "Succeed"}}}') IS NOT NULL AS created;
SELECT outbox.start_execution('exec-cb', '{"order": 1, "timeout": 3600, "heartbeat": 600}', 'ok') IS NOT NULL AS started;
SELECT pg_temp.drive();
SELECT pg_temp.take('exec-cb-queue') AS m0 \gset
SELECT pg_temp.mask(:'m0') AS message;
SELECT pg_temp.outcome('exec-cb', 'ok') ->> 'status' AS waiting;
SELECT id, type, pg_temp.mask(details - 'output') AS details, (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(details -> 'output') k) AS output_keys
  FROM outbox.get_execution_history(pg_temp.arn('exec-cb', 'ok')) WHERE type = 'TaskSubmitted';
SELECT id, type, pg_temp.mask(details) AS details FROM outbox.get_execution_history(pg_temp.arn('exec-cb', 'ok')) WHERE type = 'TaskScheduled';
-- nothing happens until the token comes back; the result goes through ResultPath
SELECT outbox.start_execution('exec-cb', '{"order": 2, "timeout": 3600, "heartbeat": 600}', 'ok2') IS NOT NULL AS started;
SELECT pg_temp.drive();
SELECT pg_temp.take('exec-cb-queue') ->> 'TaskToken' AS token \gset
-- a completion in a transaction that rolls back never happened
BEGIN;
SELECT outbox.send_task_success(:'token', '{"approved": "rolled back"}');
ROLLBACK;
SELECT pg_temp.drive();
SELECT pg_temp.outcome('exec-cb', 'ok2') ->> 'status' AS still_waiting;
SELECT outbox.send_task_success(:'token', '{"approved": true}');
SELECT pg_temp.outcome('exec-cb', 'ok2') ->> 'status' AS before_the_step;
SELECT pg_temp.drive();
SELECT pg_temp.outcome('exec-cb', 'ok2');
SELECT pg_temp.types('exec-cb', 'ok2');
-- a second completion, a failure or a heartbeat after it: TaskTimedOut
SELECT pg_temp.err(format('SELECT outbox.send_task_success(%L, %L)', :'token', '{}'));
SELECT pg_temp.err(format('SELECT outbox.send_task_failure(%L, %L)', :'token', 'Late'));
SELECT pg_temp.err(format('SELECT outbox.send_task_heartbeat(%L)', :'token'));
-- malformed and unknown tokens, bad arguments
SELECT pg_temp.err($$SELECT outbox.send_task_success('not a token', '{}')$$);
SELECT pg_temp.err($$SELECT outbox.send_task_success('', '{}')$$);
SELECT pg_temp.err($$SELECT outbox.send_task_success('999999999.0.0123456789abcdef0123456789abcdef', '{}')$$);
SELECT pg_temp.err($$SELECT outbox.send_task_success(NULL, '{}')$$);
SELECT pg_temp.err(format('SELECT outbox.send_task_failure(%L, %L)', :'token', repeat('e', 257)));
SELECT pg_temp.err(format('SELECT outbox.send_task_success(%L, %L)', :'token', to_jsonb(repeat('x', 262144))));

-- a task token is its own credential: any role holding it may complete the task
CREATE ROLE sfn_exec_cb_stranger;
SET ROLE sfn_exec_cb_stranger;
SELECT outbox.send_task_success((:'m0'::jsonb) ->> 'TaskToken', '{"approved": "by a stranger"}');
RESET ROLE;
SELECT pg_temp.drive();
SELECT pg_temp.outcome('exec-cb', 'ok') -> 'output' -> 'approval' AS approval;
DROP ROLE sfn_exec_cb_stranger;

-- SendTaskFailure: the error and cause go to Retry/Catch; without an error only
-- States.ALL (or States.TaskFailed) matches
SELECT outbox.start_execution('exec-cb', '{"order": 3, "timeout": 3600, "heartbeat": 600}', 'rejected') IS NOT NULL AS started;
SELECT outbox.start_execution('exec-cb', '{"order": 4, "timeout": 3600, "heartbeat": 600}', 'no-error') IS NOT NULL AS started;
SELECT pg_temp.drive();
SELECT outbox.send_task_failure(m ->> 'TaskToken', CASE m ->> 'order' WHEN '3' THEN 'Rejected' END, 'the manager said no')
  FROM (SELECT pg_temp.take('exec-cb-queue') AS m FROM generate_series(1, 2)) AS t;
SELECT pg_temp.drive();
SELECT pg_temp.outcome('exec-cb', 'rejected');
SELECT pg_temp.outcome('exec-cb', 'no-error');
SELECT details FROM outbox.get_execution_history(pg_temp.arn('exec-cb', 'no-error')) WHERE type = 'TaskFailed';

-- HeartbeatSeconds: each heartbeat restarts it; then no heartbeat for 10 s is
-- States.HeartbeatTimeout, which a States.Timeout catcher takes
SELECT outbox.start_execution('exec-cb', '{"order": 5, "timeout": 60, "heartbeat": 10}', 'heartbeat') IS NOT NULL AS started;
SELECT pg_temp.drive();
SELECT pg_temp.take('exec-cb-queue') ->> 'TaskToken' AS token \gset
SELECT pg_temp.tick(9); SELECT pg_temp.drive();
SELECT outbox.send_task_heartbeat(:'token');
SELECT pg_temp.tick(9); SELECT pg_temp.drive();
SELECT pg_temp.outcome('exec-cb', 'heartbeat') ->> 'status' AS after_18s;
SELECT pg_temp.tick(1); SELECT pg_temp.drive();
SELECT pg_temp.outcome('exec-cb', 'heartbeat');
SELECT type, details FROM outbox.get_execution_history(pg_temp.arn('exec-cb', 'heartbeat')) WHERE type = 'TaskTimedOut';
SELECT pg_temp.err(format('SELECT outbox.send_task_success(%L, %L)', :'token', '{}'));
-- heartbeats never extend TimeoutSeconds: States.Timeout at 30 s
SELECT outbox.start_execution('exec-cb', '{"order": 6, "timeout": 30, "heartbeat": 20}', 'timeout') IS NOT NULL AS started;
SELECT pg_temp.drive();
SELECT pg_temp.take('exec-cb-queue') ->> 'TaskToken' AS token \gset
SELECT pg_temp.tick(15); SELECT outbox.send_task_heartbeat(:'token'); SELECT pg_temp.drive();
SELECT pg_temp.tick(14); SELECT outbox.send_task_heartbeat(:'token'); SELECT pg_temp.drive();
SELECT pg_temp.outcome('exec-cb', 'timeout') ->> 'status' AS after_29s;
SELECT pg_temp.tick(1); SELECT pg_temp.drive();
SELECT pg_temp.outcome('exec-cb', 'timeout');
SELECT type, details FROM outbox.get_execution_history(pg_temp.arn('exec-cb', 'timeout')) WHERE type = 'TaskTimedOut';

-- a retry issues a new token; the old one is dead
SELECT outbox.create_state_machine('exec-cb-retry', '{"StartAt": "Ask", "States": {
  "Ask": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken", "End": true,
          "Parameters": {"QueueUrl": "exec-cb-queue", "MessageBody": {"TaskToken.$": "$$.Task.Token", "attempt.$": "$$.State.RetryCount"}},
          "Retry": [{"ErrorEquals": ["TryAgain"], "IntervalSeconds": 1}]}}}') IS NOT NULL AS created;
SELECT outbox.start_execution('exec-cb-retry', '{}', 'r1') IS NOT NULL AS started;
SELECT pg_temp.drive();
SELECT pg_temp.take('exec-cb-queue') ->> 'TaskToken' AS token \gset
SELECT outbox.send_task_failure(:'token', 'TryAgain');
SELECT pg_temp.drive(); SELECT pg_temp.tick(1); SELECT pg_temp.drive();
SELECT pg_temp.take('exec-cb-queue') AS m \gset
SELECT (:'m'::jsonb) ->> 'attempt' AS attempt, (:'m'::jsonb) ->> 'TaskToken' <> :'token' AS new_token;
SELECT pg_temp.err(format('SELECT outbox.send_task_success(%L, %L)', :'token', '"old"'));
SELECT outbox.send_task_success((:'m'::jsonb) ->> 'TaskToken', '"new"');
SELECT pg_temp.drive();
SELECT pg_temp.outcome('exec-cb-retry', 'r1');

-- callbacks inside Map iterations: completed in reverse order, the results keep item order
SELECT outbox.create_state_machine('exec-cb-map', '{"StartAt": "Each", "States": {
  "Each": {"Type": "Map", "End": true, "ItemProcessor": {"StartAt": "Ask", "States": {
    "Ask": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken", "End": true,
            "Parameters": {"QueueUrl": "exec-cb-queue", "MessageBody": {"TaskToken.$": "$$.Task.Token", "item.$": "$"}},
            "ResultSelector": {"item.$": "$.item", "answer.$": "$.answer"}}}}}}}') IS NOT NULL AS created;
SELECT outbox.start_execution('exec-cb-map', '["first", "second"]', 'm1') IS NOT NULL AS started;
SELECT pg_temp.drive();
SELECT outbox.send_task_success(m ->> 'TaskToken', jsonb_build_object('item', m -> 'item', 'answer', 'yes', 'noise', 1))
  FROM (SELECT pg_temp.take('exec-cb-queue') AS m FROM generate_series(1, 2)) AS t ORDER BY m ->> 'item' DESC;
SELECT pg_temp.drive();
SELECT pg_temp.outcome('exec-cb-map', 'm1');

-- StopExecution: the waiting task is aborted and its token dies
SELECT outbox.start_execution('exec-cb', '{"order": 7, "timeout": 3600, "heartbeat": 600}', 'stopped') IS NOT NULL AS started;
SELECT pg_temp.drive();
SELECT pg_temp.take('exec-cb-queue') ->> 'TaskToken' AS token \gset
SELECT outbox.stop_execution(pg_temp.arn('exec-cb', 'stopped'), 'Cancelled') IS NOT NULL AS stopped;
SELECT pg_temp.types('exec-cb', 'stopped', 4);
SELECT pg_temp.err(format('SELECT outbox.send_task_success(%L, %L)', :'token', '{}'));

-- a task function may complete its own token at once (AWS takes callbacks from the moment the task starts)
CREATE FUNCTION complete_now(p jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN PERFORM outbox.send_task_success(p ->> 'token', '{"done": "by the function"}'); RETURN '{}'; END $$;
SELECT outbox.create_state_machine('exec-cb-self', '{"StartAt": "Invoke", "States": {
  "Invoke": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
             "Parameters": {"FunctionName": "complete_now", "Payload": {"token.$": "$$.Task.Token"}}, "End": true}}}') IS NOT NULL AS created;
SELECT outbox.start_execution('exec-cb-self', '{}', 's1') IS NOT NULL AS started;
SELECT pg_temp.drive();
SELECT pg_temp.outcome('exec-cb-self', 's1');

-- nested executions: request-response gets {ExecutionArn, StartDate}; .sync the child's
-- description with Output as JSON text; .sync:2 with Output as JSON
SELECT outbox.create_state_machine('exec-cb-child', '{"StartAt": "Work", "States": {
  "Work": {"Type": "Wait", "Seconds": 5, "Next": "Check"},
  "Check": {"Type": "Choice", "Choices": [{"Variable": "$.fail", "IsPresent": true, "Next": "Fail"}], "Default": "Answer"},
  "Answer": {"Type": "Pass", "Parameters": {"doubled.$": "States.MathAdd($.n, $.n)"}, "End": true},
  "Fail": {"Type": "Fail", "Error": "ChildError", "Cause": "the child failed"}}}') IS NOT NULL AS created;
SELECT outbox.create_state_machine('exec-cb-parent', '{"StartAt": "Fire", "States": {
  "Fire": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution", "ResultPath": "$.fire", "Next": "Sync",
           "Parameters": {"StateMachineArn": "arn:aws:states:local:000000000000:stateMachine:exec-cb-child",
                          "Name.$": "States.Format(''{}-fire'', $$.Execution.Name)", "Input": {"n": 1}}},
  "Sync": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync", "ResultPath": "$.sync", "Next": "Parse",
           "Parameters": {"StateMachineArn": "arn:aws:states:local:000000000000:stateMachine:exec-cb-child",
                          "Name.$": "States.Format(''{}-sync'', $$.Execution.Name)",
                          "Input": {"n.$": "$.n", "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id"}}},
  "Parse": {"Type": "Pass", "Parameters": {"parsed.$": "States.StringToJson($.sync.Output)"}, "ResultPath": "$.parsed", "Next": "Sync2"},
  "Sync2": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2", "ResultPath": "$.sync2", "End": true,
            "Parameters": {"StateMachineArn": "arn:aws:states:local:000000000000:stateMachine:exec-cb-child",
                           "Name.$": "States.Format(''{}-sync2'', $$.Execution.Name)", "Input.$": "$.child"},
            "Catch": [{"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.childFailed", "Next": "Caught"}]},
  "Caught": {"Type": "Pass", "End": true}}}') IS NOT NULL AS created;
SELECT outbox.start_execution('exec-cb-parent', '{"n": 21, "child": {"n": 5}}', 'good') IS NOT NULL AS started;
SELECT outbox.start_execution('exec-cb-parent', '{"n": 21, "child": {"fail": true}}', 'bad') IS NOT NULL AS started;
SELECT pg_temp.drive();
SELECT pg_temp.tick(5); SELECT pg_temp.drive(); SELECT pg_temp.tick(5); SELECT pg_temp.drive();
SELECT name, status FROM outbox.list_executions('exec-cb-child') ORDER BY name;
SELECT o ->> 'status' AS status, pg_temp.mask(o -> 'output' -> 'fire') AS fire,
       o #> '{output,sync,Output}' AS sync_output, jsonb_typeof(o #> '{output,sync,Output}') AS sync_output_type,
       o #>> '{output,sync,Status}' AS sync_status, (o #>> '{output,sync,Input}')::jsonb ->> 'AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID' AS started_by,
       o #> '{output,parsed,parsed}' AS parsed, o #> '{output,sync2,Output}' AS sync2_output, o #>> '{output,sync2,Name}' AS sync2_name
  FROM pg_temp.outcome('exec-cb-parent', 'good') o;
-- a failed child fails the .sync task with States.TaskFailed and the child's description as the cause
SELECT o ->> 'status' AS status, o #>> '{output,childFailed,Error}' AS error,
       (o #>> '{output,childFailed,Cause}')::jsonb ->> 'Status' AS child_status,
       (o #>> '{output,childFailed,Cause}')::jsonb ->> 'Error' AS child_error
  FROM pg_temp.outcome('exec-cb-parent', 'bad') o;
SELECT type FROM outbox.get_execution_history(pg_temp.arn('exec-cb-parent', 'good')) WHERE id BETWEEN 8 AND 12 ORDER BY id;

-- sns:publish and events:putEvents (request-response)
SELECT outbox.create_topic('exec-cb-topic') IS NOT NULL AS topic;
SELECT outbox.create_state_machine('exec-cb-notify', '{"StartAt": "Publish", "States": {
  "Publish": {"Type": "Task", "Resource": "arn:aws:states:::sns:publish", "ResultPath": "$.sns", "Next": "Event",
              "Parameters": {"TopicArn": "arn:aws:sns:local:000000000000:exec-cb-topic", "Message.$": "$.message", "Subject": "hello"}},
  "Event": {"Type": "Task", "Resource": "arn:aws:states:::events:putEvents", "ResultPath": "$.events", "Next": "Missing",
            "Parameters": {"Entries": [{"Source": "exec.cb", "DetailType": "Notified", "Detail": {"message.$": "$.message"}}]}},
  "Missing": {"Type": "Task", "Resource": "arn:aws:states:::sns:publish", "End": true,
              "Parameters": {"TopicArn": "arn:aws:sns:local:000000000000:no-such-topic", "Message": "x"},
              "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.missing", "Next": "Done"}]},
  "Done": {"Type": "Succeed"}}}') IS NOT NULL AS created;
SELECT outbox.start_execution('exec-cb-notify', '{"message": "hi"}', 'n1') IS NOT NULL AS started;
SELECT pg_temp.drive();
SELECT pg_temp.mask((o -> 'output') - 'missing') AS output, o #>> '{output,missing,Error}' AS missing_topic_error
  FROM pg_temp.outcome('exec-cb-notify', 'n1') o;

SELECT pg_temp.drive();
SELECT outbox.delete_state_machine(m) FROM unnest('{exec-cb,exec-cb-retry,exec-cb-map,exec-cb-self,exec-cb-child,exec-cb-parent,exec-cb-notify}'::text[]) m;
SELECT outbox.delete_queue('exec-cb-queue');
SELECT outbox.delete_topic('exec-cb-topic');
DROP FUNCTION complete_now(jsonb);
