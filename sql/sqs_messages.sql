-- Messages: send, receive, delete; bodies and message attributes; digests;
-- system attributes; transactions.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_outbox;
RESET client_min_messages;
\i sql/include/queue_helpers.sql

SELECT outbox.create_queue('msg-q');

-- send: MessageId, MD5 of the body (hex MD5 of its UTF-8 bytes), MD5 of the attributes
-- (checked against an independent implementation of SQS's algorithm)
SELECT message_id AS id1, md5_of_message_body, md5_of_message_attributes,
       sequence_number IS NULL AS no_sequence_number
  FROM outbox.send_message('msg-q', 'hello',
         message_attributes => '{"a": {"DataType": "String", "StringValue": "x"}}') \gset
SELECT :'md5_of_message_body' = md5('hello') AS body_md5_ok,
       :'md5_of_message_attributes' = 'a512aac9938034acb0b3c3d965944bf1' AS attributes_md5_ok,
       :'no_sequence_number' AS no_sequence_number_on_standard_queues;
SELECT md5_of_message_attributes = '4e5753ba26209656c44d7d3a9e296f5f' AS mixed_types_md5_ok
  FROM outbox.send_message('msg-q', 'typed', message_attributes => '{
        "tenant": {"DataType": "String", "StringValue": "acme"},
        "priority": {"DataType": "Number", "StringValue": "3"},
        "thumb": {"DataType": "Binary.png", "BinaryValue": "iVBORw0K"},
        "Zeta": {"DataType": "String.custom", "StringValue": "ünï"}}');
-- a jsonb body is sent as its JSON text
SELECT md5_of_message_body = md5('{"a": 1}') AS jsonb_body FROM outbox.send_message('msg-q', '{"a":1}'::jsonb);
SELECT pg_temp.depth('msg-q');

-- receive: body, attributes, system attributes, typed columns; ids are stable
SELECT message_id = :'id1' AS same_id, body, md5_of_body = md5(body) AS md5_ok, message_attributes,
       md5_of_message_attributes, receive_count, message_group_id, sequence_number,
       length(receipt_handle) AS handle_length,
       attributes ->> 'SenderId' AS sender, attributes ->> 'ApproximateReceiveCount' AS count,
       (attributes ->> 'SentTimestamp')::bigint = floor(extract(epoch FROM sent_at) * 1000)::bigint AS sent_ms,
       (attributes ->> 'ApproximateFirstReceiveTimestamp')::bigint >= (attributes ->> 'SentTimestamp')::bigint AS first_receive_ms,
       (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(attributes) AS k) AS system_attribute_names
  FROM outbox.receive_message('msg-q') \gset r_
SELECT :'r_same_id' AS same_id, :'r_body' AS body, :'r_md5_ok' AS md5_ok, :'r_message_attributes' AS message_attributes,
       :'r_receive_count' AS receive_count, :'r_handle_length' AS handle_length, :'r_sender' AS sender,
       :'r_sent_ms' AS sent_ms, :'r_first_receive_ms' AS first_receive_ms, :'r_system_attribute_names' AS names;
SELECT body, message_attributes -> 'thumb' AS thumb, message_attributes -> 'priority' AS priority
  FROM outbox.receive_message('msg-q', 10) ORDER BY body;
SELECT pg_temp.depth('msg-q');
-- nothing is left to receive: all three are in flight
SELECT count(*) FROM outbox.receive_message('msg-q', 10);

-- a receive that rolls back leaves the messages as they were
SELECT outbox.create_queue('msg-rb');
SELECT message_id IS NOT NULL AS sent FROM outbox.send_message('msg-rb', 'kept');
BEGIN;
SELECT body, receive_count FROM outbox.receive_message('msg-rb');
ROLLBACK;
SELECT body, receive_count FROM outbox.receive_message('msg-rb', visibility_timeout => 0);
-- a send that rolls back sends nothing
BEGIN;
SELECT message_id IS NOT NULL AS sent FROM outbox.send_message('msg-rb', 'never');
ROLLBACK;
SELECT body FROM outbox.receive_message('msg-rb', 10, 0);
SELECT pg_temp.depth('msg-rb');
-- a transaction receives what it sent itself
BEGIN;
SELECT message_id IS NOT NULL AS sent FROM outbox.send_message('msg-rb', 'mine');
SELECT body FROM outbox.receive_message('msg-rb', 10, 0) ORDER BY body;
COMMIT;

-- delete: by the receipt handle of the latest receive; idempotent; a handle never
-- issued is refused; a handle of another queue is refused
SELECT outbox.create_queue('msg-del');
SELECT count(*) FROM outbox.send_message_bodies('msg-del', array['d1', 'd2']);
SELECT receipt_handle AS h1 FROM outbox.receive_message('msg-del', 1, 30) \gset
SELECT outbox.delete_message('msg-del', :'h1');
SELECT outbox.delete_message('msg-del', :'h1');
SELECT pg_temp.depth('msg-del');
SELECT pg_temp.err(format('SELECT outbox.delete_message(%L, %L)', 'msg-del', 'not-a-handle'));
SELECT pg_temp.err(format('SELECT outbox.delete_message(%L, %L)', 'msg-del', repeat('0', 56)));
-- (handles differ from run to run: shown as <handle>)
SELECT regexp_replace(pg_temp.err(format('SELECT outbox.delete_message(%L, %L)', 'msg-del',
         overlay(:'h1' placing CASE WHEN substr(:'h1', 30, 1) = 'f' THEN 'e' ELSE 'f' END from 30 for 1))),
       '[0-9a-f]{56}', '<handle>') AS forged_handle;
SELECT regexp_replace(pg_temp.err(format('SELECT outbox.delete_message(%L, %L)', 'msg-rb', :'h1')),
       '[0-9a-f]{56}', '<handle>') AS other_queue;
SELECT pg_temp.err($$SELECT outbox.delete_message('msg-del', NULL)$$);
-- delete_message_batch: all handles checked before anything is deleted
SELECT receipt_handle AS h2 FROM outbox.receive_message('msg-del', 1, 30) \gset
SELECT pg_temp.err(format('SELECT outbox.delete_message_batch(%L, %L)', 'msg-del', array[:'h2', 'bad']));
SELECT pg_temp.depth('msg-del');
SELECT outbox.delete_message_batch('msg-del', array[:'h2', :'h1']);
SELECT outbox.delete_message_batch('msg-del', '{}');
SELECT pg_temp.depth('msg-del');

-- bodies: at least one character; tab, newline, carriage return and U+0020 onwards,
-- but not other control characters, U+FFFE or U+FFFF
SELECT left(replace(replace(replace(b, chr(9), '\t'), chr(13), '\r'), chr(10), '\n'), 12) AS body, pg_temp.err(format('SELECT outbox.send_message(%L, %L)', 'msg-q', b)) AS result
  FROM (VALUES (''), (E'tab\there'), (E'cr\rlf\n'), ('😀 emoji'), (E'\u0001'), (E'bell\u0007'), (E'\uFFFE'), (E'x\uFFFFy'), (E'\uFFFD')) AS v(b);
SELECT pg_temp.err($$SELECT outbox.send_message('msg-q', NULL::text)$$);

-- size: MaximumMessageSize counts the body and the attributes' names, types and values (bytes)
SELECT outbox.create_queue('msg-small', '{"MaximumMessageSize": 1024}');
SELECT pg_temp.err(format('SELECT outbox.send_message(%L, %L)', 'msg-small', repeat('x', 1024)));
SELECT pg_temp.err(format('SELECT outbox.send_message(%L, %L)', 'msg-small', repeat('x', 1025)));
SELECT pg_temp.err(format('SELECT outbox.send_message(%L, %L)', 'msg-small', repeat('é', 513)));
SELECT pg_temp.err(format('SELECT outbox.send_message(%L, %L, message_attributes => %L)', 'msg-small', repeat('x', 1013),
        '{"ab": {"DataType": "String", "StringValue": "cde"}}'));
SELECT pg_temp.err(format('SELECT outbox.send_message(%L, %L, message_attributes => %L)', 'msg-small', repeat('x', 1014),
        '{"ab": {"DataType": "String", "StringValue": "cde"}}'));
-- the full error, with its detail and hint
SELECT outbox.send_message('msg-small', repeat('x', 2000));
SELECT pg_temp.depth('msg-small');

-- message attributes: shape, names, types, values, at most 10
SELECT CASE WHEN length(a) > 100 THEN (SELECT count(*) FROM jsonb_object_keys(a::jsonb)) || ' attributes' ELSE a END AS message_attributes,
       pg_temp.err(format('SELECT outbox.send_message(%L, %L, message_attributes => %L)', 'msg-q', 'x', a)) AS result
  FROM (VALUES ('[]'), ('{"a": "x"}'), ('{"a": {"StringValue": "x"}}'), ('{"a": {"DataType": "Text", "StringValue": "x"}}'),
               ('{"a": {"DataType": "String"}}'), ('{"a": {"DataType": "String", "StringValue": ""}}'),
               ('{"a": {"DataType": "Binary", "StringValue": "x"}}'), ('{"a": {"DataType": "Binary", "BinaryValue": "!!"}}'),
               ('{"a": {"DataType": "String", "StringListValues": ["x"]}}'),
               ('{"a": {"DataType": "Number", "StringValue": "12e"}}'), ('{"a": {"DataType": "Number", "StringValue": "-1.5e3"}}'),
               ('{"a": {"DataType": "Number", "StringValue": "123456789012345678901234567890123456789"}}'),
               ('{"a": {"DataType": "Number", "StringValue": "1e127"}}'), ('{"a": {"DataType": "Number", "StringValue": "1e-129"}}'),
               ('{"a": {"DataType": "Number.int", "StringValue": "42"}}'), ('{"a": {"DataType": "String.", "StringValue": "x"}}'),
               ('{"AWS.trace": {"DataType": "String", "StringValue": "x"}}'), ('{"amazon.x": {"DataType": "String", "StringValue": "x"}}'),
               ('{".a": {"DataType": "String", "StringValue": "x"}}'), ('{"a..b": {"DataType": "String", "StringValue": "x"}}'),
               ('{"a b": {"DataType": "String", "StringValue": "x"}}'), ('{"a.b-c_d": {"DataType": "String", "StringValue": "x"}}'),
               ('{"a": {"DataType": "String", "StringValue": "bell\u0007"}}'),
               ((SELECT jsonb_object_agg('k' || i, '{"DataType": "String", "StringValue": "v"}'::jsonb) FROM generate_series(1, 11) i)::text),
               ((SELECT jsonb_object_agg('k' || i, '{"DataType": "String", "StringValue": "v"}'::jsonb) FROM generate_series(1, 10) i)::text)
       ) AS v(a);
SELECT pg_temp.err($$SELECT outbox.send_message('msg-q', 'x', message_system_attributes => '{"Other": {"DataType": "String", "StringValue": "x"}}')$$);
SELECT outbox.create_queue('msg-trace');
SELECT message_id IS NOT NULL AS sent
  FROM outbox.send_message('msg-trace', 'traced', message_system_attributes => '{"AWSTraceHeader": {"DataType": "String", "StringValue": "Root=1-5759e988"}}');
SELECT body, attributes ->> 'AWSTraceHeader' AS trace_header FROM outbox.receive_message('msg-trace');

-- group ids on a standard queue are kept (fair queues); dedup ids are FIFO-only
SELECT outbox.create_queue('msg-fair');
SELECT message_id IS NOT NULL AS sent FROM outbox.send_message('msg-fair', 'tenant-a', message_group_id => 'tenant-a');
SELECT message_group_id, attributes ->> 'MessageGroupId' AS system_attribute FROM outbox.receive_message('msg-fair');
SELECT pg_temp.err($$SELECT outbox.send_message('msg-fair', 'x', message_deduplication_id => 'd1')$$);
SELECT pg_temp.err($$SELECT outbox.send_message('msg-fair', 'x', message_group_id => 'with space')$$);
SELECT pg_temp.err(format('SELECT outbox.send_message(%L, %L, message_group_id => %L)', 'msg-fair', 'x', repeat('g', 129)));

-- unknown queue
SELECT pg_temp.err($$SELECT outbox.send_message('nowhere', 'x')$$);
SELECT pg_temp.err($$SELECT outbox.receive_message('nowhere')$$);
SELECT pg_temp.err($$SELECT outbox.delete_message('nowhere', 'x')$$);

SELECT outbox.delete_queue(q) FROM outbox.list_queues('msg-') AS q;
