-- A state machine as an event bus rule's target: the execution starts in
-- the putting transaction, as the rule's owner, with the target's input.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_outbox;
RESET client_min_messages;
\set VERBOSITY terse

SELECT outbox.create_state_machine('on-order', '{"StartAt": "Pick", "States": {"Pick": {"Type": "Pass", "InputPath": "$.detail", "End": true}}}') IS NOT NULL AS created;
SELECT outbox.create_queue('sfn-target-dlq') IS NOT NULL AS dlq;
SELECT outbox.put_rule('orders-to-sfn', NULL, '{"source": ["shop"]}') IS NOT NULL AS rule;
SELECT outbox.put_targets('orders-to-sfn', '[{"Id": "sm", "Arn": "arn:aws:states:local:000000000000:stateMachine:on-order",
   "DeadLetterConfig": {"Arn": "arn:aws:sqs:local:000000000000:sfn-target-dlq"}}]');

-- rolled back: no execution
BEGIN;
SELECT count(*) FROM outbox.put_events('[{"Source": "shop", "DetailType": "Order", "Detail": "{\"id\": 1}"}]');
ROLLBACK;
SELECT count(*) AS executions FROM outbox.list_executions('on-order');

-- committed: one execution, which runs to the end
SELECT count(*) FROM outbox.put_events('[{"Source": "shop", "DetailType": "Order", "Detail": "{\"id\": 2}"}]');
SELECT status, input->'detail' AS detail FROM outbox.list_executions('on-order') l,
       LATERAL (SELECT outbox.describe_execution(l.execution_arn)->'input' AS input) d;
SELECT outbox.run_due_work(10) > 0 AS ran;
SELECT d->>'status' AS status, d->'output' AS output
  FROM outbox.list_executions('on-order') l, LATERAL outbox.describe_execution(l.execution_arn) d;

-- a machine that is gone: the event goes to the dead-letter queue, the put succeeds
DELETE FROM outbox.execution WHERE state_machine = 'on-order';
SELECT outbox.delete_state_machine('on-order');
SELECT count(*) FROM outbox.put_events('[{"Source": "shop", "DetailType": "Order", "Detail": "{\"id\": 3}"}]');
SELECT body::jsonb->'detail' AS detail, message_attributes->'ERROR_MESSAGE'->>'StringValue' AS error
  FROM outbox.receive_message('sfn-target-dlq');

SELECT outbox.remove_targets('orders-to-sfn', ARRAY['sm']);
SELECT outbox.delete_rule('orders-to-sfn');
SELECT outbox.delete_queue('sfn-target-dlq');
