-- Delays (per message and per queue, not retroactive on standard queues)
-- and retention: expired messages are never delivered, leave the counters
-- at once, in flight or not, and outbox.run_queue_maintenance() removes
-- them.  Time moves with outbox.advance_clock.
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
-- counters(queue): the Approximate* counters (recounted when the clock has moved)
CREATE FUNCTION pg_temp.counters(q text) RETURNS text LANGUAGE sql AS $$
  SELECT format('%s visible/%s in flight/%s delayed', a ->> 'ApproximateNumberOfMessages',
                a ->> 'ApproximateNumberOfMessagesNotVisible', a ->> 'ApproximateNumberOfMessagesDelayed')
    FROM outbox.get_queue_attributes(q) AS a $$;
-- rows physically present (superuser; the table is private to the extension)
CREATE FUNCTION pg_temp.rows(q text) RETURNS bigint LANGUAGE sql AS $$
  SELECT count(*) FROM outbox.message m JOIN outbox.queue USING (queue_id) WHERE queue_name = q $$;

-- per-message delay
SELECT outbox.create_queue('dr-q') LIKE '%:dr-q' AS created;
SELECT message_id IS NOT NULL AS sent FROM outbox.send_message('dr-q', 'delayed 10', delay_seconds => 10);
SELECT message_id IS NOT NULL AS sent FROM outbox.send_message('dr-q', 'now');
SELECT pg_temp.depth('dr-q');
SELECT body FROM outbox.receive_message('dr-q', 10, 0);
SELECT pg_temp.tick(9);
SELECT body FROM outbox.receive_message('dr-q', 10, 0) ORDER BY body;
SELECT pg_temp.tick(2);
SELECT body FROM outbox.receive_message('dr-q', 10, 0) ORDER BY body;
SELECT pg_temp.depth('dr-q');
-- bounds: 0 to 900
SELECT pg_temp.err($$SELECT outbox.send_message('dr-q', 'x', delay_seconds => 900)$$) AS max_delay;
SELECT pg_temp.err($$SELECT outbox.send_message('dr-q', 'x', delay_seconds => 901)$$) AS too_long;
SELECT outbox.send_message('dr-q', 'x', delay_seconds => -1);
SELECT pg_temp.depth('dr-q') AS one_more_delayed;

-- queue DelaySeconds applies to new messages; a per-message delay overrides it (also with 0)
SELECT outbox.create_queue('dr-delay', '{"DelaySeconds": 30}') LIKE '%:dr-delay' AS created;
SELECT message_id IS NOT NULL AS sent FROM outbox.send_message('dr-delay', 'queue delay');
SELECT message_id IS NOT NULL AS sent FROM outbox.send_message('dr-delay', 'no delay', delay_seconds => 0);
SELECT message_id IS NOT NULL AS sent FROM outbox.send_message('dr-delay', 'longer', delay_seconds => 60);
SELECT body FROM outbox.receive_message('dr-delay', 10, 0);
-- not retroactive on a standard queue: lowering the delay does not release queued messages
SELECT outbox.set_queue_attributes('dr-delay', '{"DelaySeconds": 0}');
SELECT body FROM outbox.receive_message('dr-delay', 10, 0) ORDER BY body;
SELECT pg_temp.tick(31);
SELECT body FROM outbox.receive_message('dr-delay', 10, 0) ORDER BY body;
SELECT pg_temp.tick(30);
SELECT body FROM outbox.receive_message('dr-delay', 10, 0) ORDER BY body;
-- raising it does not hold back messages already visible
SELECT message_id IS NOT NULL AS sent FROM outbox.send_message('dr-delay', 'sent at 0');
SELECT outbox.set_queue_attributes('dr-delay', '{"DelaySeconds": 100}');
SELECT body FROM outbox.receive_message('dr-delay', 10, 0) ORDER BY body;
SELECT pg_temp.depth('dr-delay');

