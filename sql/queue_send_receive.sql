-- send_message, receive_message and delete_message: bodies, the jsonb body
-- overload, system attributes, message attributes and their MD5 (checked
-- against an implementation of the algorithm in SQL, written from the SQS
-- reference), sizes, and transactions.  Errors show as "SQLSTATE: message".
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
-- depth(queue): its live messages as visible/in flight/delayed, counted from
-- the rows (exact at once; the Approximate* counters may lag a moment)
CREATE FUNCTION pg_temp.depth(q text) RETURNS text LANGUAGE sql AS $$
  SELECT format('%s visible/%s in flight/%s delayed',
                count(*) FILTER (WHERE m.visible_at <= n.now),
                count(*) FILTER (WHERE m.visible_at > n.now AND m.receive_count > 0),
                count(*) FILTER (WHERE m.visible_at > n.now AND m.receive_count = 0))
    FROM outbox.queue qu CROSS JOIN (SELECT outbox.clock_now() AS now) AS n
    JOIN outbox.message m ON m.queue_id = qu.queue_id
                         AND m.enqueued_at > n.now - make_interval(secs => qu.retention_seconds)
   WHERE qu.queue_name = q $$;
-- MD5OfMessageAttributes as SQS computes it: attributes sorted by name
-- (bytes); for each, len32(name) name len32(type) type transport-byte
-- len32(value) value, with transport 1 for String/Number, 2 for Binary.
CREATE FUNCTION pg_temp.md5_attrs(a jsonb) RETURNS text LANGUAGE sql AS $$
  SELECT md5(string_agg(
           int4send(octet_length(convert_to(k, 'UTF8'))) || convert_to(k, 'UTF8')
           || int4send(octet_length(convert_to(v ->> 'DataType', 'UTF8'))) || convert_to(v ->> 'DataType', 'UTF8')
           || CASE WHEN v ->> 'DataType' LIKE 'Binary%'
                   THEN '\x02'::bytea || int4send(length(decode(v ->> 'BinaryValue', 'base64')))
                        || decode(v ->> 'BinaryValue', 'base64')
                   ELSE '\x01'::bytea || int4send(octet_length(convert_to(v ->> 'StringValue', 'UTF8')))
                        || convert_to(v ->> 'StringValue', 'UTF8') END,
           ''::bytea ORDER BY convert_to(k, 'UTF8')))
    FROM jsonb_each(a) AS e(k, v) $$;

SELECT outbox.create_queue('sr-q') LIKE '%:sr-q' AS created;

-- send returns a MessageId and the MD5 of the body; no attributes, no attribute MD5; no sequence number
SELECT message_id IS NOT NULL AS has_id, sequence_number, md5_of_message_body = md5('hello') AS body_md5,
       md5_of_message_attributes
  FROM outbox.send_message('sr-q', 'hello');
SELECT message_id AS sent_id FROM outbox.send_message('sr-q', 'second') \gset
-- receive: typed row; system attributes as SQS names them
SELECT message_id IS NOT NULL AS has_id, length(receipt_handle) > 0 AS has_handle, body,
       md5_of_body = md5(body) AS md5_ok, message_attributes, md5_of_message_attributes,
       receive_count, message_group_id, sequence_number,
       sent_at <= outbox.clock_now() AS sent_in_past,
       (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(attributes) AS k) AS system_attribute_names,
       attributes ->> 'SenderId' = current_user AS sender_is_role,
       attributes ->> 'ApproximateReceiveCount' AS receive_count_text,
       (attributes ->> 'SentTimestamp')::bigint = (extract(epoch FROM date_trunc('milliseconds', sent_at)) * 1000)::bigint AS sent_ms,
       (attributes ->> 'ApproximateFirstReceiveTimestamp')::bigint >= (attributes ->> 'SentTimestamp')::bigint AS first_receive_ms
  FROM outbox.receive_message('sr-q', 10, visibility_timeout => 30)
  ORDER BY body;
