-- Every kind of bad input the queue functions refuse: the SQLSTATE, a
-- message naming the field and the limit, and that nothing changed.  One
-- error of each kind is shown in full (message, detail, hint); the rest as
-- "SQLSTATE: message" through pg_temp.err.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_outbox;
RESET client_min_messages;
CREATE FUNCTION pg_temp.err(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE sql;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
-- everything that can change: queues, their attributes, messages (superuser view)
CREATE FUNCTION pg_temp.state() RETURNS text LANGUAGE sql AS $$
  SELECT md5(coalesce((SELECT string_agg(format('%s %s %s %s %s %s', queue_name, visibility_timeout, delay_seconds,
                                                retention_seconds, maximum_message_size, modified_at), ';' ORDER BY queue_name)
                         FROM outbox.queue WHERE queue_name LIKE 'qe-%'), '')
             || coalesce((SELECT string_agg(format('%s %s %s %s', msg_id, receive_count, visible_at, body), ';' ORDER BY msg_id)
                         FROM outbox.message JOIN outbox.queue USING (queue_id) WHERE queue_name LIKE 'qe-%'), '')) $$;

SELECT outbox.create_queue('qe-q', '{"MaximumMessageSize": 1024}') LIKE '%:qe-q' AS created;
SELECT outbox.create_queue('qe-f.fifo', '{"FifoQueue": true}') LIKE '%:qe-f.fifo' AS created;
SELECT message_id IS NOT NULL AS sent FROM outbox.send_message('qe-q', 'resident');
SELECT pg_temp.state() AS before \gset

-- unknown queue: 42704, for every function
SELECT outbox.send_message('qe-missing', 'x');
SELECT f, pg_temp.err(sql) FROM (VALUES
  ('receive_message', $$SELECT * FROM outbox.receive_message('qe-missing')$$),
  ('delete_message', $$SELECT outbox.delete_message('qe-missing', 'h')$$),
  ('change_message_visibility', $$SELECT outbox.change_message_visibility('qe-missing', 'h', 1)$$),
  ('get_queue_attributes', $$SELECT outbox.get_queue_attributes('qe-missing')$$),
  ('set_queue_attributes', $$SELECT outbox.set_queue_attributes('qe-missing', '{}')$$),
  ('purge_queue', $$SELECT outbox.purge_queue('qe-missing')$$),
  ('delete_queue', $$SELECT outbox.delete_queue('qe-missing')$$),
  ('send_message_batch', $$SELECT * FROM outbox.send_message_batch('qe-missing', '[{"Id": "a", "MessageBody": "b"}]')$$),
  ('grant_queue', $$SELECT outbox.grant_queue('qe-missing', '{send}', 'public')$$),
  ('list_dead_letter_source_queues', $$SELECT * FROM outbox.list_dead_letter_source_queues('qe-missing')$$),
  ('wrong case', $$SELECT outbox.send_message('QE-Q', 'x')$$)) AS t(f, sql);

-- bad names: 22023 naming the rule
SELECT outbox.create_queue('qe bad');
SELECT name, pg_temp.err(format('SELECT outbox.create_queue(%L, %L)', name, attrs)) FROM (VALUES
  ('', '{}'), (repeat('q', 81), '{}'), ('qe-ü', '{}'), ('qe.x', '{}'), ('qe-x.fifo', '{}'),
  ('qe-x', '{"FifoQueue": true}'), ('.fifo', '{"FifoQueue": true}')) AS t(name, attrs);

-- out-of-range and malformed attributes: 22023 naming the attribute and the range
SELECT outbox.create_queue('qe-x', '{"MessageRetentionPeriod": 1209601}');
SELECT attrs, pg_temp.err(format('SELECT outbox.set_queue_attributes(%L, %L)', 'qe-q', attrs)) FROM (VALUES
  ('{"VisibilityTimeout": 43201}'), ('{"DelaySeconds": -1}'), ('{"MaximumMessageSize": 1023}'),
  ('{"ReceiveMessageWaitTimeSeconds": 21}'), ('{"MessageRetentionPeriod": 59}'), ('{"VisibilityTimeout": "thirty"}'),
  ('{"VisibilityTimeout": null}'), ('{"NoSuch": 1}'), ('{"CreatedTimestamp": 1}'), ('"VisibilityTimeout"'),
  ('{"RedrivePolicy": "not json"}'), ('{"RedrivePolicy": {"deadLetterTargetArn": "qe-f.fifo", "maxReceiveCount": 1}}'),
  ('{"RedriveAllowPolicy": {"redrivePermission": "byQueue", "sourceQueueArns": []}}'),
  ('{"ContentBasedDeduplication": true}')) AS t(attrs);
SELECT pg_temp.err($$SELECT outbox.set_queue_attributes('qe-q', NULL)$$) AS null_attributes;

-- oversize bodies: 54000 naming the size and the limit
SELECT outbox.send_message('qe-q', repeat('x', 1025));
SELECT pg_temp.err(format('SELECT outbox.send_message(%L, %L, message_attributes => %L)', 'qe-q', repeat('x', 1000),
  jsonb_build_object('a', jsonb_build_object('DataType', 'String', 'StringValue', repeat('v', 100))))) AS attributes_count_too;

-- bad bodies: 22023/22021
SELECT body, pg_temp.err(format('SELECT outbox.send_message(%L, %L)', 'qe-q', body)) FROM (VALUES
  (''), (E'nul-free but \x01'), (E'\x1F'), (E'\uFFFF')) AS t(body);

-- malformed message attributes: 22023 naming the attribute and what is wrong
SELECT outbox.send_message('qe-q', 'x', message_attributes => '{"a": {"DataType": "Number", "StringValue": "1e200"}}');
SELECT attrs, pg_temp.err(format('SELECT outbox.send_message(%L, %L, message_attributes => %L)', 'qe-q', 'x', attrs)) FROM (VALUES
  ('[]'), ('"a"'), ('{"a": "plain"}'), ('{"a": {"StringValue": "v"}}'), ('{"a": {"DataType": "Text", "StringValue": "v"}}'),
  ('{"a": {"DataType": "String.", "StringValue": "v"}}'), ('{"a": {"DataType": "String", "StringValue": ""}}'),
  ('{"a": {"DataType": "String"}}'), ('{"a": {"DataType": "Binary", "StringValue": "v"}}'),
  ('{"a": {"DataType": "Binary", "BinaryValue": "not base64!"}}'), ('{"a": {"DataType": "String", "BinaryValue": "AA=="}}'),
  ('{"a": {"DataType": "String", "StringListValues": ["v"]}}'), ('{"a": {"DataType": "Number", "StringValue": "12a"}}'),
  ('{"a": {"DataType": "Number", "StringValue": "123456789012345678901234567890123456789"}}'),
  ('{"a": {"DataType": "Number", "StringValue": "1e-129"}}'),
  ('{"AWS.x": {"DataType": "String", "StringValue": "v"}}'), ('{"amazon.x": {"DataType": "String", "StringValue": "v"}}'),
  ('{".a": {"DataType": "String", "StringValue": "v"}}'), ('{"a.": {"DataType": "String", "StringValue": "v"}}'),
  ('{"a..b": {"DataType": "String", "StringValue": "v"}}'), ('{"a b": {"DataType": "String", "StringValue": "v"}}'),
  ('{"a": {"DataType": "String", "StringValue": "bell\u0007"}}')) AS t(attrs);
SELECT pg_temp.err(format('SELECT outbox.send_message(%L, %L, message_attributes => %L)', 'qe-q', 'x',
  (SELECT jsonb_object_agg('a' || i, '{"DataType": "String", "StringValue": "v"}'::jsonb) FROM generate_series(1, 11) AS i))) AS eleven_attributes;
SELECT pg_temp.err(format('SELECT outbox.send_message(%L, %L, message_attributes => %L)', 'qe-q', 'x',
  jsonb_build_object(repeat('n', 257), '{"DataType": "String", "StringValue": "v"}'::jsonb))) AS long_name;
SELECT pg_temp.err($$SELECT outbox.send_message('qe-q', 'x', message_system_attributes => '{"Other": {"DataType": "String", "StringValue": "v"}}')$$) AS system_attribute;

-- group and deduplication ids: FIFO needs a group; a standard queue takes no deduplication id
SELECT outbox.send_message('qe-f.fifo', 'x', message_deduplication_id => 'd');
SELECT pg_temp.err($$SELECT outbox.send_message('qe-f.fifo', 'x', message_group_id => 'g')$$) AS missing_dedup_id;
SELECT pg_temp.err($$SELECT outbox.send_message('qe-q', 'x', message_deduplication_id => 'd')$$) AS dedup_on_standard;
SELECT pg_temp.err($$SELECT outbox.send_message('qe-f.fifo', 'x', message_group_id => 'g', message_deduplication_id => 'd', delay_seconds => 1)$$) AS delay_on_fifo;
SELECT pg_temp.err($$SELECT outbox.send_message('qe-f.fifo', 'x', message_group_id => 'g h', message_deduplication_id => 'd')$$) AS bad_group_id;
SELECT pg_temp.err($$SELECT outbox.send_message('qe-f.fifo', 'x', message_group_id => 'g', message_deduplication_id => '')$$) AS empty_dedup_id;
-- (a group id on a standard queue is accepted, as SQS fair queues do since 2025; the id is still checked)
BEGIN;
SELECT message_id IS NOT NULL AS accepted FROM outbox.send_message('qe-q', 'x', message_group_id => 'tenant-1');
ROLLBACK;
SELECT pg_temp.err(format('SELECT outbox.send_message(%L, %L, message_group_id => %L)', 'qe-q', 'x', repeat('g', 129))) AS long_group_on_standard;

-- receipt handles: 22023 (malformed, unknown, another queue's)
SELECT outbox.delete_message('qe-q', 'AQEBrandom');
SELECT length(h), left(regexp_replace(pg_temp.err(format('SELECT outbox.delete_message(%L, %L)', 'qe-q', h)), '"[0-9a-f]{60,}"', '"<2000 hex digits>"'), 120)
  FROM (VALUES (''), ('x'), (repeat('0', 56)), (repeat('f', 2000))) AS t(h);

-- receive arguments
SELECT * FROM outbox.receive_message('qe-q', 1001);
SELECT args, pg_temp.err(format('SELECT * FROM outbox.receive_message(%L, %s)', 'qe-q', args)) FROM (VALUES
  ('0'), ('1, -1'), ('1, 43201'), ('1, 0, 21'), ('1, 0, -1')) AS t(args);
SELECT pg_temp.err($$SELECT * FROM outbox.receive_message('qe-q', 1, 0, 0, 'a')$$) AS attempt_id_on_standard;

-- nulls: 22004 naming the argument
SELECT f, pg_temp.err(sql) FROM (VALUES
  ('create_queue', $$SELECT outbox.create_queue(NULL)$$),
  ('send_message', $$SELECT outbox.send_message(NULL, 'x')$$),
  ('send_message body', $$SELECT outbox.send_message('qe-q', NULL::text)$$),
  ('delete_message', $$SELECT outbox.delete_message('qe-q', NULL)$$),
  ('change_message_visibility', $$SELECT outbox.change_message_visibility('qe-q', 'h', NULL)$$),
  ('delete_message_batch', $$SELECT outbox.delete_message_batch('qe-q', NULL)$$),
  ('purge_queue', $$SELECT outbox.purge_queue(NULL)$$),
  ('grant_queue', $$SELECT outbox.grant_queue('qe-q', NULL, 'public')$$)) AS t(f, sql);

-- after all of that, nothing changed
SELECT pg_temp.state() = :'before' AS nothing_changed;
SELECT count(*) AS no_stray_queues FROM outbox.list_queues('qe-') AS q WHERE q NOT IN ('qe-q', 'qe-f.fifo');

SELECT outbox.delete_queue(q) FROM unnest(array['qe-q', 'qe-f.fifo']) AS q;
