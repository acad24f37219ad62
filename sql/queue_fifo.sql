-- FIFO queues: order within a group, group blocking (including edge case 8
-- of the SQS reference: part of a received batch timing out), dedup by id
-- and by content, DeduplicationScope messageGroup, sequence numbers,
-- retroactive queue DelaySeconds, expired handles rejected, and
-- ReceiveRequestAttemptId replays.
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
CREATE FUNCTION pg_temp.tick(s int) RETURNS void LANGUAGE sql AS $$
  SELECT outbox.advance_clock(make_interval(secs => s)) $$;
CREATE FUNCTION pg_temp.send(q text, body text, grp text, dedup text DEFAULT NULL) RETURNS text LANGUAGE sql AS $$
  SELECT sequence_number FROM outbox.send_message(q, body, message_group_id => grp, message_deduplication_id => coalesce(dedup, body)) $$;

SELECT outbox.create_queue('ff-q.fifo', '{"FifoQueue": "true"}') LIKE '%:ff-q.fifo' AS created;
-- sequence numbers: decimal strings, increasing in send order (not consecutive is allowed)
CREATE TEMP TABLE seqs AS
  SELECT body, grp, pg_temp.send('ff-q.fifo', body, grp)::numeric AS seq
    FROM (VALUES ('a1', 'A'), ('b1', 'B'), ('a2', 'A'), ('a3', 'A'), ('b2', 'B'), ('a4', 'A')) AS v(body, grp);
SELECT bool_and(seq > 0) AS positive, count(DISTINCT seq) = 6 AS distinct_numbers,
       array_agg(body ORDER BY seq) AS by_sequence FROM seqs;
SELECT pg_temp.depth('ff-q.fifo');

-- one call may take several messages of a group, in order, and mix groups; system attributes for FIFO
SELECT body, message_group_id, receive_count, sequence_number::numeric = (SELECT seq FROM seqs s WHERE s.body = r.body) AS seq_matches,
       attributes ->> 'MessageGroupId' AS group_attr, attributes ->> 'MessageDeduplicationId' AS dedup_attr,
       attributes ->> 'SequenceNumber' = sequence_number AS seq_attr
  FROM outbox.receive_message('ff-q.fifo', 3, 30) AS r;
-- group blocking: group A has messages in flight, so only group B delivers; then nothing is left
SELECT body FROM outbox.receive_message('ff-q.fifo', 10, 30);
SELECT count(*) AS blocked FROM outbox.receive_message('ff-q.fifo', 10, 30);
SELECT pg_temp.tick(31);
-- edge case 8: a1, a2, a3 received together; a2 alone becomes visible again (a1 deleted, a3 still in flight)
SELECT array_agg(receipt_handle ORDER BY sequence_number::numeric) AS a_handles, array_agg(body ORDER BY sequence_number::numeric) AS a_bodies
  FROM outbox.receive_message('ff-q.fifo', 3, 600) WHERE message_group_id = 'A' \gset
SELECT :'a_bodies' AS a_bodies;
SELECT outbox.delete_message('ff-q.fifo', (:'a_handles'::text[])[1]);
SELECT outbox.change_message_visibility('ff-q.fifo', (:'a_handles'::text[])[2], 0);
-- a3 is still in flight: nothing of group A (not a2, not a4) is delivered
SELECT body FROM outbox.receive_message('ff-q.fifo', 10, 600) WHERE message_group_id = 'A';
-- when a3 is visible again too, a2 and a3 come back before a4
SELECT outbox.change_message_visibility('ff-q.fifo', (:'a_handles'::text[])[3], 0);
SELECT body, receive_count FROM outbox.receive_message('ff-q.fifo', 10, 600) WHERE message_group_id = 'A';

-- deduplication by id: a duplicate is a success returning the original, and is not enqueued,
-- even after the original was received and deleted
SELECT outbox.create_queue('ff-d.fifo', '{"FifoQueue": true}') LIKE '%.fifo' AS created;
SELECT message_id AS orig_id, sequence_number AS orig_seq FROM outbox.send_message('ff-d.fifo', 'first', message_group_id => 'g', message_deduplication_id => 'd-1') \gset
SELECT message_id = :'orig_id' AS same_id, sequence_number = :'orig_seq' AS same_seq
  FROM outbox.send_message('ff-d.fifo', 'second body, same id', message_group_id => 'g', message_deduplication_id => 'd-1');
