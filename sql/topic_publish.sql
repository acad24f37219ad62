-- Publishing: the fan-out to queues in the publisher's transaction (the SNS
-- envelope, raw delivery, MessageStructure json), filter policies on
-- attributes and on the body, FIFO topics into FIFO queues (order and
-- deduplication), publish_batch with per-entry failures, notification
-- channels, dead letters for undeliverable messages, and bad input.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_outbox;
RESET client_min_messages;
\i sql/include/queue_helpers.sql
\i sql/include/topic_helpers.sql

SELECT outbox.create_topic('orders') IS NOT NULL AS created;
SELECT outbox.create_queue('billing') IS NOT NULL AND outbox.create_queue('shipping') IS NOT NULL
   AND outbox.create_queue('big-orders') IS NOT NULL AND outbox.create_queue('eu') IS NOT NULL
   AND outbox.create_queue('dead') IS NOT NULL AND outbox.create_queue('tiny', '{"MaximumMessageSize": "1024"}') IS NOT NULL AS queues;

-- a topic without subscriptions accepts messages
SELECT outbox.publish('orders', 'nobody listens') IS NOT NULL AS published;

SELECT outbox.subscribe('orders', 'sqs', 'billing') IS NOT NULL AS billing,
       outbox.subscribe('orders', 'sqs', 'shipping', '{"RawMessageDelivery": "true"}') IS NOT NULL AS shipping_raw,
       outbox.subscribe('orders', 'sqs', 'big-orders',
                        '{"FilterPolicy": {"total": [{"numeric": [">=", 100]}], "kind": [{"anything-but": "test"}]}}') IS NOT NULL AS big,
       outbox.subscribe('orders', 'sqs', 'eu',
                        '{"FilterPolicyScope": "MessageBody", "FilterPolicy": {"address": {"country": ["FR", "DE"]}}, "RawMessageDelivery": true}') IS NOT NULL AS eu_body;

-- the envelope (ids and times masked), raw delivery with attributes
SELECT outbox.publish('orders', '{"order": 1, "address": {"country": "FR"}}', 'Order placed',
       '{"total": {"DataType": "Number", "StringValue": "250"}, "kind": {"DataType": "String", "StringValue": "retail"}, "tags": {"DataType": "String.Array", "StringValue": "[\"gift\"]"}}') AS id \gset
SELECT body::jsonb - 'UnsubscribeURL' AS envelope, attributes FROM pg_temp.take('billing');
SELECT * FROM pg_temp.take('shipping');
SELECT * FROM pg_temp.take('big-orders');
SELECT * FROM pg_temp.take('eu');

-- the MessageId in every copy is the one publish returned
SELECT outbox.publish('orders', 'plain text', NULL, '{"total": {"DataType": "Number", "StringValue": "5"}}') AS id2 \gset
SELECT (SELECT body::jsonb ->> 'MessageId' FROM outbox.receive_message('billing', 1, visibility_timeout => 0)) = :'id2' AS billing_id_matches;
SELECT count(*) AS big_got FROM pg_temp.take('big-orders');   -- 5 < 100: filtered out
SELECT count(*) AS eu_got FROM pg_temp.take('eu');            -- not JSON: no body policy matches
SELECT body FROM pg_temp.take('shipping');
SELECT count(*) FROM pg_temp.take('billing');

-- the unsubscribe URL names the subscription
SELECT outbox.publish('orders', 'x') IS NOT NULL;
SELECT body::jsonb ->> 'UnsubscribeURL' LIKE 'https://sns.local.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:local:000000000000:orders:%' AS unsubscribe_url
  FROM outbox.receive_message('billing', 1, visibility_timeout => 0);
SELECT count(*) FROM pg_temp.take('billing') UNION ALL SELECT count(*) FROM pg_temp.take('shipping');

-- a rolled-back publish delivers nothing anywhere
BEGIN;
SELECT outbox.publish('orders', '{"address": {"country": "DE"}}', NULL, '{"total": {"DataType": "Number", "StringValue": "500"}}') IS NOT NULL;
ROLLBACK;
SELECT pg_temp.depth('billing') AS billing, pg_temp.depth('shipping') AS shipping,
       pg_temp.depth('big-orders') AS big, pg_temp.depth('eu') AS eu;

-- the outbox pattern: business row and fan-out commit together
CREATE TABLE orders (id int PRIMARY KEY, total numeric);
BEGIN;
INSERT INTO orders VALUES (7, 120);
SELECT outbox.publish('orders', json_build_object('id', 7, 'total', 120)::text, NULL,
       json_build_object('total', json_build_object('DataType', 'Number', 'StringValue', '120'))::jsonb) IS NOT NULL;
COMMIT;
SELECT (SELECT count(*) FROM orders) AS orders, pg_temp.depth('billing') AS billing, pg_temp.depth('big-orders') AS big;
SELECT count(*) FROM pg_temp.take('billing') UNION ALL SELECT count(*) FROM pg_temp.take('shipping')
 UNION ALL SELECT count(*) FROM pg_temp.take('big-orders');

