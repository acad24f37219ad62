-- Dead-letter queues: the move at receive time, what a moved message keeps,
-- RedriveAllowPolicy, and redrive tasks (start/list/cancel_message_move_task).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_outbox;
RESET client_min_messages;
\i sql/include/queue_helpers.sql

SELECT outbox.create_queue('jobs-dlq', '{"MessageRetentionPeriod": 1209600}');
SELECT outbox.create_queue('jobs', '{"RedrivePolicy": {"deadLetterTargetArn": "arn:aws:sqs:us-east-1:123456789012:jobs-dlq", "maxReceiveCount": "2"}}');
-- an ARN of any region and account names our queue; it is shown with ours
SELECT outbox.get_queue_attributes('jobs', '{RedrivePolicy}');
SELECT outbox.list_dead_letter_source_queues('jobs-dlq');

SELECT message_id AS poison_id FROM outbox.send_message('jobs', 'poison',
         message_attributes => '{"kind": {"DataType": "String", "StringValue": "bad"}}') \gset
SELECT message_id IS NOT NULL AS sent FROM outbox.send_message('jobs', 'fine');
-- two failed receives (timeout 0 = "the consumer died")
SELECT body, receive_count FROM outbox.receive_message('jobs', 1, 0);
SELECT body, receive_count FROM outbox.receive_message('jobs', 1, 0);
-- the third receive moves "poison" to the DLQ instead of returning it, and returns "fine"
SELECT body, receive_count FROM outbox.receive_message('jobs', 1, 0);
SELECT pg_temp.depth('jobs') AS jobs, pg_temp.depth('jobs-dlq') AS dlq;
-- in the DLQ: same MessageId, body, attributes and SentTimestamp; its source noted
SELECT message_id = :'poison_id' AS same_id, body, message_attributes, receive_count,
       attributes ->> 'DeadLetterQueueSourceArn' AS source
  FROM outbox.receive_message('jobs-dlq', 10, 0);
-- a move inside a receive that rolls back does not happen
SELECT outbox.create_queue('rb-dlq');
SELECT outbox.create_queue('rb-src', '{"RedrivePolicy": {"deadLetterTargetArn": "rb-dlq", "maxReceiveCount": 1}}');
SELECT message_id IS NOT NULL AS sent FROM outbox.send_message('rb-src', 'once');
SELECT count(*) FROM outbox.receive_message('rb-src', 1, 0);
BEGIN;
SELECT count(*) AS returned FROM outbox.receive_message('rb-src', 1, 0);
SELECT pg_temp.depth('rb-dlq') AS dlq_inside;
ROLLBACK;
SELECT pg_temp.depth('rb-src') AS source_after_rollback, pg_temp.depth('rb-dlq') AS dlq_after_rollback;

-- retention in the DLQ: standard queues keep the original enqueue time ...
SELECT outbox.create_queue('short-dlq', '{"MessageRetentionPeriod": 120}');
SELECT outbox.create_queue('short-src', '{"RedrivePolicy": {"deadLetterTargetArn": "short-dlq", "maxReceiveCount": 1}}');
SELECT message_id IS NOT NULL AS sent FROM outbox.send_message('short-src', 'aging');
SELECT count(*) FROM outbox.receive_message('short-src', 1, 0);
SELECT pg_temp.tick(100);
SELECT count(*) AS moved_now FROM outbox.receive_message('short-src', 1, 0);
SELECT pg_temp.tick(21);
SELECT count(*) AS expired_in_dlq FROM outbox.receive_message('short-dlq', 1, 0);
-- ... FIFO queues restart it
SELECT outbox.create_queue('short-dlq.fifo', '{"FifoQueue": true, "MessageRetentionPeriod": 120}');
SELECT outbox.create_queue('short-src.fifo', '{"FifoQueue": true, "ContentBasedDeduplication": true,
  "RedrivePolicy": {"deadLetterTargetArn": "short-dlq.fifo", "maxReceiveCount": 1}}');
SELECT message_id IS NOT NULL AS sent FROM outbox.send_message('short-src.fifo', 'aging', message_group_id => 'g');
SELECT count(*) FROM outbox.receive_message('short-src.fifo', 1, 0);
SELECT pg_temp.tick(100);
SELECT count(*) AS moved_now FROM outbox.receive_message('short-src.fifo', 1, 0);
SELECT pg_temp.tick(21);
SELECT body, attributes ->> 'MessageGroupId' AS grp FROM outbox.receive_message('short-dlq.fifo', 1, 0);