SELECT pg_temp.depth('sr-q');
-- the second receive of a message keeps ApproximateFirstReceiveTimestamp and counts up
SELECT outbox.advance_clock('31 seconds') IS NOT NULL AS clock_moved;
SELECT body, receive_count, attributes ->> 'ApproximateReceiveCount' AS count_text,
       (attributes ->> 'ApproximateFirstReceiveTimestamp')::bigint
         < (extract(epoch FROM outbox.clock_now()) * 1000)::bigint - 30000 AS first_receive_kept,
       message_id = :'sent_id' AS same_id_as_sent
  FROM outbox.receive_message('sr-q', 10) WHERE body = 'second';
-- (the other one is in flight again too; make both visible)
SELECT outbox.advance_clock('31 seconds') IS NOT NULL AS clock_moved;

-- delete by receipt handle; deleting twice with the same latest handle succeeds (idempotent)
SELECT receipt_handle AS h1, body AS b1 FROM outbox.receive_message('sr-q', 1, 30) \gset
SELECT outbox.delete_message('sr-q', :'h1');
SELECT outbox.delete_message('sr-q', :'h1');
SELECT pg_temp.depth('sr-q');
SELECT receipt_handle AS h2 FROM outbox.receive_message('sr-q', 1, 30) \gset
SELECT outbox.delete_message('sr-q', :'h2');
SELECT pg_temp.depth('sr-q');
SELECT count(*) AS empty FROM outbox.receive_message('sr-q', 10);
-- a handle is bound to its queue
SELECT outbox.create_queue('sr-other') LIKE '%:sr-other' AS created;
SELECT message_id IS NOT NULL AS sent FROM outbox.send_message('sr-other', 'x');
SELECT receipt_handle AS other_handle FROM outbox.receive_message('sr-other') \gset
SELECT regexp_replace(pg_temp.err(format('SELECT outbox.delete_message(%L, %L)', 'sr-q', :'other_handle')),
                      '"[^"]{20,}"', '"<handle>"') AS wrong_queue;
SELECT pg_temp.depth('sr-other');
-- unknown and malformed handles
SELECT pg_temp.err($$SELECT outbox.delete_message('sr-q', 'not-a-handle')$$) AS malformed;
SELECT pg_temp.err($$SELECT outbox.delete_message('sr-q', '')$$) AS empty_handle;
SELECT pg_temp.err($$SELECT outbox.delete_message('sr-q', NULL)$$) AS null_handle;
SELECT regexp_replace(pg_temp.err(format('SELECT outbox.delete_message(%L, %L)', 'sr-other',
         overlay(:'other_handle' placing CASE WHEN substr(:'other_handle', 10, 1) = 'a' THEN 'b' ELSE 'a' END from 10 for 1))),
         '"[^"]{20,}"', '"<handle>"') AS tampered;
SELECT pg_temp.depth('sr-other');

-- message attributes: String, Number, Binary and custom labels; MD5 as SQS computes it
SELECT md5_of_message_attributes = pg_temp.md5_attrs(a) AS sqs_md5, md5_of_message_attributes AS md5
  FROM (SELECT '{"s": {"DataType": "String", "StringValue": "text"},
                 "n": {"DataType": "Number", "StringValue": "-12.5e3"},
                 "b": {"DataType": "Binary", "BinaryValue": "AAECAw=="},
                 "B.x": {"DataType": "Binary.png", "BinaryValue": "iVBORw0KGgo="},
                 "Nf": {"DataType": "Number.float", "StringValue": "3.14"},
                 "su": {"DataType": "String.Ärger", "StringValue": "grüße"}}'::jsonb AS a) AS t,
       LATERAL outbox.send_message('sr-q', 'with attributes', message_attributes => a);
-- one known value: SQS's digest of {"attr": String "value"}, from the algorithm by hand
SELECT md5_of_message_attributes = md5('\x000000046174747200000006537472696e67010000000576616c7565'::bytea) AS known_digest,
       md5('\x000000046174747200000006537472696e67010000000576616c7565'::bytea) = pg_temp.md5_attrs('{"attr": {"DataType": "String", "StringValue": "value"}}') AS helper_agrees
  FROM outbox.send_message('sr-q', 'known', message_attributes => '{"attr": {"DataType": "String", "StringValue": "value"}}');
SELECT body, message_attributes, md5_of_message_attributes = pg_temp.md5_attrs(message_attributes) AS received_md5
  FROM outbox.receive_message('sr-q', 10) ORDER BY body;
