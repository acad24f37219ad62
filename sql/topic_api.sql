-- Topics and subscriptions: create (standard, FIFO, idempotent), attributes,
-- listing, subscribe to each protocol, unsubscribe, and every bad input with
-- its SQLSTATE and message -- a refused call changes nothing.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_outbox;
RESET client_min_messages;
\i sql/include/queue_helpers.sql
\i sql/include/topic_helpers.sql

-- creating
SELECT outbox.create_topic('orders');
SELECT outbox.create_topic('orders');                       -- idempotent
SELECT outbox.create_topic('arn:aws:sns:local:000000000000:orders');  -- by ARN
SELECT outbox.create_topic('orders.fifo', '{"ContentBasedDeduplication": true}');
SELECT outbox.create_topic('audit', '{"DisplayName": "Audit", "TracingConfig": "Active"}', '{"team": "core"}');
SELECT pg_temp.err($$SELECT outbox.create_topic('audit', '{"DisplayName": "Other"}')$$);
SELECT pg_temp.err($$SELECT outbox.create_topic('')$$);
SELECT pg_temp.err($$SELECT outbox.create_topic(repeat('x', 257))$$);
SELECT pg_temp.err($$SELECT outbox.create_topic('bad.name')$$);
SELECT pg_temp.err($$SELECT outbox.create_topic('has space')$$);
SELECT pg_temp.err($$SELECT outbox.create_topic(NULL)$$);
SELECT pg_temp.err($$SELECT outbox.create_topic('plain', '{"FifoTopic": "true"}')$$);
SELECT pg_temp.err($$SELECT outbox.create_topic('x.fifo', '{"FifoTopic": "false"}')$$);
SELECT pg_temp.err($$SELECT outbox.create_topic('plain', '{"ContentBasedDeduplication": true}')$$);
SELECT pg_temp.err($$SELECT outbox.create_topic('plain', '{"DisplayName": 7}')$$);
SELECT pg_temp.err($$SELECT outbox.create_topic('plain', '{"Colour": "red"}')$$);
SELECT pg_temp.err($$SELECT outbox.create_topic('plain', '{"SignatureVersion": "3"}')$$);
SELECT pg_temp.err($$SELECT outbox.create_topic('plain', '{"ArchivePolicy": {"MessageRetentionPeriod": 1}}')$$);
SELECT pg_temp.err($$SELECT outbox.create_topic('plain', '[1]')$$);
SELECT pg_temp.err($$SELECT outbox.create_topic('plain', '{}', '"tags"')$$);
SELECT * FROM outbox.list_topics();                          -- none of the refused ones

-- delivery policies are checked field by field
SELECT pg_temp.err($$SELECT outbox.create_topic('p', '{"DeliveryPolicy": {"http": {"defaultHealthyRetryPolicy": {"minDelayTarget": 30, "maxDelayTarget": 20}}}}')$$);
SELECT pg_temp.err($$SELECT outbox.create_topic('p', '{"DeliveryPolicy": {"http": {"defaultHealthyRetryPolicy": {"numRetries": 101}}}}')$$);
SELECT pg_temp.err($$SELECT outbox.create_topic('p', '{"DeliveryPolicy": {"http": {"defaultHealthyRetryPolicy": {"numRetries": 3, "numNoDelayRetries": 2, "numMaxDelayRetries": 2}}}}')$$);
SELECT pg_temp.err($$SELECT outbox.create_topic('p', '{"DeliveryPolicy": {"http": {"defaultHealthyRetryPolicy": {"numRetries": 100, "minDelayTarget": 60, "maxDelayTarget": 60}}}}')$$);
SELECT pg_temp.err($$SELECT outbox.create_topic('p', '{"DeliveryPolicy": {"http": {"defaultHealthyRetryPolicy": {"backoffFunction": "cubic"}}}}')$$);
SELECT pg_temp.err($$SELECT outbox.create_topic('p', '{"DeliveryPolicy": {"smtp": {}}}')$$);
SELECT pg_temp.err($$SELECT outbox.create_topic('p', '{"DeliveryPolicy": "not json"}')$$);
SELECT outbox.create_topic('p', '{"DeliveryPolicy": "{\"http\": {\"defaultHealthyRetryPolicy\": {\"numRetries\": 5, \"minDelayTarget\": 1, \"maxDelayTarget\": 16, \"backoffFunction\": \"geometric\"}}}"}');
SELECT outbox.get_topic_attributes('p') -> 'EffectiveDeliveryPolicy' AS effective;

