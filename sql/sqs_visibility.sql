-- Visibility timeouts, change_message_visibility, stale receipt handles,
-- delays and retention.  Time moves with outbox.advance_clock (no sleeping).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_outbox;
RESET client_min_messages;
\i sql/include/queue_helpers.sql

-- the queue's VisibilityTimeout applies when the receive gives none
SELECT outbox.create_queue('vis-q', '{"VisibilityTimeout": 30}');
SELECT message_id IS NOT NULL AS sent FROM outbox.send_message('vis-q', 'm1');
SELECT receipt_handle AS a_handle FROM outbox.receive_message('vis-q') \gset
SELECT pg_temp.tick(29);
SELECT count(*) AS at_29s FROM outbox.receive_message('vis-q');
SELECT pg_temp.tick(2);
-- consumer B gets it again, with a new handle and a higher receive count
SELECT receipt_handle AS b_handle, receive_count FROM outbox.receive_message('vis-q', visibility_timeout => 60) \gset
SELECT :receive_count AS receive_count, :'a_handle' <> :'b_handle' AS new_handle;
-- A's handle is stale now: its delete succeeds and deletes nothing (SQS) ...
SELECT outbox.delete_message('vis-q', :'a_handle');
SELECT pg_temp.depth('vis-q');
-- ... and it cannot change the visibility of B's message
SELECT pg_temp.err(format('SELECT outbox.change_message_visibility(%L, %L, 10)', 'vis-q', :'a_handle'));

-- change_message_visibility counts from now, not from the receive
SELECT pg_temp.tick(50);
SELECT outbox.change_message_visibility('vis-q', :'b_handle', 20);
SELECT pg_temp.tick(15);
SELECT count(*) AS at_65s_after_receive FROM outbox.receive_message('vis-q');
SELECT pg_temp.tick(6);
SELECT count(*) AS at_71s FROM outbox.receive_message('vis-q', visibility_timeout => 0);
-- the changed timeout does not stick: the next receive uses the default again (30 s)
SELECT receipt_handle AS c_handle FROM outbox.receive_message('vis-q') \gset
SELECT pg_temp.tick(31);
SELECT count(*) AS default_timeout_applies FROM outbox.receive_message('vis-q', visibility_timeout => 0);
-- a message whose timeout ran out can still be deleted with its latest handle (standard queues)
SELECT receipt_handle AS d_handle FROM outbox.receive_message('vis-q', visibility_timeout => 5) \gset
SELECT pg_temp.tick(6);
SELECT outbox.delete_message('vis-q', :'d_handle');
SELECT pg_temp.depth('vis-q');

-- change_message_visibility(0) returns the message at once; the count rises on the next receive
SELECT message_id IS NOT NULL AS sent FROM outbox.send_message('vis-q', 'm2');
SELECT receipt_handle AS e_handle FROM outbox.receive_message('vis-q') \gset
SELECT pg_temp.depth('vis-q');
SELECT outbox.change_message_visibility('vis-q', :'e_handle', 0);
SELECT pg_temp.depth('vis-q');
SELECT body, receive_count, receipt_handle AS f_handle FROM outbox.receive_message('vis-q', visibility_timeout => 43200) \gset
SELECT :'body' AS body, :receive_count AS receive_count;
-- at most 12 hours in flight, counted from the receive
SELECT pg_temp.tick(3600);
-- (10 s short of the limit: the real time that passes between statements also counts)
SELECT pg_temp.err(format('SELECT outbox.change_message_visibility(%L, %L, 39590)', 'vis-q', :'f_handle')) AS almost_eleven_hours_more;
SELECT pg_temp.err(format('SELECT outbox.change_message_visibility(%L, %L, 39601)', 'vis-q', :'f_handle')) AS one_second_too_many;
SELECT pg_temp.err(format('SELECT outbox.change_message_visibility(%L, %L, 43201)', 'vis-q', :'f_handle')) AS out_of_range;
SELECT pg_temp.err(format('SELECT outbox.change_message_visibility(%L, %L, -1)', 'vis-q', :'f_handle')) AS negative;
SELECT pg_temp.err(format('SELECT outbox.change_message_visibility(%L, %L, NULL)', 'vis-q', :'f_handle')) AS null_timeout;
-- a message that is not in flight: its timeout ran out, or it was deleted
SELECT pg_temp.tick(43200);
SELECT pg_temp.err(format('SELECT outbox.change_message_visibility(%L, %L, 10)', 'vis-q', :'f_handle')) AS timed_out;
SELECT outbox.delete_message('vis-q', :'f_handle');
SELECT pg_temp.err(format('SELECT outbox.change_message_visibility(%L, %L, 10)', 'vis-q', :'f_handle')) AS deleted;
-- the full error, with its detail
SELECT outbox.change_message_visibility('vis-q', :'f_handle', 10);
-- the batch form
SELECT count(*) FROM outbox.send_message_bodies('vis-q', array['b1', 'b2']);
SELECT array_agg(receipt_handle) AS handles FROM outbox.receive_message('vis-q', 2) \gset
SELECT outbox.change_message_visibility_batch('vis-q', :'handles', 0);
SELECT pg_temp.depth('vis-q');
SELECT pg_temp.err(format('SELECT outbox.change_message_visibility_batch(%L, %L, 5)', 'vis-q', :'handles'));