-- an empty attribute object is no attributes
SELECT md5_of_message_attributes IS NULL AS no_md5 FROM outbox.send_message('sr-q', 'none', message_attributes => '{}');
SELECT message_attributes, md5_of_message_attributes FROM outbox.receive_message('sr-q', 10) WHERE body = 'none';
-- attribute names outside [A-Za-z0-9_.-] are refused
SELECT pg_temp.err($$SELECT outbox.send_message('sr-q', 'x', message_attributes => '{"sü": {"DataType": "String", "StringValue": "v"}}')$$) AS non_ascii_name;
-- AWSTraceHeader travels as a system attribute, not a message attribute
SELECT md5_of_message_attributes IS NULL AS no_md5 FROM outbox.send_message('sr-q', 'traced',
  message_system_attributes => '{"AWSTraceHeader": {"DataType": "String", "StringValue": "Root=1-5759e988-bd862e3fe1be46a994272793"}}');
SELECT attributes ->> 'AWSTraceHeader' AS trace, message_attributes FROM outbox.receive_message('sr-q', 10) WHERE body = 'traced';

-- the jsonb body overload sends the JSON text
SELECT md5_of_message_body = md5('{"id": 7, "items": [1, 2]}') AS md5_of_json_text
  FROM outbox.send_message('sr-q', '{"items": [1, 2], "id": 7}'::jsonb);
SELECT message_id IS NOT NULL AS sent FROM outbox.send_message('sr-q', jsonb_build_object('k', 'v'), message_attributes => '{"t": {"DataType": "String", "StringValue": "json"}}');
SELECT body, body::jsonb ->> 'k' AS k, message_attributes ->> 't' IS NOT NULL AS has_attr
  FROM outbox.receive_message('sr-q', 10) WHERE body LIKE '{%' ORDER BY body;
SELECT pg_temp.err($$SELECT outbox.send_message('sr-q', NULL::jsonb)$$) AS null_jsonb;
-- a JSON string is a body too (its JSON text, quotes included)
SELECT md5_of_message_body = md5('"just text"') AS quoted FROM outbox.send_message('sr-q', '"just text"'::jsonb);

-- bodies: any allowed Unicode; tabs and newlines are fine; other control characters are not
SELECT message_id IS NOT NULL AS sent FROM outbox.send_message('sr-q', E'tab\there\nnew line\r\n ✓ 𝄞 \uE000');
SELECT body = E'tab\there\nnew line\r\n ✓ 𝄞 \uE000' AS same_body, md5_of_body = md5(body) AS md5_ok
  FROM outbox.receive_message('sr-q', 10) WHERE body LIKE 'tab%';
SELECT pg_temp.err($$SELECT outbox.send_message('sr-q', E'bell\x07')$$) AS control;
SELECT pg_temp.err($$SELECT outbox.send_message('sr-q', E'x\uFFFE')$$) AS non_character;
SELECT pg_temp.err($$SELECT outbox.send_message('sr-q', '')$$) AS empty_body;
SELECT pg_temp.err($$SELECT outbox.send_message('sr-q', NULL::text)$$) AS null_body;

-- size: body plus attribute names, types and values, in UTF-8 bytes, against MaximumMessageSize
SELECT outbox.create_queue('sr-small', '{"MaximumMessageSize": 1024}') LIKE '%:sr-small' AS created;
SELECT pg_temp.err(format('SELECT outbox.send_message(%L, %L)', 'sr-small', repeat('x', 1024))) AS bytes_1024;
SELECT pg_temp.err(format('SELECT outbox.send_message(%L, %L)', 'sr-small', repeat('x', 1025))) AS bytes_1025;
SELECT pg_temp.err(format('SELECT outbox.send_message(%L, %L)', 'sr-small', repeat('é', 512))) AS two_byte_512;
SELECT pg_temp.err(format('SELECT outbox.send_message(%L, %L)', 'sr-small', repeat('é', 513))) AS two_byte_513;
-- name "a" (1) + type "String" (6) + value "x" (1) = 8 bytes
SELECT pg_temp.err(format('SELECT outbox.send_message(%L, %L, message_attributes => %L)', 'sr-small', repeat('x', 1016),
                          '{"a": {"DataType": "String", "StringValue": "x"}}')) AS with_attribute_1024;
