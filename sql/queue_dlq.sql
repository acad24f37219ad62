-- Dead-letter queues: the move happens at receive time when the receive
-- count has reached maxReceiveCount, keeps MessageId, body, attributes and
-- SentTimestamp, and adds DeadLetterQueueSourceArn; RedriveAllowPolicy;
-- redrive with start/list/cancel_message_move_task, driven by
-- outbox.run_queue_maintenance().
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_outbox;
RESET client_min_messages;
CREATE FUNCTION pg_temp.err(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE sql;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || regexp_replace(SQLERRM, '[0-9a-f]{8}-[0-9a-f-]{27}', '<uuid>');
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

SELECT outbox.create_queue('dl-dead') AS dead_arn \gset
SELECT outbox.create_queue('dl-src', jsonb_build_object('RedrivePolicy',
         jsonb_build_object('deadLetterTargetArn', :'dead_arn', 'maxReceiveCount', 2))) AS src_arn \gset
SELECT jsonb_typeof(a -> 'RedrivePolicy') AS shown_as, (a ->> 'RedrivePolicy')::jsonb ->> 'maxReceiveCount' AS max_receive_count,
       (a ->> 'RedrivePolicy')::jsonb ->> 'deadLetterTargetArn' = :'dead_arn' AS target_is_arn
  FROM outbox.get_queue_attributes('dl-src', '{RedrivePolicy}') AS a;
SELECT outbox.list_dead_letter_source_queues('dl-dead');

SELECT message_id AS poison_id, md5_of_message_attributes AS poison_md5
  FROM outbox.send_message('dl-src', 'poison', message_attributes => '{"k": {"DataType": "String", "StringValue": "v"}}') \gset
SELECT message_id IS NOT NULL AS sent FROM outbox.send_message('dl-src', 'healthy');
SELECT (attributes ->> 'SentTimestamp') AS poison_sent, receive_count
  FROM outbox.receive_message('dl-src', 10, 0) WHERE body = 'poison' \gset
-- receive count 1 (visibility 0: visible again at once), then 2
SELECT body, receive_count FROM outbox.receive_message('dl-src', 10, 0) ORDER BY body;
-- the third receive attempt moves "poison" (count 2 = maxReceiveCount) instead of delivering it;
-- "healthy" (count 2 too) moves as well; the receive returns nothing
SELECT body, receive_count FROM outbox.receive_message('dl-src', 10, 0) ORDER BY body;
SELECT pg_temp.depth('dl-src') AS source, pg_temp.depth('dl-dead') AS dead;
-- in the dead-letter queue: same MessageId, body, attributes and SentTimestamp; count restarts;
-- DeadLetterQueueSourceArn names the source
SELECT body, CASE WHEN body = 'poison' THEN message_id = :'poison_id' END AS same_id, message_attributes,
       CASE WHEN body = 'poison' THEN md5_of_message_attributes = :'poison_md5' END AS same_md5,
       CASE WHEN body = 'poison' THEN attributes ->> 'SentTimestamp' = :'poison_sent' END AS same_sent_timestamp,
       attributes ->> 'DeadLetterQueueSourceArn' = :'src_arn' AS source_arn, receive_count
  FROM outbox.receive_message('dl-dead', 10, 0) ORDER BY body;
-- a message that is never received again is never moved
SELECT message_id IS NOT NULL AS sent FROM outbox.send_message('dl-src', 'received twice');
SELECT count(*) FROM outbox.receive_message('dl-src', 10, 0);
SELECT count(*) FROM outbox.receive_message('dl-src', 10, 0);
SELECT pg_temp.depth('dl-src') AS still_in_source;
-- a receive that moves a message and rolls back moves nothing
BEGIN;
SELECT count(*) AS returned FROM outbox.receive_message('dl-src', 10, 0);
SELECT count(*) AS moved_in_transaction FROM outbox.receive_message('dl-dead', 10, 0);
ROLLBACK;
SELECT pg_temp.depth('dl-src') AS source, pg_temp.depth('dl-dead') AS dead;
-- the move happens while other messages are delivered by the same receive (each once)
SELECT message_id IS NOT NULL AS sent FROM outbox.send_message('dl-src', 'fresh');
SELECT body, receive_count FROM outbox.receive_message('dl-src', 10, 0) ORDER BY body;
SELECT pg_temp.depth('dl-src') AS source, pg_temp.depth('dl-dead') AS dead;
-- a dead-letter queue whose retention is shorter drops a moved message by its original send time (standard)
SELECT outbox.create_queue('dl-short-dead', '{"MessageRetentionPeriod": 60}') AS short_dead_arn \gset
SELECT outbox.create_queue('dl-short-src', jsonb_build_object('RedrivePolicy',
         jsonb_build_object('deadLetterTargetArn', 'dl-short-dead', 'maxReceiveCount', 1))) LIKE '%:dl-short-src' AS created_by_name;
SELECT message_id IS NOT NULL AS sent FROM outbox.send_message('dl-short-src', 'old');
SELECT count(*) FROM outbox.receive_message('dl-short-src', 1, 0);
SELECT pg_temp.tick(61);
SELECT count(*) AS moved_not_delivered FROM outbox.receive_message('dl-short-src', 1, 0);
SELECT pg_temp.depth('dl-short-dead') AS expired_in_dead_letter_queue;

-- RedrivePolicy bounds and checks
SELECT pg_temp.err($$SELECT outbox.set_queue_attributes('dl-src', '{"RedrivePolicy": {"deadLetterTargetArn": "dl-dead", "maxReceiveCount": 0}}')$$) AS zero;
SELECT pg_temp.err($$SELECT outbox.set_queue_attributes('dl-src', '{"RedrivePolicy": {"deadLetterTargetArn": "dl-dead", "maxReceiveCount": 1001}}')$$) AS too_many;
SELECT pg_temp.err($$SELECT outbox.set_queue_attributes('dl-src', '{"RedrivePolicy": {"deadLetterTargetArn": "dl-dead", "maxReceiveCount": 1000}}')$$) AS max;
SELECT pg_temp.err($$SELECT outbox.set_queue_attributes('dl-src', '{"RedrivePolicy": {"maxReceiveCount": 3}}')$$) AS no_target;
SELECT pg_temp.err($$SELECT outbox.set_queue_attributes('dl-src', '{"RedrivePolicy": {"deadLetterTargetArn": "dl-dead"}}')$$) AS no_count;
SELECT pg_temp.err($$SELECT outbox.set_queue_attributes('dl-src', '{"RedrivePolicy": {"deadLetterTargetArn": "dl-nowhere", "maxReceiveCount": 3}}')$$) AS missing_dlq;
SELECT pg_temp.err($$SELECT outbox.set_queue_attributes('dl-src', '{"RedrivePolicy": {"deadLetterTargetArn": "dl-src", "maxReceiveCount": 3}}')$$) AS itself;
SELECT pg_temp.err($$SELECT outbox.set_queue_attributes('dl-src', '{"RedrivePolicy": {"deadLetterTargetArn": "dl-dead", "maxReceiveCount": 3, "extra": 1}}')$$) AS unknown_key;
SELECT outbox.create_queue('dl-dead.fifo', '{"FifoQueue": true}') LIKE '%.fifo' AS created;
SELECT outbox.set_queue_attributes('dl-src', '{"RedrivePolicy": {"deadLetterTargetArn": "dl-dead.fifo", "maxReceiveCount": 3}}');
SELECT outbox.get_queue_attributes('dl-src', '{RedrivePolicy}') ->> 'RedrivePolicy' LIKE '%"maxReceiveCount": 1000%' AS unchanged;
-- the policy may be given as a JSON string (as AWS sends it) and removed with ""
SELECT outbox.set_queue_attributes('dl-src', jsonb_build_object('RedrivePolicy',
         jsonb_build_object('deadLetterTargetArn', :'dead_arn', 'maxReceiveCount', '5')::text));
SELECT (outbox.get_queue_attributes('dl-src', '{RedrivePolicy}') ->> 'RedrivePolicy')::jsonb ->> 'maxReceiveCount' AS max_receive_count;
SELECT outbox.set_queue_attributes('dl-src', '{"RedrivePolicy": ""}');
SELECT outbox.get_queue_attributes('dl-src', '{RedrivePolicy}') AS removed;
SELECT count(*) AS no_sources FROM outbox.list_dead_letter_source_queues('dl-dead');

-- RedriveAllowPolicy on the dead-letter queue decides who may use it
SELECT outbox.set_queue_attributes('dl-dead', '{"RedriveAllowPolicy": {"redrivePermission": "denyAll"}}');
SELECT outbox.set_queue_attributes('dl-src', '{"RedrivePolicy": {"deadLetterTargetArn": "dl-dead", "maxReceiveCount": 2}}');
SELECT outbox.set_queue_attributes('dl-dead', jsonb_build_object('RedriveAllowPolicy',
         jsonb_build_object('redrivePermission', 'byQueue', 'sourceQueueArns', jsonb_build_array(:'src_arn'))));
SELECT pg_temp.err($$SELECT outbox.set_queue_attributes('dl-src', '{"RedrivePolicy": {"deadLetterTargetArn": "dl-dead", "maxReceiveCount": 2}}')$$) AS allowed_by_queue;
SELECT outbox.create_queue('dl-other') LIKE '%:dl-other' AS created;
SELECT pg_temp.err($$SELECT outbox.set_queue_attributes('dl-other', '{"RedrivePolicy": {"deadLetterTargetArn": "dl-dead", "maxReceiveCount": 2}}')$$) AS other_not_allowed;
SELECT pg_temp.err($$SELECT outbox.set_queue_attributes('dl-dead', '{"RedriveAllowPolicy": {"redrivePermission": "byQueue"}}')$$) AS by_queue_without_list;
SELECT pg_temp.err($$SELECT outbox.set_queue_attributes('dl-dead', '{"RedriveAllowPolicy": {"redrivePermission": "allowAll", "sourceQueueArns": ["x"]}}')$$) AS list_without_by_queue;
SELECT pg_temp.err($$SELECT outbox.set_queue_attributes('dl-dead', '{"RedriveAllowPolicy": {"redrivePermission": "byQueue", "sourceQueueArns": ["a","b","c","d","e","f","g","h","i","j","k"]}}')$$) AS eleven;
SELECT pg_temp.err($$SELECT outbox.set_queue_attributes('dl-dead', '{"RedriveAllowPolicy": {"redrivePermission": "some"}}')$$) AS unknown_permission;
SELECT outbox.set_queue_attributes('dl-dead', '{"RedriveAllowPolicy": {"redrivePermission": "allowAll"}}');

-- redrive: back to each message's source
SELECT pg_temp.depth('dl-dead') AS dead_before;
SELECT outbox.start_message_move_task(:'dead_arn') AS task \gset
SELECT status, source_arn = :'dead_arn' AS source, destination_arn, approximate_number_of_messages_to_move AS to_move,
       approximate_number_of_messages_moved AS moved, task_handle = :'task' AS same_handle
  FROM outbox.list_message_move_tasks(:'dead_arn');
-- one task per queue at a time
SELECT pg_temp.err(format('SELECT outbox.start_message_move_task(%L)', :'dead_arn')) AS second_task;
SELECT outbox.run_queue_maintenance() >= 0 AS ran;
SELECT status, approximate_number_of_messages_moved AS moved, task_handle IS NULL AS handle_gone_when_done
  FROM outbox.list_message_move_tasks('dl-dead');
SELECT pg_temp.depth('dl-src') AS source, pg_temp.depth('dl-dead') AS dead;
-- moved messages keep their id, body and attributes, and start over (count 0 -> 1)
SELECT body, CASE WHEN body = 'poison' THEN message_id = :'poison_id' END AS same_id,
       message_attributes ->> 'k' IS NOT NULL AS has_attrs, receive_count, attributes ? 'DeadLetterQueueSourceArn' AS dlq_source_kept
  FROM outbox.receive_message('dl-src', 10, 600) ORDER BY body;
-- to a named destination, with a rate; cancel stops it
SELECT count(*) AS sent FROM outbox.send_message_bodies('dl-dead', array(SELECT 'd' || i FROM generate_series(1, 5) AS i));
SELECT outbox.start_message_move_task('dl-dead', 'dl-other', 2) AS task2 \gset
SELECT status, destination_arn LIKE '%:dl-other' AS destination, max_number_of_messages_per_second AS rate, approximate_number_of_messages_to_move AS to_move
  FROM outbox.list_message_move_tasks('dl-dead');
SELECT outbox.run_queue_maintenance() >= 0 AS ran;
SELECT outbox.cancel_message_move_task(:'task2') AS moved_when_cancelled;
SELECT status FROM outbox.list_message_move_tasks('dl-dead');
SELECT pg_temp.err(format('SELECT outbox.cancel_message_move_task(%L)', :'task2')) AS not_running;
SELECT pg_temp.err($$SELECT outbox.cancel_message_move_task('00000000-0000-0000-0000-000000000000')$$) AS unknown_task;
SELECT pg_temp.tick(5);
SELECT outbox.run_queue_maintenance() >= 0 AS ran;
SELECT pg_temp.depth('dl-other') AS other, pg_temp.depth('dl-dead') AS dead;
SELECT status, approximate_number_of_messages_moved AS moved FROM outbox.list_message_move_tasks('dl-dead', 10);
-- start_message_move_task arguments
SELECT pg_temp.err($$SELECT outbox.start_message_move_task('dl-other')$$) AS not_a_dead_letter_queue;
SELECT pg_temp.err($$SELECT outbox.start_message_move_task('dl-dead', NULL, 501)$$) AS rate_too_high;
SELECT pg_temp.err($$SELECT outbox.start_message_move_task('dl-dead', NULL, 0)$$) AS rate_zero;
SELECT pg_temp.err($$SELECT outbox.start_message_move_task('dl-nowhere')$$) AS unknown_queue;
SELECT pg_temp.err($$SELECT * FROM outbox.list_message_move_tasks('dl-dead', 11)$$) AS max_results;

SELECT count(outbox.delete_queue(q)) AS deleted FROM outbox.list_queues('dl-') AS q;