-- retention: measured from the send, covers visible, delayed and in-flight messages
SELECT outbox.create_queue('dr-ret', '{"MessageRetentionPeriod": 60}') LIKE '%:dr-ret' AS created;
SELECT message_id IS NOT NULL AS sent FROM outbox.send_message('dr-ret', 'visible');
SELECT message_id IS NOT NULL AS sent FROM outbox.send_message('dr-ret', 'in flight');
SELECT message_id IS NOT NULL AS sent FROM outbox.send_message('dr-ret', 'delayed', delay_seconds => 900);
SELECT receipt_handle AS h FROM outbox.receive_message('dr-ret', 10, 0) WHERE body = 'in flight' \gset
SELECT receipt_handle AS h FROM outbox.receive_message('dr-ret', 1, 3600) \gset
SELECT pg_temp.depth('dr-ret');
SELECT pg_temp.tick(59);
SELECT pg_temp.depth('dr-ret') AS at_59s, pg_temp.counters('dr-ret') AS counters_at_59s;
SELECT pg_temp.tick(2);
-- expired: out of every counter, never delivered, even before maintenance removes the rows
SELECT pg_temp.depth('dr-ret') AS at_61s, pg_temp.counters('dr-ret') AS counters_at_61s, pg_temp.rows('dr-ret') AS rows_before_maintenance;
SELECT count(*) AS delivered FROM outbox.receive_message('dr-ret', 10, 0);
-- deleting the expired in-flight message with its handle is not an error
SELECT outbox.delete_message('dr-ret', :'h');
-- nor is changing its visibility a silent success: it is not in flight any more
SELECT pg_temp.err(format('SELECT outbox.change_message_visibility(%L, %L, 10)', 'dr-ret', :'h')) AS cmv_expired;
-- maintenance removes the rows without anyone receiving
SELECT outbox.run_queue_maintenance() >= 2 AS removed;
SELECT pg_temp.rows('dr-ret') AS rows_after_maintenance;
SELECT pg_temp.err($$SELECT outbox.run_queue_maintenance(NULL)$$) AS null_budget_is_default;

-- lowering MessageRetentionPeriod applies to messages already queued
SELECT outbox.create_queue('dr-lower', '{"MessageRetentionPeriod": 3600}') LIKE '%:dr-lower' AS created;
SELECT message_id IS NOT NULL AS sent FROM outbox.send_message('dr-lower', 'old');
SELECT pg_temp.tick(100);
SELECT message_id IS NOT NULL AS sent FROM outbox.send_message('dr-lower', 'young');
SELECT outbox.set_queue_attributes('dr-lower', '{"MessageRetentionPeriod": 60}');
SELECT body FROM outbox.receive_message('dr-lower', 10, 0);
SELECT outbox.run_queue_maintenance() >= 1 AS removed;
SELECT pg_temp.rows('dr-lower') AS rows_left;
-- raising it again does not bring expired messages back
SELECT pg_temp.tick(61);
SELECT outbox.set_queue_attributes('dr-lower', '{"MessageRetentionPeriod": 3600}');
SELECT body FROM outbox.receive_message('dr-lower', 10, 0);

-- purge deletes everything sent before it, in flight and delayed too; later sends survive
SELECT message_id IS NOT NULL AS sent FROM outbox.send_message('dr-q', 'to purge', delay_seconds => 100);
BEGIN;
SELECT outbox.purge_queue('dr-q') AS purged;
SELECT message_id IS NOT NULL AS sent FROM outbox.send_message('dr-q', 'after purge');
COMMIT;
SELECT body FROM outbox.receive_message('dr-q', 10, 0);
SELECT pg_temp.depth('dr-q');
-- once per 60 seconds
SELECT pg_temp.err($$SELECT outbox.purge_queue('dr-q')$$) AS too_soon;
SELECT pg_temp.tick(61);
SELECT outbox.purge_queue('dr-q') AS purged;

SELECT outbox.delete_queue(q) FROM unnest(array['dr-q', 'dr-delay', 'dr-ret', 'dr-lower']) AS q;