SELECT outbox.delete_message('ff-d.fifo', receipt_handle), body FROM outbox.receive_message('ff-d.fifo', 10);
SELECT message_id = :'orig_id' AS same_id FROM outbox.send_message('ff-d.fifo', 'after delete', message_group_id => 'g', message_deduplication_id => 'd-1');
SELECT count(*) AS nothing_new FROM outbox.receive_message('ff-d.fifo', 10);
-- scope queue (default): the same id in another group is a duplicate too
SELECT message_id = :'orig_id' AS same_id FROM outbox.send_message('ff-d.fifo', 'other group', message_group_id => 'h', message_deduplication_id => 'd-1');
-- the window is 5 minutes
SELECT pg_temp.tick(301);
SELECT message_id <> :'orig_id' AS new_message FROM outbox.send_message('ff-d.fifo', 'after window', message_group_id => 'g', message_deduplication_id => 'd-1');
SELECT body FROM outbox.receive_message('ff-d.fifo', 10);
-- a rolled-back send does not take the id
BEGIN;
SELECT message_id IS NOT NULL AS sent FROM outbox.send_message('ff-d.fifo', 'rolled back', message_group_id => 'g', message_deduplication_id => 'd-2');
ROLLBACK;
SELECT message_id IS NOT NULL AS sent FROM outbox.send_message('ff-d.fifo', 'kept', message_group_id => 'x', message_deduplication_id => 'd-2');
SELECT body FROM outbox.receive_message('ff-d.fifo', 10) WHERE message_group_id = 'x';

-- content-based deduplication: SHA-256 of the body only (attributes do not count); an explicit id wins;
-- the hex SHA-256 is the message's MessageDeduplicationId
SELECT outbox.create_queue('ff-c.fifo', '{"FifoQueue": true, "ContentBasedDeduplication": true}') LIKE '%.fifo' AS created;
SELECT message_id AS c_id FROM outbox.send_message('ff-c.fifo', 'same body', message_group_id => 'g') \gset
SELECT message_id = :'c_id' AS duplicate FROM outbox.send_message('ff-c.fifo', 'same body', message_group_id => 'g',
  message_attributes => '{"a": {"DataType": "String", "StringValue": "different"}}');
SELECT message_id = :'c_id' AS duplicate FROM outbox.send_message('ff-c.fifo', 'same body', message_group_id => 'g', message_deduplication_id => 'explicit');
SELECT body, attributes ->> 'MessageDeduplicationId' = encode(sha256(convert_to(body, 'UTF8')), 'hex') AS sha256_of_body,
       attributes ->> 'MessageDeduplicationId' AS dedup_id
  FROM outbox.receive_message('ff-c.fifo', 10) ORDER BY sequence_number::numeric;

-- DeduplicationScope messageGroup: the same id in another group is not a duplicate
SELECT outbox.create_queue('ff-s.fifo', '{"FifoQueue": true, "DeduplicationScope": "messageGroup"}') LIKE '%.fifo' AS created;
SELECT count(DISTINCT message_id) AS distinct_ids FROM (
  SELECT (outbox.send_message('ff-s.fifo', 'x', message_group_id => g, message_deduplication_id => 'same')).message_id
    FROM unnest(array['g1', 'g2', 'g1']) AS g) AS s;
SELECT message_group_id, body FROM outbox.receive_message('ff-s.fifo', 10) ORDER BY message_group_id;

-- FIFO takes no per-message delay; the queue's DelaySeconds is retroactive
SELECT pg_temp.err($$SELECT outbox.send_message('ff-q.fifo', 'x', delay_seconds => 5, message_group_id => 'g', message_deduplication_id => 'x')$$) AS per_message_delay;
SELECT outbox.create_queue('ff-delay.fifo', '{"FifoQueue": true, "DelaySeconds": 60}') LIKE '%.fifo' AS created;
SELECT pg_temp.send('ff-delay.fifo', 'd1', 'g') IS NOT NULL AS sent;
SELECT count(*) AS delayed FROM outbox.receive_message('ff-delay.fifo', 10, 0);
-- lowering the delay releases the queued message at once
SELECT outbox.set_queue_attributes('ff-delay.fifo', '{"DelaySeconds": 0}');
SELECT outbox.delete_message('ff-delay.fifo', receipt_handle), body FROM outbox.receive_message('ff-delay.fifo', 10);
-- raising it holds back a message sent (and visible) before
SELECT pg_temp.send('ff-delay.fifo', 'd2', 'g') IS NOT NULL AS sent;
SELECT outbox.set_queue_attributes('ff-delay.fifo', '{"DelaySeconds": 120}');
SELECT body FROM outbox.receive_message('ff-delay.fifo', 10, 0);
SELECT pg_temp.tick(121);
SELECT body FROM outbox.receive_message('ff-delay.fifo', 10, 0);