SELECT outbox.send_message('sr-small', repeat('x', 1017), message_attributes => '{"a": {"DataType": "String", "StringValue": "x"}}');
-- a Binary value counts its decoded bytes: "AAECAw==" is 4 bytes; "b" + "Binary" + 4 = 11
SELECT pg_temp.err(format('SELECT outbox.send_message(%L, %L, message_attributes => %L)', 'sr-small', repeat('x', 1013),
                          '{"b": {"DataType": "Binary", "BinaryValue": "AAECAw=="}}')) AS binary_1024;
SELECT pg_temp.err(format('SELECT outbox.send_message(%L, %L, message_attributes => %L)', 'sr-small', repeat('x', 1014),
                          '{"b": {"DataType": "Binary", "BinaryValue": "AAECAw=="}}')) AS binary_1025;
-- the default MaximumMessageSize is 1 MiB
SELECT pg_temp.err(format('SELECT outbox.send_message(%L, %L)', 'sr-q', repeat('x', 1048576))) AS one_mib;
SELECT pg_temp.err(format('SELECT outbox.send_message(%L, %L)', 'sr-q', repeat('x', 1048577))) AS one_mib_plus_one;
SELECT length(body) FROM outbox.receive_message('sr-q', 10) WHERE length(body) > 1000;
SELECT pg_temp.depth('sr-small');

-- a rolled-back send leaves nothing (only the sending transaction itself sees it before commit)
BEGIN;
SELECT message_id IS NOT NULL AS sent FROM outbox.send_message('sr-other', 'in transaction');
SELECT count(*) AS own_transaction_sees_its_send FROM outbox.receive_message('sr-other', 10) WHERE body = 'in transaction';
ROLLBACK;
SELECT pg_temp.depth('sr-other');
-- a receive that rolls back loses nothing: count, handle and visibility roll back
SELECT outbox.advance_clock('31 seconds') IS NOT NULL AS clock_moved;
BEGIN;
SELECT body, receive_count FROM outbox.receive_message('sr-other', 1, 600);
ROLLBACK;
SELECT body, receive_count FROM outbox.receive_message('sr-other', 1, 0);
-- a delete that rolls back deletes nothing
SELECT receipt_handle AS rb_handle FROM outbox.receive_message('sr-other', 1, 0) \gset
BEGIN;
SELECT outbox.delete_message('sr-other', :'rb_handle');
ROLLBACK;
SELECT pg_temp.depth('sr-other');

-- receive arguments
SELECT pg_temp.err($$SELECT * FROM outbox.receive_message('sr-q', 0)$$) AS zero_messages;
SELECT pg_temp.err($$SELECT * FROM outbox.receive_message('sr-q', -1)$$) AS negative;
SELECT pg_temp.err($$SELECT * FROM outbox.receive_message('sr-q', 1, 43201)$$) AS visibility_too_long;
SELECT pg_temp.err($$SELECT * FROM outbox.receive_message('sr-q', 1, -1)$$) AS visibility_negative;
SELECT pg_temp.err($$SELECT * FROM outbox.receive_message('sr-q', 1, 0, 21)$$) AS wait_too_long;
SELECT pg_temp.err($$SELECT * FROM outbox.receive_message('sr-q', 1, 0, -1)$$) AS wait_negative;
SELECT pg_temp.err($$SELECT * FROM outbox.receive_message('sr-q', NULL)$$) AS null_count_is_default;
SELECT pg_temp.err($$SELECT * FROM outbox.receive_message('sr-q', 1, 0, 0, 'attempt-1')$$) AS attempt_on_standard;
-- more than 10 per call is allowed (beyond SQS); the cap names itself
SELECT count(*) AS sent FROM outbox.send_message_bodies('sr-q', array(SELECT 'many-' || i FROM generate_series(1, 25) AS i));
SELECT count(*) AS received_25 FROM outbox.receive_message('sr-q', 25, 0);
SELECT * FROM outbox.receive_message('sr-q', 100000);

-- clean up
SELECT outbox.delete_queue(q) FROM unnest(array['sr-q', 'sr-other', 'sr-small']) AS q;
