-- Event buses, rules and targets: create/list/delete buses (the default bus
-- always exists), put_rule's replace semantics, enable/disable/delete,
-- put_targets/remove_targets/list_targets_by_rule, and every bad input with
-- its SQLSTATE and message -- a refused call changes nothing.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_outbox;
RESET client_min_messages;
\i sql/include/queue_helpers.sql

-- buses
SELECT name, arn, description, rules FROM outbox.list_event_buses();
SELECT outbox.create_event_bus('orders', 'Order events');
SELECT outbox.create_event_bus('audit/eu.v1');
SELECT pg_temp.err($$SELECT outbox.create_event_bus('orders')$$);
SELECT pg_temp.err($$SELECT outbox.create_event_bus('default')$$);
SELECT pg_temp.err($$SELECT outbox.create_event_bus('aws.partner/x')$$);
SELECT pg_temp.err($$SELECT outbox.create_event_bus('bad name')$$);
SELECT pg_temp.err($$SELECT outbox.create_event_bus('')$$);
SELECT pg_temp.err($$SELECT outbox.create_event_bus(NULL)$$);
SELECT pg_temp.err($$SELECT outbox.delete_event_bus('default')$$);
SELECT pg_temp.err($$SELECT outbox.delete_event_bus('nope')$$);
SELECT name, rules FROM outbox.list_event_buses();

-- rules
SELECT outbox.put_rule('big', 'orders', '{"detail": {"total": [{"numeric": [">", 100]}]}}', description => 'Big orders');
SELECT outbox.put_rule('all-orders', event_pattern => '{"source": ["shop"]}');
SELECT outbox.put_rule('off', 'orders', '{"source": ["shop"]}', state => 'DISABLED');
SELECT name, event_pattern, state, description, targets FROM outbox.list_rules('orders');
SELECT outbox.describe_rule('big', 'orders');
-- put_rule replaces: the description goes, the state comes back to ENABLED
SELECT outbox.put_rule('off', 'orders', '{"source": ["shop", "pos"]}');
SELECT outbox.describe_rule('off', 'orders') - 'Arn' AS replaced;
SELECT outbox.disable_rule('big', 'orders');
SELECT outbox.describe_rule('big', 'orders') ->> 'State' AS state;
SELECT outbox.enable_rule('big', 'orders');
SELECT outbox.describe_rule('big', 'orders') ->> 'State' AS state;
SELECT name FROM outbox.list_rules('orders', name_prefix => 'b');

-- bad rules
SELECT pg_temp.err($$SELECT outbox.put_rule('r', 'orders')$$);
SELECT pg_temp.err($$SELECT outbox.put_rule('r', 'orders', '{"detail": {"total": [{"numeric": ["<", 5, ">", 9]}]}}')$$);
SELECT pg_temp.err($$SELECT outbox.put_rule('r', 'orders', '{"source": "shop"}')$$);
SELECT pg_temp.err($$SELECT outbox.put_rule('r', 'orders', '[1]')$$);
SELECT pg_temp.err($$SELECT outbox.put_rule('r', 'orders', '{"source": ["x"]}', state => 'PAUSED')$$);
SELECT pg_temp.err($$SELECT outbox.put_rule('bad/name', 'orders', '{"source": ["x"]}')$$);
SELECT pg_temp.err($$SELECT outbox.put_rule(repeat('r', 65), 'orders', '{"source": ["x"]}')$$);
SELECT pg_temp.err($$SELECT outbox.put_rule('r', 'orders', '{"source": ["x"]}', description => repeat('d', 513))$$);
SELECT pg_temp.err($$SELECT outbox.put_rule('r', 'nope', '{"source": ["x"]}')$$);
SELECT pg_temp.err($$SELECT outbox.enable_rule('nope', 'orders')$$);
SELECT pg_temp.err($$SELECT outbox.describe_rule('nope')$$);
SELECT count(*) AS rules_on_orders FROM outbox.list_rules('orders');