-- receive arguments
SELECT pg_temp.err($$SELECT outbox.receive_message('vis-q', 0)$$) AS zero;
SELECT pg_temp.err($$SELECT outbox.receive_message('vis-q', 1001)$$) AS too_many;
SELECT count(*) AS beyond_sqs_ten FROM outbox.receive_message('vis-q', 1000, 0);
SET pg_outbox.max_receive_batch = 2;
SELECT pg_temp.err($$SELECT outbox.receive_message('vis-q', 3)$$) AS lowered_cap;
RESET pg_outbox.max_receive_batch;
SELECT pg_temp.err($$SELECT outbox.receive_message('vis-q', 1, -1)$$) AS negative_visibility;
SELECT pg_temp.err($$SELECT outbox.receive_message('vis-q', 1, 43201)$$) AS visibility_too_long;
SELECT pg_temp.err($$SELECT outbox.receive_message('vis-q', 1, 0, 21)$$) AS wait_too_long;
SELECT pg_temp.err($$SELECT outbox.receive_message('vis-q', 1, 0, -1)$$) AS negative_wait;
SELECT pg_temp.err($$SELECT outbox.receive_message('vis-q', 1, 0, 0, 'attempt-1')$$) AS attempt_id_on_standard;

-- long polling returns at once when a message is there, and empty when the time is up
SELECT body FROM outbox.receive_message('vis-q', 1, 0, 1);
SELECT outbox.purge_queue('vis-q') >= 0 AS purged;
SELECT count(*) AS empty_after_wait FROM outbox.receive_message('vis-q', 1, 0, 1);
-- long polling needs READ COMMITTED
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT outbox.receive_message('vis-q', 1, 0, 1);
ROLLBACK;
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT count(*) AS short_poll_is_fine FROM outbox.receive_message('vis-q', 1, 0, 0);
COMMIT;

-- delays: the queue's DelaySeconds, or the message's own (standard queues)
SELECT outbox.create_queue('delay-q', '{"DelaySeconds": 10}');
SELECT count(*) FROM outbox.send_message_bodies('delay-q', array['queue-delay']);
SELECT message_id IS NOT NULL AS sent FROM outbox.send_message('delay-q', 'own-delay', delay_seconds => 3);
SELECT message_id IS NOT NULL AS sent FROM outbox.send_message('delay-q', 'no-delay', delay_seconds => 0);
SELECT pg_temp.depth('delay-q');
SELECT body FROM outbox.receive_message('delay-q', 10, 0);
SELECT pg_temp.tick(3);
SELECT body FROM outbox.receive_message('delay-q', 10, 0) ORDER BY body;
SELECT pg_temp.tick(7);
SELECT body FROM outbox.receive_message('delay-q', 10, 0) ORDER BY body;
SELECT pg_temp.depth('delay-q');
SELECT pg_temp.err($$SELECT outbox.send_message('delay-q', 'x', delay_seconds => 901)$$) AS delay_too_long;
SELECT pg_temp.err($$SELECT outbox.send_message('delay-q', 'x', delay_seconds => -1)$$) AS negative_delay;
-- a new queue delay is not retroactive on a standard queue
SELECT message_id IS NOT NULL AS sent FROM outbox.send_message('delay-q', 'before-change');
SELECT outbox.set_queue_attributes('delay-q', '{"DelaySeconds": 0}');
SELECT body FROM outbox.receive_message('delay-q', 10, 0) ORDER BY body;
SELECT pg_temp.tick(10);
SELECT body FROM outbox.receive_message('delay-q', 10, 0) ORDER BY body;

-- retention: expired messages, in any state, are never delivered, leave the counters,
-- and are removed by maintenance; a later delete with their handle is no error
SELECT outbox.create_queue('ret-q', '{"MessageRetentionPeriod": 60}');
SELECT count(*) FROM outbox.send_message_bodies('ret-q', array['old-visible', 'old-in-flight']);
SELECT receipt_handle AS g_handle FROM outbox.receive_message('ret-q', 1, 600) \gset
SELECT pg_temp.tick(30);
SELECT message_id IS NOT NULL AS sent FROM outbox.send_message('ret-q', 'young');
SELECT message_id IS NOT NULL AS sent FROM outbox.send_message('ret-q', 'young-delayed', delay_seconds => 100);
SELECT pg_temp.tick(31);
SELECT pg_temp.depth('ret-q');
SELECT body FROM outbox.receive_message('ret-q', 10, 0);
SELECT outbox.run_queue_maintenance() >= 2 AS removed;
SELECT outbox.delete_message('ret-q', :'g_handle');
-- lowering the retention applies to the messages already there
SELECT outbox.set_queue_attributes('ret-q', '{"MessageRetentionPeriod": 60}');
SELECT pg_temp.tick(40);
SELECT pg_temp.depth('ret-q');

-- purge: everything sent before the call, in any state; not what the same transaction sends after
SELECT outbox.create_queue('purge-q');
SELECT count(*) FROM outbox.send_message_bodies('purge-q', array['p1', 'p2', 'p3']);
SELECT count(*) FROM outbox.receive_message('purge-q');
BEGIN;
SELECT message_id IS NOT NULL AS sent FROM outbox.send_message('purge-q', 'before-purge');
SELECT outbox.purge_queue('purge-q') AS purged;
SELECT message_id IS NOT NULL AS sent FROM outbox.send_message('purge-q', 'after-purge');
COMMIT;
SELECT body FROM outbox.receive_message('purge-q', 10, 0);
-- at most one purge every pg_outbox.purge_interval (60 s)
SELECT pg_temp.err($$SELECT outbox.purge_queue('purge-q')$$);
SELECT pg_temp.tick(61);
SELECT outbox.purge_queue('purge-q') AS purged_later;

SELECT outbox.delete_queue(q) FROM outbox.list_queues() AS q WHERE q ~ '^(vis|delay|ret|purge)-q$';
