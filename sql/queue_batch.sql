-- Batches: send_message_batch (entries as SQS shapes them) and
-- send_message_bodies (plain bodies), both all or nothing: a bad entry is
-- named and nothing is written; delete_message_batch and
-- change_message_visibility_batch.  Errors show as "SQLSTATE: message",
-- plus the batch entry the error is about when there is one.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_outbox;
RESET client_min_messages;
CREATE FUNCTION pg_temp.err(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  ctx text;
BEGIN
  EXECUTE sql;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS ctx = PG_EXCEPTION_CONTEXT;
  RETURN SQLSTATE || ': ' || regexp_replace(SQLERRM, '"[A-Za-z0-9+/=_-]{40,}"', '"<long>"')
         || coalesce(' (' || substring(ctx FROM 'batch entry "[^"]*"') || ')', '');
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
CREATE FUNCTION pg_temp.tick(s int) RETURNS void LANGUAGE sql AS $$
  SELECT outbox.advance_clock(make_interval(secs => s)) $$;
CREATE FUNCTION pg_temp.rows(q text) RETURNS bigint LANGUAGE sql AS $$
  SELECT count(*) FROM outbox.message m JOIN outbox.queue USING (queue_id) WHERE queue_name = q $$;

SELECT outbox.create_queue('bt-q') LIKE '%:bt-q' AS created;
-- every entry gets its id back with a MessageId and digests, in entry order
SELECT id, message_id IS NOT NULL AS has_id, sequence_number, md5_of_message_body = md5(b) AS body_md5, md5_of_message_attributes
  FROM outbox.send_message_batch('bt-q', '[
    {"Id": "first", "MessageBody": "one"},
    {"Id": "second", "MessageBody": "two", "DelaySeconds": 30},
    {"Id": "third_3", "MessageBody": "three", "MessageAttributes": {"a": {"DataType": "Number", "StringValue": "3"}}}
  ]') AS r, LATERAL (SELECT CASE r.id WHEN 'first' THEN 'one' WHEN 'second' THEN 'two' ELSE 'three' END AS b) AS x;
SELECT pg_temp.depth('bt-q');
SELECT body, message_attributes FROM outbox.receive_message('bt-q', 10, 0) ORDER BY body;
-- distinct MessageIds
SELECT count(DISTINCT message_id) AS distinct_ids FROM outbox.send_message_batch('bt-q',
  '[{"Id": "a", "MessageBody": "x"}, {"Id": "b", "MessageBody": "x"}]');

-- a bad entry anywhere: the error names it, nothing of the batch is written
SELECT pg_temp.rows('bt-q') AS rows_before;
SELECT pg_temp.err($$SELECT * FROM outbox.send_message_batch('bt-q', '[{"Id": "ok1", "MessageBody": "fine"}, {"Id": "bad", "MessageBody": ""}]')$$) AS empty_body;
SELECT pg_temp.err($$SELECT * FROM outbox.send_message_batch('bt-q', '[{"Id": "ok1", "MessageBody": "fine"}, {"Id": "late", "MessageBody": "x", "DelaySeconds": 901}]')$$) AS delay;
SELECT pg_temp.err($$SELECT * FROM outbox.send_message_batch('bt-q', '[{"Id": "ok1", "MessageBody": "fine"}, {"Id": "attr", "MessageBody": "x", "MessageAttributes": {"a": {"DataType": "Number", "StringValue": "abc"}}}]')$$) AS bad_number;
SELECT pg_temp.err($$SELECT * FROM outbox.send_message_batch('bt-q', '[{"Id": "ok1", "MessageBody": "fine"}, {"Id": "grp", "MessageBody": "x", "MessageDeduplicationId": "d"}]')$$) AS dedup_on_standard;
SELECT pg_temp.err($$SELECT * FROM outbox.send_message_batch('bt-q', '[{"Id": "ok1", "MessageBody": "fine"}, {"Id": "ctl", "MessageBody": "a\u0001b"}]')$$) AS control_char;
SELECT pg_temp.err($$SELECT * FROM outbox.send_message_batch('bt-q', '[{"Id": "ok1", "MessageBody": "fine"}, {"Id": "nobody"}]')$$) AS no_body;
SELECT pg_temp.err($$SELECT * FROM outbox.send_message_batch('bt-q', '[{"Id": "ok1", "MessageBody": "fine"}, {"MessageBody": "no id"}]')$$) AS no_id;
SELECT pg_temp.err($$SELECT * FROM outbox.send_message_batch('bt-q', '[{"Id": "ok1", "MessageBody": "fine"}, {"Id": "x", "MessageBody": "y", "Extra": 1}]')$$) AS unknown_key;
SELECT pg_temp.err($$SELECT * FROM outbox.send_message_batch('bt-q', '[{"Id": "ok1", "MessageBody": "fine"}, "just a string"]')$$) AS not_an_object;
SELECT pg_temp.err($$SELECT * FROM outbox.send_message_batch('bt-q', '[{"Id": "dup", "MessageBody": "a"}, {"Id": "dup", "MessageBody": "b"}]')$$) AS ids_not_distinct;
SELECT pg_temp.err($$SELECT * FROM outbox.send_message_batch('bt-q', '[{"Id": "bad id", "MessageBody": "a"}]')$$) AS bad_id;
SELECT pg_temp.err(format('SELECT * FROM outbox.send_message_batch(%L, %L)', 'bt-q', jsonb_build_array(jsonb_build_object('Id', repeat('i', 81), 'MessageBody', 'a')))) AS long_id;
SELECT pg_temp.err(format('SELECT * FROM outbox.send_message_batch(%L, %L)', 'bt-q', jsonb_build_array(jsonb_build_object('Id', repeat('i', 80), 'MessageBody', 'a')))) AS id_80;
SELECT pg_temp.err($$SELECT * FROM outbox.send_message_batch('bt-q', '[]')$$) AS empty_batch;
SELECT pg_temp.err($$SELECT * FROM outbox.send_message_batch('bt-q', '{"Id": "a"}')$$) AS not_an_array;
SELECT pg_temp.err($$SELECT * FROM outbox.send_message_batch('bt-q', NULL)$$) AS null_entries;
SELECT pg_temp.err(format('SELECT * FROM outbox.send_message_batch(%L, %L)', 'bt-q',
  (SELECT jsonb_agg(jsonb_build_object('Id', 'e' || i, 'MessageBody', 'b')) FROM generate_series(1, 1001) AS i))) AS too_many;
-- the raw error, with the entry in its context
SELECT * FROM outbox.send_message_batch('bt-q', '[{"Id": "ok1", "MessageBody": "fine"}, {"Id": "big", "MessageBody": "x", "DelaySeconds": "soon"}]');
SELECT pg_temp.rows('bt-q') AS rows_after_failures;
-- the whole batch is in the caller's transaction
BEGIN;
SELECT count(*) FROM outbox.send_message_batch('bt-q', '[{"Id": "r1", "MessageBody": "rolled back"}]');
ROLLBACK;
SELECT pg_temp.rows('bt-q') AS rows_after_rollback;

-- send_message_bodies: ids are array positions; a bad body names its position; nothing is written
SELECT id, md5_of_message_body = md5(b) AS md5_ok
  FROM outbox.send_message_bodies('bt-q', array['p1', 'p2', 'p3']) WITH ORDINALITY AS r(id, message_id, sequence_number, md5_of_message_body, md5_of_message_attributes, n),
       LATERAL (SELECT (array['p1', 'p2', 'p3'])[n] AS b) AS x;
SELECT pg_temp.rows('bt-q') AS rows_before;
SELECT pg_temp.err($$SELECT * FROM outbox.send_message_bodies('bt-q', array['fine', '', 'fine'])$$) AS empty_second;
SELECT pg_temp.err($$SELECT * FROM outbox.send_message_bodies('bt-q', array['fine', NULL])$$) AS null_second;
SELECT pg_temp.err($$SELECT * FROM outbox.send_message_bodies('bt-q', array[]::text[])$$) AS empty_array;
SELECT pg_temp.rows('bt-q') AS rows_after_failures;
-- a standard queue takes a message group id (SQS fair queues) without ordering by it
SELECT count(*) AS sent FROM outbox.send_message_bodies('bt-q', array['a'], 'group');
-- a MessageBody that is not a JSON string is sent as its JSON text (like the jsonb overload)
SELECT outbox.purge_queue('bt-q') >= 0 AS purged;
SELECT md5_of_message_body = md5('{"n": [1, 2]}') AS md5_of_json_text
  FROM outbox.send_message_batch('bt-q', '[{"Id": "j", "MessageBody": {"n": [1, 2]}}, {"Id": "k", "MessageBody": 5}]') WHERE id = 'j';
SELECT body FROM outbox.receive_message('bt-q', 10, 0) ORDER BY body;

-- FIFO batches: enqueued in entry order; each entry checked for group and dedup id
SELECT outbox.create_queue('bt-f.fifo', '{"FifoQueue": true}') LIKE '%.fifo' AS created;
SELECT id, sequence_number IS NOT NULL AS has_seq
  FROM outbox.send_message_batch('bt-f.fifo', '[
    {"Id": "m1", "MessageBody": "f1", "MessageGroupId": "g", "MessageDeduplicationId": "d1"},
    {"Id": "m2", "MessageBody": "f2", "MessageGroupId": "g", "MessageDeduplicationId": "d2"},
    {"Id": "m3", "MessageBody": "f3", "MessageGroupId": "g", "MessageDeduplicationId": "d1"}]');
SELECT body FROM outbox.receive_message('bt-f.fifo', 10, 0);
SELECT pg_temp.err($$SELECT * FROM outbox.send_message_batch('bt-f.fifo', '[{"Id": "ok", "MessageBody": "f", "MessageGroupId": "g", "MessageDeduplicationId": "d9"}, {"Id": "nogroup", "MessageBody": "f", "MessageDeduplicationId": "d8"}]')$$) AS missing_group;
SELECT pg_temp.err($$SELECT * FROM outbox.send_message_batch('bt-f.fifo', '[{"Id": "ok", "MessageBody": "f", "MessageGroupId": "g", "MessageDeduplicationId": "d9"}, {"Id": "nodedup", "MessageBody": "f", "MessageGroupId": "g"}]')$$) AS missing_dedup;
SELECT pg_temp.err($$SELECT * FROM outbox.send_message_batch('bt-f.fifo', '[{"Id": "ok", "MessageBody": "f", "MessageGroupId": "g", "MessageDeduplicationId": "d9"}, {"Id": "delayed", "MessageBody": "f", "MessageGroupId": "g", "MessageDeduplicationId": "d7", "DelaySeconds": 5}]')$$) AS delay_on_fifo;
SELECT pg_temp.rows('bt-f.fifo') AS fifo_rows;

-- delete_message_batch: returns how many it deleted; stale handles count 0; a bad handle fails the batch
SELECT outbox.create_queue('bt-d') LIKE '%:bt-d' AS created;
SELECT count(*) AS sent FROM outbox.send_message_bodies('bt-d', array['d1', 'd2', 'd3', 'd4']);
SELECT array_agg(receipt_handle ORDER BY body) AS handles FROM outbox.receive_message('bt-d', 4, 30) \gset
SELECT pg_temp.err(format('SELECT outbox.delete_message_batch(%L, %L)', 'bt-d', (:'handles'::text[])[1:2] || array['garbage'])) AS bad_handle;
SELECT pg_temp.err(format('SELECT outbox.delete_message_batch(%L, %L)', 'bt-d', (:'handles'::text[])[1:2] || array[NULL])) AS null_handle;
SELECT pg_temp.depth('bt-d') AS nothing_deleted;
SELECT outbox.delete_message_batch('bt-d', (:'handles'::text[])[1:2]) AS deleted;
SELECT outbox.delete_message_batch('bt-d', (:'handles'::text[])[1:2]) AS deleted_again;
SELECT pg_temp.depth('bt-d');
-- a handle superseded by a later receive deletes nothing
SELECT pg_temp.tick(31);
SELECT count(*) AS received_again FROM outbox.receive_message('bt-d', 4, 30);
SELECT outbox.delete_message_batch('bt-d', (:'handles'::text[])[3:4]) AS stale_deleted;
SELECT pg_temp.depth('bt-d');
-- an empty array deletes nothing (SQS would call it EmptyBatchRequest)
SELECT outbox.delete_message_batch('bt-d', array[]::text[]) AS empty;
-- change_message_visibility_batch: all or nothing
SELECT pg_temp.tick(31);
SELECT array_agg(receipt_handle ORDER BY body) AS handles2 FROM outbox.receive_message('bt-d', 4, 0) \gset
SELECT array_agg(receipt_handle ORDER BY body) AS handles2 FROM outbox.receive_message('bt-d', 4, 600) \gset
SELECT pg_temp.err(format('SELECT outbox.change_message_visibility_batch(%L, %L, 0)', 'bt-d', (:'handles2'::text[]) || (:'handles'::text[])[3:3])) AS one_stale;
SELECT pg_temp.depth('bt-d') AS unchanged;
SELECT outbox.change_message_visibility_batch('bt-d', :'handles2', 0);
SELECT pg_temp.depth('bt-d') AS all_visible;

SELECT count(outbox.delete_queue(q)) AS deleted FROM outbox.list_queues('bt-') AS q;