-- attributes
SELECT outbox.get_topic_attributes('audit') - 'EffectiveDeliveryPolicy' AS audit;
SELECT outbox.get_topic_attributes('orders.fifo') ->> 'FifoTopic' AS fifo,
       outbox.get_topic_attributes('orders.fifo') ->> 'ContentBasedDeduplication' AS content_dedup;
SELECT outbox.set_topic_attributes('audit', '{"DisplayName": "Audit log", "Policy": {"Version": "2012-10-17"}}');
SELECT a ->> 'DisplayName' AS display_name, a -> 'Policy' AS policy, a ->> 'TracingConfig' AS tracing
  FROM outbox.get_topic_attributes('audit') AS a;
SELECT pg_temp.err($$SELECT outbox.set_topic_attributes('audit', '{"FifoTopic": "true"}')$$);
SELECT pg_temp.err($$SELECT outbox.set_topic_attributes('audit', '{"TopicArn": "x"}')$$);
SELECT pg_temp.err($$SELECT outbox.set_topic_attributes('audit', '{"ContentBasedDeduplication": true}')$$);
SELECT pg_temp.err($$SELECT outbox.set_topic_attributes('nope', '{}')$$);
SELECT pg_temp.err($$SELECT outbox.get_topic_attributes('nope')$$);
SELECT outbox.get_topic_attributes('audit') ->> 'DisplayName' AS unchanged;

-- subscribing
SELECT outbox.create_queue('billing');
SELECT outbox.create_queue('billing.fifo', '{"FifoQueue": "true"}');
CREATE FUNCTION on_order(e jsonb) RETURNS void LANGUAGE sql AS $$ SELECT $$;
CREATE FUNCTION not_handler(e text) RETURNS void LANGUAGE sql AS $$ SELECT $$;
SELECT pg_temp.mask(outbox.subscribe('orders', 'sqs', 'billing')) AS sqs;
SELECT pg_temp.mask(outbox.subscribe('orders', 'sqs', 'arn:aws:sqs:local:000000000000:billing')) AS same_again;
SELECT pg_temp.mask(outbox.subscribe('orders', 'function', 'on_order')) AS function;
SELECT pg_temp.mask(outbox.subscribe('orders', 'lambda', 'arn:aws:lambda:local:000000000000:function:public.on_order')) AS lambda_arn;
SELECT pg_temp.mask(outbox.subscribe('orders', 'notify', 'orders_channel', '{"RawMessageDelivery": true}')) AS notify;
SELECT pg_temp.mask(outbox.subscribe('orders.fifo', 'sqs', 'billing.fifo')) AS fifo;
SELECT pg_temp.mask(outbox.subscribe('orders.fifo', 'sqs', 'billing')) AS fifo_to_standard;
SELECT protocol, endpoint, owner FROM outbox.list_subscriptions_by_topic('orders') ORDER BY protocol;
SELECT topic_name, fifo, subscriptions FROM outbox.list_topics();