-- targets
SELECT outbox.create_queue('q1') IS NOT NULL AND outbox.create_queue('q1.fifo', '{"FifoQueue": "true"}') IS NOT NULL
   AND outbox.create_queue('dlq') IS NOT NULL AND outbox.create_topic('t1') IS NOT NULL AS created;
CREATE FUNCTION handle(e jsonb) RETURNS void LANGUAGE sql AS $$ SELECT $$;
SELECT outbox.put_targets('big', '[
  {"Id": "queue", "Arn": "arn:aws:sqs:local:000000000000:q1", "DeadLetterConfig": {"Arn": "arn:aws:sqs:local:000000000000:dlq"}},
  {"Id": "fifo", "Arn": "arn:aws:sqs:local:000000000000:q1.fifo", "SqsParameters": {"MessageGroupId": "orders"}},
  {"Id": "topic", "Arn": "arn:aws:sns:local:000000000000:t1", "InputPath": "$.detail"},
  {"Id": "fn", "Arn": "arn:aws:lambda:local:000000000000:function:handle", "RetryPolicy": {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 600}},
  {"Id": "bus", "Arn": "arn:aws:events:local:000000000000:event-bus/audit/eu.v1", "Input": "{\"audited\": true}"}]', 'orders');
SELECT id, arn FROM outbox.list_targets_by_rule('big', 'orders');
-- a sixth target is one too many; replacing one by Id is not
SELECT pg_temp.err($$SELECT outbox.put_targets('big', '[{"Id": "six", "Arn": "arn:aws:sqs:local:000000000000:q1"}]', 'orders')$$);
SELECT outbox.put_targets('big', '[{"Id": "queue", "Arn": "arn:aws:sqs:local:000000000000:q1", "Input": "{\"replaced\": 1}"}]', 'orders');
SELECT target FROM outbox.list_targets_by_rule('big', 'orders') WHERE id = 'queue';

-- bad targets: each refused, nothing stored
CREATE TEMP TABLE bad_targets (t text);
INSERT INTO bad_targets VALUES
  ('{"Arn": "arn:aws:sqs:local:000000000000:q1"}'),
  ('{"Id": "a b", "Arn": "arn:aws:sqs:local:000000000000:q1"}'),
  ('{"Id": "x"}'),
  ('{"Id": "x", "Arn": "arn:aws:sqs:local:000000000000:missing"}'),
  ('{"Id": "x", "Arn": "arn:aws:sqs:local:000000000000:q1.fifo"}'),
  ('{"Id": "x", "Arn": "arn:aws:sns:local:000000000000:missing"}'),
  ('{"Id": "x", "Arn": "arn:aws:lambda:local:000000000000:function:missing"}'),
  ('{"Id": "x", "Arn": "arn:aws:events:local:000000000000:event-bus/missing"}'),
  ('{"Id": "x", "Arn": "arn:aws:states:local:000000000000:stateMachine:sm"}'),
  ('{"Id": "x", "Arn": "arn:aws:s3:::bucket"}'),
  ('{"Id": "x", "Arn": "arn:aws:sqs:local:000000000000:q1", "Colour": "red"}'),
  ('{"Id": "x", "Arn": "arn:aws:sqs:local:000000000000:q1", "Input": "not json"}'),
  ('{"Id": "x", "Arn": "arn:aws:sqs:local:000000000000:q1", "Input": "{}", "InputPath": "$.detail"}'),
  ('{"Id": "x", "Arn": "arn:aws:sqs:local:000000000000:q1", "InputPath": "detail"}'),
  ('{"Id": "x", "Arn": "arn:aws:sqs:local:000000000000:q1", "InputPath": "$.detail[x]"}'),
  ('{"Id": "x", "Arn": "arn:aws:sqs:local:000000000000:q1", "InputTransformer": {"InputTemplate": "<nope>"}}'),
  ('{"Id": "x", "Arn": "arn:aws:sqs:local:000000000000:q1", "InputTransformer": {"InputPathsMap": {"a": "$.x"}}}'),
  ('{"Id": "x", "Arn": "arn:aws:sqs:local:000000000000:q1", "InputTransformer": {"InputPathsMap": {"AWS.x": "$.x"}, "InputTemplate": "x"}}'),
  ('{"Id": "x", "Arn": "arn:aws:sqs:local:000000000000:q1", "InputTransformer": {"InputPathsMap": {"a": "x"}, "InputTemplate": "<a>"}}'),
  ('{"Id": "x", "Arn": "arn:aws:sqs:local:000000000000:q1", "InputTransformer": {"InputPathsMap": {"a": "$.a"}, "InputTemplate": "{\"a\": <a>"}}'),
  ('{"Id": "x", "Arn": "arn:aws:sqs:local:000000000000:q1", "InputTransformer": {"InputTemplate": "{\"e\": \"<aws.events.event>\"}"}}'),
  ('{"Id": "x", "Arn": "arn:aws:sqs:local:000000000000:q1", "RetryPolicy": {"MaximumRetryAttempts": 186}}'),
  ('{"Id": "x", "Arn": "arn:aws:sqs:local:000000000000:q1", "RetryPolicy": {"MaximumEventAgeInSeconds": 59}}'),
  ('{"Id": "x", "Arn": "arn:aws:sqs:local:000000000000:q1", "DeadLetterConfig": {"Arn": "arn:aws:sqs:local:000000000000:q1.fifo"}}'),
  ('{"Id": "x", "Arn": "arn:aws:sqs:local:000000000000:q1", "DeadLetterConfig": {}}'),
  ('{"Id": "x", "Arn": "arn:aws:sns:local:000000000000:t1", "SqsParameters": {"MessageGroupId": "g"}}');