-- an expired FIFO handle is rejected (the message may be with another consumer); nothing changes
SELECT outbox.create_queue('ff-e.fifo', '{"FifoQueue": true}') LIKE '%.fifo' AS created;
SELECT pg_temp.send('ff-e.fifo', 'expiring', 'e') IS NOT NULL AS sent;
SELECT receipt_handle AS old_h FROM outbox.receive_message('ff-e.fifo', 1, 10) \gset
SELECT pg_temp.tick(11);
SELECT regexp_replace(pg_temp.err(format('SELECT outbox.delete_message(%L, %L)', 'ff-e.fifo', :'old_h')), '"[^"]{20,}"', '"<handle>"') AS expired_delete;
SELECT regexp_replace(pg_temp.err(format('SELECT outbox.change_message_visibility(%L, %L, 30)', 'ff-e.fifo', :'old_h')), '"[^"]{20,}"', '"<handle>"') AS expired_cmv;
SELECT body, receive_count FROM outbox.receive_message('ff-e.fifo', 10, 0);

-- ReceiveRequestAttemptId: a retry returns the same messages and handles
SELECT outbox.create_queue('ff-r.fifo', '{"FifoQueue": true}') LIKE '%.fifo' AS created;
SELECT count(pg_temp.send('ff-r.fifo', b, 'g')) AS sent FROM unnest(array['r1', 'r2', 'r3']) AS b;
SELECT array_agg(receipt_handle ORDER BY body) AS first_handles, array_agg(body ORDER BY body) AS first_bodies
  FROM outbox.receive_message('ff-r.fifo', 2, 60, 0, 'attempt-1') \gset
SELECT :'first_bodies' AS first_bodies;
SELECT array_agg(receipt_handle ORDER BY body) = :'first_handles' AS same_handles, array_agg(body ORDER BY body) AS bodies,
       max(receive_count) AS receive_count_not_raised
  FROM outbox.receive_message('ff-r.fifo', 2, 60, 0, 'attempt-1');
-- another attempt id gets nothing (the group is in flight)
SELECT count(*) AS other_attempt FROM outbox.receive_message('ff-r.fifo', 2, 60, 0, 'attempt-2');
-- once a message of the attempt is deleted, the retry is not replayed
SELECT outbox.delete_message('ff-r.fifo', (:'first_handles'::text[])[1]);
SELECT count(*) AS not_replayed FROM outbox.receive_message('ff-r.fifo', 2, 60, 0, 'attempt-1');
SELECT pg_temp.err($$SELECT * FROM outbox.receive_message('ff-r.fifo', 1, 0, 0, 'has space')$$) AS bad_attempt_id;
SELECT pg_temp.err(format('SELECT * FROM outbox.receive_message(%L, 1, 0, 0, %L)', 'ff-r.fifo', repeat('a', 129))) AS long_attempt_id;

-- a backlogged group does not starve the others
SELECT outbox.create_queue('ff-b.fifo', '{"FifoQueue": true, "ContentBasedDeduplication": true}') LIKE '%.fifo' AS created;
SELECT count(*) AS sent FROM outbox.send_message_bodies('ff-b.fifo', array(SELECT 'big-' || i FROM generate_series(1, 50) AS i), 'big');
SELECT pg_temp.send('ff-b.fifo', 'small-1', 'small') IS NOT NULL AS sent;
SELECT count(*) AS big_in_flight FROM outbox.receive_message('ff-b.fifo', 10, 600) WHERE message_group_id = 'big';
SELECT body FROM outbox.receive_message('ff-b.fifo', 10, 600);

-- FIFO sends: group id required, checked; dedup id required without content-based dedup
SELECT outbox.send_message('ff-q.fifo', 'x', message_deduplication_id => 'x');
SELECT outbox.send_message('ff-q.fifo', 'x', message_group_id => 'g');
SELECT pg_temp.err($$SELECT outbox.send_message('ff-q.fifo', 'x', message_group_id => '', message_deduplication_id => 'x')$$) AS empty_group;
SELECT pg_temp.err(format('SELECT outbox.send_message(%L, %L, message_group_id => %L, message_deduplication_id => %L)', 'ff-q.fifo', 'x', repeat('g', 129), 'x')) AS long_group;
SELECT pg_temp.err(format('SELECT outbox.send_message(%L, %L, message_group_id => %L, message_deduplication_id => %L)', 'ff-q.fifo', 'x', repeat('g', 128), 'x')) AS group_128;
SELECT pg_temp.err($$SELECT outbox.send_message('ff-q.fifo', 'x', message_group_id => 'g g', message_deduplication_id => 'x')$$) AS space_in_group;
SELECT pg_temp.err($$SELECT outbox.send_message('ff-q.fifo', 'x', message_group_id => 'g', message_deduplication_id => 'é')$$) AS non_ascii_dedup;
SELECT pg_temp.err($$SELECT outbox.send_message('ff-q.fifo', 'x', message_group_id => '!#$%&()*+,-./:;<=>?@[]^_`{|}~', message_deduplication_id => 'p')$$) AS punctuation_ok;

SELECT count(outbox.delete_queue(q)) AS deleted FROM outbox.list_queues('ff-') AS q;
