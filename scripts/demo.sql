-- scripts/demo.sql: the pg_outbox demo (run by make demo).
\set ON_ERROR_STOP on
\pset footer off
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS pg_outbox CASCADE;
DROP TABLE IF EXISTS orders;
DROP TABLE IF EXISTS stock;
DROP FUNCTION IF EXISTS reserve(jsonb);
CREATE EXTENSION pg_outbox;
RESET client_min_messages;

\echo
\echo '== 1. Queues: a dead-letter queue, and an order-events queue that sends'
\echo '==    a message there after 3 failed receives'
SELECT outbox.create_queue('order-events-dlq') AS dead_letter_queue;
SELECT outbox.create_queue('order-events',
         '{"VisibilityTimeout": 30,
           "RedrivePolicy": {"deadLetterTargetArn": "order-events-dlq", "maxReceiveCount": 3}}') AS queue;

CREATE TABLE orders (id serial PRIMARY KEY, customer text NOT NULL, total numeric NOT NULL);

\echo
\echo '== 2. The outbox pattern: the order row and its event commit together'
BEGIN;
INSERT INTO orders (customer, total) VALUES ('alice', 42.50) RETURNING id AS order_id \gset
SELECT message_id AS sent FROM outbox.send_message('order-events',
         jsonb_build_object('type', 'OrderPlaced', 'order_id', :order_id, 'customer', 'alice'),
         message_attributes => '{"type": {"DataType": "String", "StringValue": "OrderPlaced"}}') \gset
COMMIT;
\echo 'committed order' :order_id 'and message' :sent

\echo
\echo '== 3. A transaction that rolls back sends nothing'
BEGIN;
INSERT INTO orders (customer, total) VALUES ('bob', 10.00);
SELECT 'sent inside the transaction' AS note, message_id FROM outbox.send_message('order-events', '{"type": "OrderPlaced", "customer": "bob"}');
ROLLBACK;
SELECT (SELECT count(*) FROM orders) AS orders_in_table,
       outbox.get_queue_attributes('order-events') ->> 'ApproximateNumberOfMessages' AS messages_waiting_only_alices;

\echo
\echo '== 4. A consumer receives, processes and deletes'
SELECT body, attributes ->> 'ApproximateReceiveCount' AS receive_count, receipt_handle
  FROM outbox.receive_message('order-events', max_number_of_messages => 10) \gset
\echo 'received:' :body
SELECT outbox.delete_message('order-events', :'receipt_handle');
SELECT outbox.get_queue_attributes('order-events',
         '{ApproximateNumberOfMessages,ApproximateNumberOfMessagesNotVisible}') AS after_delete;

\echo
\echo '== 5. A poison message: the consumer fails three times (it never deletes),'
\echo '==    and the fourth receive moves it to the dead-letter queue'
SELECT message_id AS poison FROM outbox.send_message('order-events', '{"type": "OrderPlaced", "order_id": "not-a-number"}') \gset
-- visibility_timeout => 0 stands for "the consumer crashed and its timeout ran out"
SELECT 1 AS attempt, attributes ->> 'ApproximateReceiveCount' AS receive_count FROM outbox.receive_message('order-events', visibility_timeout => 0);
SELECT 2 AS attempt, attributes ->> 'ApproximateReceiveCount' AS receive_count FROM outbox.receive_message('order-events', visibility_timeout => 0);
SELECT 3 AS attempt, attributes ->> 'ApproximateReceiveCount' AS receive_count FROM outbox.receive_message('order-events', visibility_timeout => 0);
SELECT 4 AS attempt, count(*) AS messages_returned FROM outbox.receive_message('order-events', visibility_timeout => 0);
SELECT body, attributes ->> 'DeadLetterQueueSourceArn' AS came_from,
       message_id = :'poison' AS same_message_id
  FROM outbox.receive_message('order-events-dlq', visibility_timeout => 0);

\echo
\echo '== 6. Redrive: move it back to its source queue (the scheduler does the moving)'
SELECT outbox.start_message_move_task('order-events-dlq') AS task \gset
SELECT outbox.run_queue_maintenance();
SELECT status, approximate_number_of_messages_moved AS moved
  FROM outbox.list_message_move_tasks('order-events-dlq');
SELECT body FROM outbox.receive_message('order-events');

\echo
\echo '== 7. Long polling: a receiver waits, and is woken by the sender''s commit'
\echo '(see test/t for the two-session version; here a delayed message arrives after 1 s)'
SELECT message_id IS NOT NULL AS sent FROM outbox.send_message('order-events', 'later', delay_seconds => 1);
SELECT body, now() <> clock_timestamp() AS waited
  FROM outbox.receive_message('order-events', wait_time_seconds => 5);

\echo
\echo '== 8. Topics: one publish, in the order''s transaction, fans out to two services'
\echo '==    (shipping only wants physical goods, and the bare message)'
SELECT outbox.create_topic('order-placed') IS NOT NULL AS topic;
SELECT outbox.create_queue('billing') IS NOT NULL AND outbox.create_queue('shipping') IS NOT NULL AS queues;
SELECT outbox.subscribe('order-placed', 'sqs', 'billing') IS NOT NULL AS billing_subscribed;
SELECT outbox.subscribe('order-placed', 'sqs', 'shipping',
       '{"RawMessageDelivery": true, "FilterPolicy": {"kind": ["physical"]}}') IS NOT NULL AS shipping_subscribed;
BEGIN;
INSERT INTO orders (customer, total) VALUES ('carol', 30) RETURNING id AS order_id \gset
SELECT outbox.publish('order-placed', json_build_object('order', :order_id)::text, 'OrderPlaced',
       '{"kind": {"DataType": "String", "StringValue": "digital"}}') IS NOT NULL AS published;