-- RedrivePolicy rules: the DLQ exists, has the same type, is not the queue itself, and admits the source
SELECT a AS redrive_policy, pg_temp.err(format('SELECT outbox.set_queue_attributes(%L, %L)', 'jobs', jsonb_build_object('RedrivePolicy', a::jsonb))) AS result
  FROM (VALUES ('{"deadLetterTargetArn": "jobs-dlq", "maxReceiveCount": 0}'), ('{"deadLetterTargetArn": "jobs-dlq", "maxReceiveCount": 1001}'),
               ('{"deadLetterTargetArn": "jobs-dlq"}'), ('{"deadLetterTargetArn": "jobs-dlq", "maxReceiveCount": 1, "extra": 1}'),
               ('{"deadLetterTargetArn": "short-dlq.fifo", "maxReceiveCount": 1}'), ('{"deadLetterTargetArn": "jobs", "maxReceiveCount": 1}'),
               ('{"deadLetterTargetArn": "arn:aws:sns:us-east-1:123456789012:jobs-dlq", "maxReceiveCount": 1}'),
               ('"not an object"'), ('"[1, 2]"')) AS v(a);
SELECT outbox.create_queue('closed-dlq', '{"RedriveAllowPolicy": {"redrivePermission": "denyAll"}}');
SELECT outbox.create_queue('picky-dlq', '{"RedriveAllowPolicy": "{\"redrivePermission\": \"byQueue\", \"sourceQueueArns\": [\"arn:aws:sqs:local:000000000000:jobs\"]}"}');
SELECT outbox.get_queue_attributes('picky-dlq', '{RedriveAllowPolicy}');
SELECT pg_temp.err($$SELECT outbox.set_queue_attributes('rb-src', '{"RedrivePolicy": {"deadLetterTargetArn": "closed-dlq", "maxReceiveCount": 1}}')$$) AS deny_all;
SELECT pg_temp.err($$SELECT outbox.set_queue_attributes('rb-src', '{"RedrivePolicy": {"deadLetterTargetArn": "picky-dlq", "maxReceiveCount": 1}}')$$) AS not_listed;
SELECT pg_temp.err($$SELECT outbox.set_queue_attributes('jobs', '{"RedrivePolicy": {"deadLetterTargetArn": "picky-dlq", "maxReceiveCount": 1}}')$$) AS listed;
SELECT a AS redrive_allow_policy, pg_temp.err(format('SELECT outbox.create_queue(%L, %L)', 'bad-dlq', jsonb_build_object('RedriveAllowPolicy', a::jsonb))) AS result
  FROM (VALUES ('{"redrivePermission": "byQueue"}'), ('{"redrivePermission": "allowAll", "sourceQueueArns": ["x"]}'),
               ('{"redrivePermission": "byQueue", "sourceQueueArns": []}'), ('{}')) AS v(a);
-- removing the policy
SELECT outbox.set_queue_attributes('jobs', '{"RedrivePolicy": ""}');
SELECT outbox.get_queue_attributes('jobs', '{RedrivePolicy}');
SELECT outbox.list_dead_letter_source_queues('picky-dlq');

-- a DLQ deleted under a RedrivePolicy: the source keeps its messages, with a warning
SELECT outbox.create_queue('gone-dlq');
SELECT outbox.create_queue('orphan-src', '{"RedrivePolicy": {"deadLetterTargetArn": "gone-dlq", "maxReceiveCount": 1}}');
SELECT outbox.delete_queue('gone-dlq');
SELECT message_id IS NOT NULL AS sent FROM outbox.send_message('orphan-src', 'stays');
SELECT body, receive_count FROM outbox.receive_message('orphan-src', 1, 0);
SELECT body, receive_count FROM outbox.receive_message('orphan-src', 1, 0);