SELECT pg_temp.err(format('SELECT outbox.put_targets(%L, %L, %L)', 'all-orders', '[' || t || ']', 'default')) FROM bad_targets;
SELECT pg_temp.err($$SELECT outbox.put_targets('all-orders', '[]')$$);
SELECT pg_temp.err($$SELECT outbox.put_targets('all-orders', '{}')$$);
SELECT pg_temp.err($$SELECT outbox.put_targets('all-orders', '[{"Id": "a", "Arn": "arn:aws:sqs:local:000000000000:q1"}, {"Id": "a", "Arn": "arn:aws:sqs:local:000000000000:q1"}]')$$);
SELECT pg_temp.err($$SELECT outbox.put_targets('nope', '[{"Id": "a", "Arn": "arn:aws:sqs:local:000000000000:q1"}]')$$);
SELECT count(*) AS targets_of_all_orders FROM outbox.list_targets_by_rule('all-orders');

-- removing targets; a rule with targets cannot be deleted, nor a bus with rules
SELECT pg_temp.err($$SELECT outbox.delete_rule('big', 'orders')$$);
SELECT pg_temp.err($$SELECT outbox.delete_event_bus('orders')$$);
SELECT outbox.remove_targets('big', '{queue,fifo,nope}', 'orders');
SELECT id FROM outbox.list_targets_by_rule('big', 'orders');
SELECT outbox.remove_targets('big', '{topic,fn,bus}', 'orders');
SELECT outbox.delete_rule('big', 'orders');
SELECT outbox.delete_rule('big', 'orders');       -- gone already: not an error
SELECT outbox.delete_rule('off', 'orders'), outbox.delete_rule('all-orders');
SELECT outbox.delete_event_bus('orders'), outbox.delete_event_bus('audit/eu.v1');
SELECT name FROM outbox.list_event_buses();
SELECT outbox.delete_queue('q1'), outbox.delete_queue('q1.fifo'), outbox.delete_queue('dlq'), outbox.delete_topic('t1');
DROP FUNCTION handle(jsonb);
