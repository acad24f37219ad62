-- Batches: send_message_batch (all or nothing, the bad entry named),
-- send_message_bodies, and the batch limits.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_outbox;
RESET client_min_messages;
\i sql/include/queue_helpers.sql

SELECT outbox.create_queue('batch-q');
SELECT id, message_id IS NOT NULL AS has_id, sequence_number, md5_of_message_body = md5(b) AS body_md5,
       md5_of_message_attributes
  FROM outbox.send_message_batch('batch-q', '[
         {"Id": "first", "MessageBody": "one"},
         {"Id": "second", "MessageBody": {"n": 2}, "DelaySeconds": 5},
         {"Id": "third", "MessageBody": "three", "MessageAttributes": {"a": {"DataType": "String", "StringValue": "x"}},
          "MessageGroupId": "tenant-1", "MessageSystemAttributes": {"AWSTraceHeader": {"DataType": "String", "StringValue": "Root=1"}}}
       ]') AS r
  JOIN (VALUES ('first', 'one'), ('second', '{"n": 2}'), ('third', 'three')) AS v(i, b) ON v.i = r.id;
SELECT pg_temp.depth('batch-q');
SELECT body, message_group_id, message_attributes, attributes ->> 'AWSTraceHeader' AS trace
  FROM outbox.receive_message('batch-q', 10, 0) ORDER BY body;

-- one bad entry: an error that names it, and nothing of the batch is sent
SELECT e AS entries, pg_temp.err(format('SELECT outbox.send_message_batch(%L, %L)', 'batch-q', e)) AS result
  FROM (VALUES
    ('[]'),
    ('{"Id": "a", "MessageBody": "x"}'),
    ('[{"Id": "a", "MessageBody": "x"}, "not an object"]'),
    ('[{"Id": "a", "MessageBody": "x"}, {"MessageBody": "no id"}]'),
    ('[{"Id": "a", "MessageBody": "x"}, {"Id": "bad id!", "MessageBody": "x"}]'),
    ('[{"Id": "a", "MessageBody": "x"}, {"Id": "a", "MessageBody": "again"}]'),
    ('[{"Id": "a", "MessageBody": "x"}, {"Id": "b"}]'),
    ('[{"Id": "a", "MessageBody": "x"}, {"Id": "b", "MessageBody": ""}]'),
    ('[{"Id": "a", "MessageBody": "x"}, {"Id": "b", "MessageBody": "x", "DelaySeconds": 901}]'),
    ('[{"Id": "a", "MessageBody": "x"}, {"Id": "b", "MessageBody": "x", "DelaySeconds": "soon"}]'),
    ('[{"Id": "a", "MessageBody": "x"}, {"Id": "b", "MessageBody": "x", "MessageAttributes": {"AWS.x": {"DataType": "String", "StringValue": "v"}}}]'),
    ('[{"Id": "a", "MessageBody": "x"}, {"Id": "b", "MessageBody": "x", "MessageDeduplicationId": "d"}]'),
    ('[{"Id": "a", "MessageBody": "x"}, {"Id": "b", "MessageBody": "x", "MessageGroupId": 7}]'),
    ('[{"Id": "a", "MessageBody": "x"}, {"Id": "b", "MessageBody": "x", "Colour": "red"}]')
  ) AS v(e);
SELECT pg_temp.depth('batch-q') AS nothing_was_sent;
-- the full error for a bad entry: its context line names the entry
SELECT outbox.send_message_batch('batch-q', '[{"Id": "ok", "MessageBody": "x"}, {"Id": "big", "MessageBody": "x", "DelaySeconds": -3}]');
\set VERBOSITY default
SELECT outbox.send_message_batch('batch-q', '[{"Id": "ok", "MessageBody": "x"}, {"Id": "ctl", "MessageBody": "\u0002"}]');

-- beyond SQS's 10 entries: up to pg_outbox.max_send_batch
SELECT count(*) AS sent FROM outbox.send_message_batch('batch-q',
         (SELECT jsonb_agg(jsonb_build_object('Id', 'm' || i, 'MessageBody', 'body ' || i)) FROM generate_series(1, 250) i));
SET pg_outbox.max_send_batch = 100;
SELECT pg_temp.err(format('SELECT outbox.send_message_batch(%L, %L)', 'batch-q',
         (SELECT jsonb_agg(jsonb_build_object('Id', 'm' || i, 'MessageBody', 'x')) FROM generate_series(1, 101) i))) AS over_limit;
SELECT pg_temp.err(format('SELECT outbox.send_message_bodies(%L, %L)', 'batch-q', (SELECT array_agg('x'::text) FROM generate_series(1, 101)))) AS bodies_over_limit;
RESET pg_outbox.max_send_batch;
SELECT pg_temp.depth('batch-q');

-- send_message_bodies: ids are the positions; a null or bad body fails the whole call
SELECT id, md5_of_message_body = md5(b) AS md5_ok
  FROM outbox.send_message_bodies('batch-q', array['x', 'y']) AS r JOIN (VALUES ('1', 'x'), ('2', 'y')) AS v(i, b) ON v.i = r.id;
SELECT pg_temp.err($$SELECT outbox.send_message_bodies('batch-q', array['ok', NULL])$$) AS null_body;
SELECT pg_temp.err($$SELECT outbox.send_message_bodies('batch-q', array['ok', ''])$$) AS empty_body;
SELECT pg_temp.err($$SELECT outbox.send_message_bodies('batch-q', '{}')$$) AS no_bodies;
SELECT pg_temp.err($$SELECT outbox.send_message_bodies('batch-q', NULL)$$) AS null_array;
SELECT pg_temp.depth('batch-q');

-- FIFO batches are sent in entry order and deduplicated entry by entry
SELECT outbox.create_queue('batch.fifo', '{"FifoQueue": true}');
SELECT id, sequence_number IS NOT NULL AS has_seq
  FROM outbox.send_message_batch('batch.fifo', '[
         {"Id": "a", "MessageBody": "1", "MessageGroupId": "g", "MessageDeduplicationId": "d1"},
         {"Id": "b", "MessageBody": "2", "MessageGroupId": "g", "MessageDeduplicationId": "d2"},
         {"Id": "c", "MessageBody": "1 again", "MessageGroupId": "g", "MessageDeduplicationId": "d1"}]');
SELECT body FROM outbox.receive_message('batch.fifo', 10) ORDER BY sequence_number;
SELECT pg_temp.err($$SELECT outbox.send_message_batch('batch.fifo', '[{"Id": "a", "MessageBody": "1", "MessageGroupId": "g", "MessageDeduplicationId": "d9"}, {"Id": "b", "MessageBody": "2", "MessageDeduplicationId": "d8"}]')$$) AS missing_group;

SELECT outbox.delete_queue('batch-q'), outbox.delete_queue('batch.fifo');