-- bad subscriptions
SELECT pg_temp.err($$SELECT outbox.subscribe('orders', 'http', 'https://example.com')$$);
SELECT pg_temp.err($$SELECT outbox.subscribe('orders', 'carrier-pigeon', 'x')$$);
SELECT pg_temp.err($$SELECT outbox.subscribe('orders', 'sqs', 'missing')$$);
SELECT pg_temp.err($$SELECT outbox.subscribe('orders', 'sqs', 'billing.fifo')$$);
SELECT pg_temp.err($$SELECT outbox.subscribe('orders', 'sqs', 'arn:aws:sns:local:000000000000:billing')$$);
SELECT pg_temp.err($$SELECT outbox.subscribe('orders.fifo', 'function', 'on_order')$$);
SELECT pg_temp.err($$SELECT outbox.subscribe('orders', 'function', 'no_such_function')$$);
SELECT pg_temp.err($$SELECT outbox.subscribe('orders', 'function', 'not_handler(text)')$$);
SELECT pg_temp.err($$SELECT outbox.subscribe('orders', 'notify', '')$$);
SELECT pg_temp.err($$SELECT outbox.subscribe('orders', 'notify', repeat('c', 64))$$);
SELECT pg_temp.err($$SELECT outbox.subscribe('orders', 'sqs', 'billing', '{"RawMessageDelivery": "maybe"}')$$);
SELECT pg_temp.err($$SELECT outbox.subscribe('orders', 'sqs', 'billing', '{"RawMessageDelivery": "true"}')$$);
SELECT pg_temp.err($$SELECT outbox.subscribe('orders', 'function', 'on_order', '{"RawMessageDelivery": "true"}')$$);
SELECT pg_temp.err($$SELECT outbox.subscribe('orders', 'notify', 'c2', '{"FilterPolicy": {"price": [{"numeric": [">", 10, "<", 5]}]}}')$$);
SELECT pg_temp.err($$SELECT outbox.subscribe('orders', 'notify', 'c2', '{"FilterPolicy": {"a": ["1"], "b": ["1"], "c": ["1"], "d": ["1"], "e": ["1"], "f": ["1"]}}')$$);
SELECT pg_temp.err($$SELECT outbox.subscribe('orders', 'notify', 'c2', '{"FilterPolicyScope": "Body"}')$$);
SELECT pg_temp.err($$SELECT outbox.subscribe('orders', 'notify', 'c2', '{"RedrivePolicy": {"deadLetterTargetArn": "arn:aws:sqs:local:000000000000:missing"}}')$$);
SELECT pg_temp.err($$SELECT outbox.subscribe('orders', 'notify', 'c2', '{"RedrivePolicy": {"deadLetterTargetArn": "arn:aws:sqs:local:000000000000:billing.fifo"}}')$$);
SELECT pg_temp.err($$SELECT outbox.subscribe('orders', 'notify', 'c2', '{"RedrivePolicy": {"maxReceiveCount": 3}}')$$);
SELECT pg_temp.err($$SELECT outbox.subscribe('orders', 'notify', 'c2', '{"DeliveryPolicy": {"healthyRetryPolicy": {"numRetries": -1}}}')$$);
SELECT pg_temp.err($$SELECT outbox.subscribe('orders', 'notify', 'c2', '{"ReplayPolicy": {}}')$$);
SELECT pg_temp.err($$SELECT outbox.subscribe('orders', 'notify', 'c2', '{"Color": 1}')$$);
SELECT pg_temp.err($$SELECT outbox.subscribe('nope', 'notify', 'c2')$$);
SELECT pg_temp.err($$SELECT outbox.subscribe('orders', NULL, 'c2')$$);
SELECT count(*) AS subscriptions_of_orders FROM outbox.list_subscriptions_by_topic('orders');

-- subscription attributes
SELECT subscription_arn AS sub FROM outbox.list_subscriptions_by_topic('orders') WHERE protocol = 'sqs' \gset
SELECT pg_temp.mask((outbox.get_subscription_attributes(:'sub'))::text) AS before;
SELECT outbox.set_subscription_attributes(:'sub', '{"FilterPolicy": "{\"kind\": [\"big\"]}", "RawMessageDelivery": "true", "RedrivePolicy": {"deadLetterTargetArn": "billing"}}');
SELECT pg_temp.mask((outbox.get_subscription_attributes(:'sub'))::text) AS after;
SELECT pg_temp.err(format($$SELECT outbox.set_subscription_attributes(%L, '{"FilterPolicyScope": "MessageBody", "FilterPolicy": {"kind": [{"prefix": 7}]}}')$$, :'sub'));
SELECT outbox.set_subscription_attributes(:'sub', '{"FilterPolicy": ""}');
SELECT outbox.get_subscription_attributes(:'sub') ? 'FilterPolicy' AS still_filtered;
SELECT pg_temp.err(format($$SELECT outbox.subscribe('orders', 'sqs', 'billing', '{"RawMessageDelivery": "false"}')$$));
SELECT pg_temp.err($$SELECT outbox.get_subscription_attributes('arn:aws:sns:local:000000000000:orders:00000000-0000-0000-0000-000000000000')$$);
SELECT pg_temp.err($$SELECT outbox.get_subscription_attributes('nonsense')$$);

-- unsubscribing; deleting a topic takes its subscriptions; both idempotent where AWS is
SELECT outbox.unsubscribe(:'sub');
SELECT pg_temp.mask(pg_temp.err(format('SELECT outbox.unsubscribe(%L)', :'sub')));
SELECT count(*) FROM outbox.list_subscriptions_by_topic('orders');
SELECT outbox.delete_topic('orders');
SELECT outbox.delete_topic('orders');
SELECT count(*) AS subscriptions_left FROM outbox.list_subscriptions() WHERE topic_arn LIKE '%:orders';
SELECT topic_name FROM outbox.list_topics();
DROP FUNCTION on_order(jsonb), not_handler(text);