COMMIT;
SELECT body::jsonb ->> 'Type' AS envelope, body::jsonb ->> 'Message' AS message FROM outbox.receive_message('billing');
SELECT count(*) AS shipping_got_a_digital_order FROM outbox.receive_message('shipping');

\echo
\echo '== 9. Event buses: a rule routes big orders to a queue, reshaped by an input transformer'
SELECT outbox.create_queue('big-orders') IS NOT NULL AS queue;
SELECT outbox.put_rule('big-orders', event_pattern =>
       '{"source": ["shop"], "detail": {"total": [{"numeric": [">=", 100]}]}}') IS NOT NULL AS rule;
SELECT outbox.put_targets('big-orders', '[{"Id": "q", "Arn": "arn:aws:sqs:local:000000000000:big-orders",
  "InputTransformer": {"InputPathsMap": {"c": "$.detail.customer", "t": "$.detail.total"},
                       "InputTemplate": "{\"alert\": \"big order from <c>\", \"total\": <t>}"}}]') ->> 'FailedEntryCount' AS failed;
SELECT row_number() OVER () AS entry, event_id IS NOT NULL AS routed, error_code
  FROM outbox.put_events('[{"Source": "shop", "DetailType": "OrderPlaced", "Detail": "{\"customer\": \"dave\", \"total\": 250}"},
                           {"Source": "shop", "DetailType": "OrderPlaced", "Detail": "{\"customer\": \"erin\", \"total\": 20}"},
                           {"Source": "shop", "DetailType": "OrderPlaced", "Detail": "not json"}]');
SELECT body AS transformed FROM outbox.receive_message('big-orders', 10);

\echo
\echo '== 10. State machines: three orders start a workflow in their own transaction; a task'
\echo '==     function reserves stock (exactly once, in the step that records it), a big order'
\echo '==     waits for a manager''s approval through a task token, a too-big one is caught'
CREATE TABLE stock (sku text PRIMARY KEY, available int NOT NULL);
INSERT INTO stock VALUES ('book', 5);
CREATE FUNCTION reserve(p jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
    UPDATE stock SET available = available - (p->>'qty')::int
     WHERE sku = p->>'sku' AND available >= (p->>'qty')::int;
    IF NOT FOUND THEN
        PERFORM outbox.raise_task_error('OutOfStock', format('not enough %s for %s', p->>'sku', p->>'qty'));
    END IF;
    RETURN jsonb_build_object('reserved', p->'qty');
END $$;
SELECT outbox.create_queue('approvals') IS NOT NULL AS approvals_queue;
SELECT outbox.create_state_machine('fulfil', $json$
{"StartAt": "Reserve",
 "States": {
   "Reserve": {"Type": "Task", "Resource": "function:public.reserve", "ResultPath": "$.stock",
               "Catch": [{"ErrorEquals": ["OutOfStock"], "ResultPath": "$.error", "Next": "Backorder"}],
               "Next": "Big?"},
   "Big?": {"Type": "Choice", "Choices": [{"Variable": "$.qty", "NumericGreaterThan": 2, "Next": "Approve"}],
            "Default": "Ship"},
   "Approve": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
               "Parameters": {"QueueUrl": "approvals",
                              "MessageBody": {"token.$": "$$.Task.Token", "order.$": "$$.Execution.Name", "qty.$": "$.qty"}},
               "TimeoutSeconds": 3600, "ResultPath": "$.approval", "Next": "Ship"},
   "Ship": {"Type": "Pass", "Result": "shipped", "ResultPath": "$.status", "End": true},
   "Backorder": {"Type": "Pass", "Result": "backordered", "ResultPath": "$.status", "End": true}}}
$json$) IS NOT NULL AS machine;
BEGIN;
SELECT outbox.start_execution('fulfil', '{"sku": "book", "qty": 1}', 'order-a') IS NOT NULL AS started_a;
SELECT outbox.start_execution('fulfil', '{"sku": "book", "qty": 3}', 'order-b') IS NOT NULL AS started_b;
SELECT outbox.start_execution('fulfil', '{"sku": "book", "qty": 9}', 'order-c') IS NOT NULL AS started_c;
COMMIT;
\echo 'the manager''s inbox (the workers ran the steps after the commit):'
SELECT body::jsonb->>'order' AS "order", body::jsonb->>'qty' AS qty, body::jsonb->>'token' AS token
  FROM outbox.receive_message('approvals', wait_time_seconds => 10) \gset
SELECT :'order' AS waiting_for_approval, :'qty' AS qty;
SELECT outbox.send_task_success(:'token', '{"by": "manager"}');
DO $$
BEGIN       -- wait (at most 10 s) for the workers to finish the three executions
    FOR i IN 1..100 LOOP
        EXIT WHEN (SELECT count(*) FROM outbox.list_executions('fulfil', 'RUNNING')) = 0;
        PERFORM pg_sleep(0.1);
    END LOOP;
END $$;
SELECT name, status, d->'output'->>'status' AS outcome, d->'output'->'approval' AS approval,
       d->'output'->'error'->>'Cause' AS why
  FROM outbox.list_executions('fulfil') l, LATERAL outbox.describe_execution(l.execution_arn) d ORDER BY name;
SELECT sku, available AS stock_left FROM stock;
\echo 'order-b''s history, as AWS''s GetExecutionHistory shows it:'
SELECT id, type, details->>'name' AS state
  FROM outbox.get_execution_history('arn:aws:states:local:000000000000:execution:fulfil:order-b');