-- redrive: back to each message's source queue
SELECT outbox.create_queue('redrive-dlq');
SELECT outbox.create_queue('redrive-a', '{"RedrivePolicy": {"deadLetterTargetArn": "redrive-dlq", "maxReceiveCount": 1}}');
SELECT outbox.create_queue('redrive-b', '{"RedrivePolicy": {"deadLetterTargetArn": "redrive-dlq", "maxReceiveCount": 1}}');
SELECT count(*) FROM outbox.send_message_bodies('redrive-a', array['a1', 'a2', 'a3']);
SELECT count(*) FROM outbox.send_message_bodies('redrive-b', array['b1']);
SELECT count(*) FROM outbox.receive_message('redrive-a', 10, 0);
SELECT count(*) FROM outbox.receive_message('redrive-b', 10, 0);
-- the second receive moves them all
SELECT count(*) AS returned FROM outbox.receive_message('redrive-a', 10, 0);
SELECT count(*) FROM outbox.receive_message('redrive-b', 10, 0);
SELECT pg_temp.depth('redrive-dlq') AS dlq;
SELECT outbox.start_message_move_task('arn:aws:sqs:local:000000000000:redrive-dlq', max_number_of_messages_per_second => 2) AS task \gset
-- one running task per queue
SELECT pg_temp.err($$SELECT outbox.start_message_move_task('redrive-dlq')$$) AS second_task;
SELECT status, source_arn, destination_arn, max_number_of_messages_per_second AS rate,
       approximate_number_of_messages_moved AS moved, approximate_number_of_messages_to_move AS to_move,
       task_handle = :'task' AS handle_shown
  FROM outbox.list_message_move_tasks('redrive-dlq');
-- the scheduler moves max_number_of_messages_per_second per run; here we run it by hand
SELECT outbox.run_queue_maintenance() >= 2 AS ran;
SELECT status, approximate_number_of_messages_moved AS moved FROM outbox.list_message_move_tasks('redrive-dlq');
SELECT outbox.run_queue_maintenance() >= 2 AS ran;
SELECT status, approximate_number_of_messages_moved AS moved, task_handle IS NULL AS handle_hidden_when_done
  FROM outbox.list_message_move_tasks('redrive-dlq');
-- moved messages are new arrivals in their source queues: the receive count starts over
SELECT body, receive_count, attributes ? 'DeadLetterQueueSourceArn' AS still_marked
  FROM outbox.receive_message('redrive-a', 10, 0) ORDER BY body;
SELECT body FROM outbox.receive_message('redrive-b', 10, 0);
SELECT pg_temp.depth('redrive-dlq') AS dlq;

-- redrive to a chosen queue, and cancelling
SELECT count(*) AS to_dlq FROM outbox.receive_message('redrive-a', 10, 0);
SELECT count(*) AS dlq_now FROM outbox.receive_message('redrive-dlq', 10, 0);
SELECT outbox.create_queue('redrive-elsewhere');
SELECT outbox.start_message_move_task('redrive-dlq', 'redrive-elsewhere', 1) AS task2 \gset
SELECT outbox.run_queue_maintenance() >= 1 AS ran;
SELECT outbox.cancel_message_move_task(:'task2') AS moved_before_cancel;
SELECT status FROM outbox.list_message_move_tasks('redrive-dlq', 10) ORDER BY status;
SELECT outbox.run_queue_maintenance() >= 0 AS ran;
SELECT pg_temp.depth('redrive-elsewhere') AS elsewhere, pg_temp.depth('redrive-dlq') AS dlq;
SELECT regexp_replace(pg_temp.err(format('SELECT outbox.cancel_message_move_task(%L)', :'task2')),
                      '"[0-9a-f-]{36}"', '"<task handle>"') AS cancel_again;
-- bad redrive requests
SELECT pg_temp.err($$SELECT outbox.start_message_move_task('jobs')$$) AS not_a_dlq;
SELECT pg_temp.err($$SELECT outbox.start_message_move_task('no-such-queue')$$) AS no_queue;
SELECT pg_temp.err($$SELECT outbox.start_message_move_task('arn:aws:sns:local:000000000000:redrive-dlq')$$) AS not_a_queue_arn;
SELECT pg_temp.err($$SELECT outbox.start_message_move_task('redrive-dlq', 'no-such-queue')$$) AS no_destination;
SELECT pg_temp.err($$SELECT outbox.start_message_move_task('redrive-dlq', NULL, 501)$$) AS rate_too_high;
SELECT pg_temp.err($$SELECT outbox.list_message_move_tasks('redrive-dlq', 11)$$) AS too_many_results;

SELECT outbox.delete_queue(q) FROM outbox.list_queues() AS q
 WHERE q ~ '^(jobs|rb-|short-|closed-|picky-|orphan-|redrive-)';
