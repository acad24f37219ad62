-- FIFO queues: group order, group blocking, deduplication, sequence numbers,
-- delays, expired handles, ReceiveRequestAttemptId.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_outbox;
RESET client_min_messages;
\i sql/include/queue_helpers.sql
CREATE FUNCTION pg_temp.send(q text, body text, grp text, dedup text DEFAULT NULL) RETURNS text LANGUAGE sql AS $$
  SELECT sequence_number FROM outbox.send_message(q, body, message_group_id => grp,
                                                  message_deduplication_id => coalesce(dedup, body)) $$;

SELECT outbox.create_queue('orders.fifo', '{"FifoQueue": "true"}');
SELECT outbox.get_queue_attributes('orders.fifo', '{FifoQueue,ContentBasedDeduplication,DeduplicationScope,FifoThroughputLimit}');

-- sequence numbers: 20 digits, increasing
SELECT pg_temp.send('orders.fifo', 'a1', 'A') AS s1 \gset
SELECT pg_temp.send('orders.fifo', 'a2', 'A') AS s2 \gset
SELECT length(:'s1') AS digits, :'s2' > :'s1' AS increasing;
SELECT pg_temp.send('orders.fifo', 'b1', 'B') IS NOT NULL AS sent;
SELECT pg_temp.send('orders.fifo', 'a3', 'A') IS NOT NULL AS sent;
SELECT pg_temp.send('orders.fifo', 'b2', 'B') IS NOT NULL AS sent;
SELECT pg_temp.send('orders.fifo', 'c1', 'C') IS NOT NULL AS sent;

-- one receive: whole groups in order, several groups mixed
SELECT body, message_group_id, attributes ->> 'SequenceNumber' = sequence_number AS seq_attr,
       attributes ->> 'MessageDeduplicationId' AS dedup_id
  FROM outbox.receive_message('orders.fifo', 10, 30);
-- every group has a message in flight: nothing more for anyone
SELECT message_id IS NOT NULL AS sent FROM outbox.send_message('orders.fifo', 'a4', message_group_id => 'A', message_deduplication_id => 'a4');
SELECT count(*) AS while_blocked FROM outbox.receive_message('orders.fifo', 10);

-- group blocking: the first two of group D in flight, the next waits for both
SELECT pg_temp.send('orders.fifo', 'd' || i, 'D') IS NOT NULL AS sent FROM generate_series(1, 4) i;
SELECT array_agg(receipt_handle ORDER BY sequence_number) AS d_handles, array_agg(body ORDER BY sequence_number) AS d_bodies
  FROM outbox.receive_message('orders.fifo', 2, 30) \gset
SELECT :'d_bodies' AS received;
SELECT count(*) AS blocked FROM outbox.receive_message('orders.fifo', 10);
-- deleting d1 is not enough while d2 is in flight
SELECT outbox.delete_message('orders.fifo', (:'d_handles'::text[])[1]);
SELECT count(*) AS still_blocked FROM outbox.receive_message('orders.fifo', 10);
-- d2's timeout runs out: d2 comes back before d3 (order holds)
SELECT outbox.change_message_visibility('orders.fifo', (:'d_handles'::text[])[2], 0);
SELECT array_agg(body ORDER BY sequence_number) AS bodies, array_agg(receive_count ORDER BY sequence_number) AS counts,
       array_agg(receipt_handle ORDER BY sequence_number) AS handles
  FROM outbox.receive_message('orders.fifo', 10, 30) \gset r_
SELECT :'r_bodies' AS bodies, :'r_counts' AS receive_counts;
-- a superseded handle deletes nothing and is no error ...
SELECT outbox.delete_message('orders.fifo', (:'d_handles'::text[])[2]);
-- ... but the latest handle of a message whose timeout ran out is refused on a FIFO
-- queue (the message may be with another consumer already)
SELECT pg_temp.tick(31);
SELECT pg_temp.err(format('SELECT outbox.delete_message(%L, %L)', 'orders.fifo', (:'r_handles'::text[])[2])) AS expired;
-- the full error, with its detail and hint
SELECT outbox.delete_message('orders.fifo', (:'r_handles'::text[])[2]);
-- the latest handle still deletes while in flight
SELECT array_agg(receipt_handle) AS all_handles, count(*) AS n FROM outbox.receive_message('orders.fifo', 20, 30) \gset
SELECT :n AS received_after_timeout;
SELECT outbox.delete_message_batch('orders.fifo', :'all_handles');
SELECT count(*) AS left_over FROM outbox.receive_message('orders.fifo', 10, 0);

-- deduplication: the same id within 5 minutes is accepted, returns the first message's
-- id and sequence number, and enqueues nothing -- even after the first was consumed
SELECT outbox.create_queue('dedup.fifo', '{"FifoQueue": true}');
SELECT message_id AS m1, sequence_number AS q1 FROM outbox.send_message('dedup.fifo', 'first', message_group_id => 'g', message_deduplication_id => 'X') \gset
SELECT message_id = :'m1' AS same_id, sequence_number = :'q1' AS same_seq
  FROM outbox.send_message('dedup.fifo', 'second', message_group_id => 'g', message_deduplication_id => 'X');
SELECT outbox.delete_message('dedup.fifo', receipt_handle) FROM outbox.receive_message('dedup.fifo', 10);
SELECT message_id = :'m1' AS still_deduplicated
  FROM outbox.send_message('dedup.fifo', 'third', message_group_id => 'other', message_deduplication_id => 'X');