-- MessageStructure json: one body per protocol; attributes filter but are not delivered
SELECT outbox.publish('orders', '{"default": "for everyone", "sqs": "for queues"}', NULL,
       '{"total": {"DataType": "Number", "StringValue": "1000"}}', message_structure => 'json') IS NOT NULL;
SELECT body::jsonb ->> 'Message' AS message, body::jsonb ? 'MessageAttributes' AS has_attributes FROM pg_temp.take('billing');
SELECT * FROM pg_temp.take('shipping');
SELECT count(*) AS big_got FROM pg_temp.take('big-orders');

-- client-side delivery failures go to the subscription's dead-letter queue
SELECT outbox.subscribe('orders', 'sqs', 'tiny', '{"RawMessageDelivery": true, "RedrivePolicy": {"deadLetterTargetArn": "arn:aws:sqs:local:000000000000:dead"}}') IS NOT NULL;
SELECT outbox.publish('orders', repeat('x', 2000)) IS NOT NULL;
SELECT length(body) AS dead_body, attributes -> 'ERROR_CODE' ->> 'StringValue' AS code,
       attributes -> 'ERROR_MESSAGE' ->> 'StringValue' AS error
  FROM pg_temp.take('dead');
SELECT pg_temp.depth('tiny') AS tiny;
-- more than 10 attributes cannot be delivered raw to a queue
SELECT outbox.publish('orders', 'many', NULL,
       (SELECT jsonb_object_agg('a' || i, '{"DataType": "String", "StringValue": "v"}'::jsonb) FROM generate_series(1, 11) i)) IS NOT NULL;
SELECT body, attributes -> 'ERROR_CODE' ->> 'StringValue' AS code, attributes -> 'ERROR_MESSAGE' ->> 'StringValue' AS error FROM pg_temp.take('dead');
SELECT count(*) FILTER (WHERE body = 'many') AS many_delivered_raw, count(*) AS shipping_got FROM pg_temp.take('shipping');
SELECT count(*) FROM pg_temp.take('billing');
-- a queue dropped after subscribing: dead-lettered too
SELECT outbox.delete_queue('tiny');
SELECT outbox.publish('orders', 'after drop') IS NOT NULL;
SELECT body, attributes -> 'ERROR_MESSAGE' ->> 'StringValue' AS error FROM pg_temp.take('dead');
SELECT count(*) FROM pg_temp.take('billing') UNION ALL SELECT count(*) FROM pg_temp.take('shipping');

-- bad input: a clear error and nothing delivered
SELECT pg_temp.err($$SELECT outbox.publish('orders', '')$$);
SELECT pg_temp.err($$SELECT outbox.publish('orders', NULL)$$);
SELECT pg_temp.err($$SELECT outbox.publish('orders', repeat('x', 262145))$$);
SELECT pg_temp.err($$SELECT outbox.publish('orders', repeat('x', 262100), NULL, '{"a": {"DataType": "String", "StringValue": "0123456789012345678901234567890123456789012345678901234567890123456789"}}')$$);
SELECT pg_temp.err($$SELECT outbox.publish('orders', 'x', repeat('s', 101))$$);
SELECT pg_temp.err($$SELECT outbox.publish('orders', 'x', E'two\nlines')$$);
SELECT pg_temp.err($$SELECT outbox.publish('orders', 'x', ' leading space')$$);
SELECT pg_temp.err($$SELECT outbox.publish('orders', 'x', NULL, '{"a": {"DataType": "Str", "StringValue": "v"}}')$$);
SELECT pg_temp.err($$SELECT outbox.publish('orders', 'x', NULL, '{"AWS.x": {"DataType": "String", "StringValue": "v"}}')$$);
SELECT pg_temp.err($$SELECT outbox.publish('orders', 'x', NULL, '[]')$$);
SELECT pg_temp.err($$SELECT outbox.publish('orders', 'x', message_deduplication_id => 'd')$$);
SELECT pg_temp.err($$SELECT outbox.publish('orders', 'x', message_structure => 'xml')$$);
SELECT pg_temp.err($$SELECT outbox.publish('orders', '{"sqs": "no default"}', message_structure => 'json')$$);
SELECT pg_temp.err($$SELECT outbox.publish('orders', 'not json', message_structure => 'json')$$);
SELECT pg_temp.err($$SELECT outbox.publish('nope', 'x')$$);
SELECT pg_temp.depth('billing') AS billing, pg_temp.depth('shipping') AS shipping;

-- publish_batch: request-level errors fail the call; entry errors fail the entry
SELECT id, message_id IS NOT NULL AS published, code, message, sender_fault
  FROM outbox.publish_batch('orders', '[{"Id": "ok1", "Message": "first"},
                                        {"Id": "bad", "Message": ""},
                                        {"Id": "ok2", "Message": "second", "Subject": "S"},
                                        {"Id": "dedup", "Message": "x", "MessageDeduplicationId": "d"},
                                        {"Id": "unknown", "Message": "x", "Colour": 1}]');
SELECT body::jsonb ->> 'Message' AS message, body::jsonb ->> 'Subject' AS subject FROM pg_temp.take('billing') ORDER BY 1;
SELECT count(*) FROM pg_temp.take('shipping');
SELECT pg_temp.err($$SELECT * FROM outbox.publish_batch('orders', '[]')$$);
SELECT pg_temp.err($$SELECT * FROM outbox.publish_batch('orders', '{}')$$);
SELECT pg_temp.err($$SELECT * FROM outbox.publish_batch('orders', (SELECT jsonb_agg(jsonb_build_object('Id', 'e' || i, 'Message', 'm')) FROM generate_series(1, 11) i))$$);
SELECT pg_temp.err($$SELECT * FROM outbox.publish_batch('orders', '[{"Id": "a", "Message": "m"}, {"Id": "a", "Message": "m"}]')$$);
SELECT pg_temp.err($$SELECT * FROM outbox.publish_batch('orders', '[{"Id": "a b", "Message": "m"}]')$$);
SELECT pg_temp.err($$SELECT * FROM outbox.publish_batch('orders', '[{"Message": "m"}]')$$);
SELECT pg_temp.err($$SELECT * FROM outbox.publish_batch('orders', jsonb_build_array(jsonb_build_object('Id', 'a', 'Message', repeat('x', 200000)), jsonb_build_object('Id', 'b', 'Message', repeat('x', 70000))))$$);
SELECT pg_temp.depth('billing') AS billing;

-- FIFO topics into FIFO queues: group order, deduplication, sequence numbers
SELECT outbox.create_topic('ledger.fifo') IS NOT NULL AND outbox.create_queue('ledger.fifo', '{"FifoQueue": "true"}') IS NOT NULL
   AND outbox.create_queue('audit') IS NOT NULL AS created;
SELECT outbox.subscribe('ledger.fifo', 'sqs', 'ledger.fifo') IS NOT NULL AS fifo_queue,
       outbox.subscribe('ledger.fifo', 'sqs', 'audit', '{"RawMessageDelivery": true}') IS NOT NULL AS standard_queue;
SELECT pg_temp.err($$SELECT outbox.publish('ledger.fifo', 'x')$$);
SELECT pg_temp.err($$SELECT outbox.publish('ledger.fifo', 'x', message_group_id => 'g')$$);
SELECT outbox.publish('ledger.fifo', 'a1', message_group_id => 'a', message_deduplication_id => 'd1') AS first \gset
SELECT outbox.publish('ledger.fifo', 'b1', message_group_id => 'b', message_deduplication_id => 'd2') IS NOT NULL;
SELECT outbox.publish('ledger.fifo', 'a2', message_group_id => 'a', message_deduplication_id => 'd3') IS NOT NULL;
SELECT outbox.publish('ledger.fifo', 'a1 again', message_group_id => 'a', message_deduplication_id => 'd1') = :'first' AS duplicate_returns_first_id;
SELECT body::jsonb ->> 'Message' AS message, group_id, (body::jsonb ->> 'SequenceNumber') ~ '^\d{20}$' AS has_sequence
  FROM pg_temp.take('ledger.fifo');
SELECT body, group_id FROM pg_temp.take('audit') ORDER BY 1;
SELECT outbox.set_topic_attributes('ledger.fifo', '{"ContentBasedDeduplication": true}');
SELECT outbox.publish('ledger.fifo', 'same body', message_group_id => 'c') = outbox.publish('ledger.fifo', 'same body', message_group_id => 'c') AS content_dedup;
SELECT count(*) FROM pg_temp.take('ledger.fifo');
SELECT sequence_number ~ '^\d{20}$' AS sequence, code FROM outbox.publish_batch('ledger.fifo', '[{"Id": "1", "Message": "m1", "MessageGroupId": "g"}, {"Id": "2", "Message": "m2"}]');
-- after five minutes a deduplication id may be used again
SELECT pg_temp.tick(301);
SELECT outbox.publish('ledger.fifo', 'a1', message_group_id => 'a', message_deduplication_id => 'd1') <> :'first' AS new_id;
SELECT outbox.run_topic_maintenance() >= 0 AS maintenance;

-- notification channels (what listeners see is in the topic_notify isolation
-- spec): a payload too large for NOTIFY is kept for get_notification
SELECT outbox.subscribe('orders', 'notify', 'orders_raw', '{"RawMessageDelivery": true}') AS notify_sub \gset
SELECT outbox.publish('orders', 'hello listeners') IS NOT NULL;
BEGIN;
SELECT outbox.publish('orders', 'rolled back') IS NOT NULL;
ROLLBACK;
SELECT outbox.publish('orders', repeat('y', 9000)) AS big_id \gset
SELECT length(outbox.get_notification(:'notify_sub', :'big_id')) AS stored_payload;
SELECT outbox.get_notification(:'notify_sub', '00000000-0000-0000-0000-000000000000') AS nothing;
SELECT outbox.delete_topic('orders'), outbox.delete_topic('ledger.fifo');
DROP TABLE orders;