SELECT count(*) AS nothing_enqueued FROM outbox.receive_message('dedup.fifo', 10);
-- after the window it is a new message
SELECT pg_temp.tick(301);
SELECT outbox.run_queue_maintenance() >= 0 AS maintained;
SELECT message_id <> :'m1' AS new_message
  FROM outbox.send_message('dedup.fifo', 'fourth', message_group_id => 'g', message_deduplication_id => 'X');
SELECT body FROM outbox.receive_message('dedup.fifo', 10);
-- duplicates inside one transaction, and a batch
SELECT count(DISTINCT message_id) AS distinct_ids
  FROM generate_series(1, 3), outbox.send_message('dedup.fifo', 'dup', message_group_id => 'g', message_deduplication_id => 'Y');

-- content-based deduplication: SHA-256 of the body only (attributes do not count)
SELECT outbox.create_queue('content.fifo', '{"FifoQueue": true, "ContentBasedDeduplication": true}');
SELECT message_id AS c1 FROM outbox.send_message('content.fifo', 'same body', message_group_id => 'g',
         message_attributes => '{"v": {"DataType": "Number", "StringValue": "1"}}') \gset
SELECT message_id = :'c1' AS deduplicated FROM outbox.send_message('content.fifo', 'same body', message_group_id => 'g2',
         message_attributes => '{"v": {"DataType": "Number", "StringValue": "2"}}');
SELECT message_id <> :'c1' AS explicit_id_wins FROM outbox.send_message('content.fifo', 'same body', message_group_id => 'g',
         message_deduplication_id => 'explicit');
SELECT body, message_group_id FROM outbox.receive_message('content.fifo', 10) ORDER BY sequence_number;

-- DeduplicationScope = messageGroup: the same id in another group is a different message
SELECT outbox.create_queue('scoped.fifo', '{"FifoQueue": true, "DeduplicationScope": "messageGroup", "FifoThroughputLimit": "perMessageGroupId"}');
SELECT count(DISTINCT message_id) AS two_messages
  FROM (VALUES ('g1'), ('g2'), ('g1')) AS v(g), outbox.send_message('scoped.fifo', 'x', message_group_id => g, message_deduplication_id => 'same');
SELECT pg_temp.err($$SELECT outbox.create_queue('bad.fifo', '{"FifoQueue": true, "DeduplicationScope": "queue", "FifoThroughputLimit": "perMessageGroupId"}')$$);
SELECT pg_temp.err($$SELECT outbox.set_queue_attributes('scoped.fifo', '{"DeduplicationScope": "queue"}')$$);

-- FIFO rules for sends
SELECT pg_temp.err($$SELECT outbox.send_message('orders.fifo', 'x', message_deduplication_id => 'x')$$) AS no_group;
SELECT pg_temp.err($$SELECT outbox.send_message('orders.fifo', 'x', message_group_id => 'g')$$) AS no_dedup_id;
SELECT pg_temp.err($$SELECT outbox.send_message('orders.fifo', 'x', delay_seconds => 5, message_group_id => 'g', message_deduplication_id => 'x')$$) AS per_message_delay;
SELECT pg_temp.err(format('SELECT outbox.send_message(%L, %L, message_group_id => %L, message_deduplication_id => %L)', 'orders.fifo', 'x', 'g', repeat('d', 129))) AS long_dedup_id;
SELECT pg_temp.err($$SELECT outbox.send_message_bodies('orders.fifo', array['x'], 'g')$$) AS bodies_need_content_dedup;

-- the queue delay on a FIFO queue, and changing it is retroactive
SELECT outbox.create_queue('slow.fifo', '{"FifoQueue": true, "DelaySeconds": 60, "ContentBasedDeduplication": true}');
SELECT count(*) FROM outbox.send_message_bodies('slow.fifo', array['s1', 's2'], 'g');
SELECT count(*) AS delayed FROM outbox.receive_message('slow.fifo', 10);
SELECT outbox.set_queue_attributes('slow.fifo', '{"DelaySeconds": 0}');
SELECT body FROM outbox.receive_message('slow.fifo', 10) ORDER BY sequence_number;

-- ReceiveRequestAttemptId: a retried receive gets the same messages and handles
SELECT outbox.create_queue('retry.fifo', '{"FifoQueue": true, "ContentBasedDeduplication": true}');
SELECT count(*) FROM outbox.send_message_bodies('retry.fifo', array['r1', 'r2', 'r3'], 'g');
SELECT string_agg(body || ':' || receipt_handle, ',' ORDER BY sequence_number) AS first_try
  FROM outbox.receive_message('retry.fifo', 2, 30, 0, 'attempt-1') \gset
SELECT string_agg(body || ':' || receipt_handle, ',' ORDER BY sequence_number) = :'first_try' AS same_answer,
       string_agg(body, ',' ORDER BY sequence_number) AS bodies
  FROM outbox.receive_message('retry.fifo', 2, 30, 0, 'attempt-1');
-- once a message of the attempt was deleted, a retry is a new receive
SELECT outbox.delete_message('retry.fifo', split_part(split_part(:'first_try', ',', 1), ':', 2));
SELECT count(*) AS new_receive_while_group_blocked FROM outbox.receive_message('retry.fifo', 2, 30, 0, 'attempt-1');
SELECT pg_temp.err($$SELECT outbox.receive_message('retry.fifo', 1, 30, 0, 'bad attempt')$$);

SELECT outbox.delete_queue(q) FROM outbox.list_queues() AS q WHERE q LIKE '%.fifo';
