-- Visibility timeouts: queue and per-receive values, change_message_visibility
-- counting from now, the 12-hour cap from the receive, values that do not
-- stick, and stale receipt handles (consumer A's handle after consumer B
-- received the message again).  Time moves with outbox.advance_clock.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_outbox;
RESET client_min_messages;
CREATE FUNCTION pg_temp.err(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE sql;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || regexp_replace(SQLERRM, '"[^"]{20,}"', '"<handle>"');
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

-- the queue's VisibilityTimeout (here 40 s) applies when the receive gives none
SELECT outbox.create_queue('vt-q', '{"VisibilityTimeout": 40}') LIKE '%:vt-q' AS created;
SELECT message_id AS id1 FROM outbox.send_message('vt-q', 'one') \gset
SELECT receipt_handle AS a_handle, receive_count FROM outbox.receive_message('vt-q') \gset
SELECT :receive_count AS a_receive_count, pg_temp.depth('vt-q');
SELECT pg_temp.tick(39);
SELECT count(*) AS hidden_at_39s FROM outbox.receive_message('vt-q');
SELECT pg_temp.tick(2);
SELECT pg_temp.depth('vt-q') AS visible_at_41s;

-- consumer B receives it again: new handle, count 2, same message
SELECT receipt_handle AS b_handle, receive_count, message_id = :'id1' AS same_message
  FROM outbox.receive_message('vt-q', 1, 100) \gset
SELECT :receive_count AS b_receive_count, :'same_message' AS same_message, :'a_handle' <> :'b_handle' AS new_handle;
-- A's handle is stale: delete reports success and deletes nothing (SQS, standard queues) ...
SELECT outbox.delete_message('vt-q', :'a_handle');
SELECT pg_temp.depth('vt-q') AS still_in_flight_for_b;
-- ... change_message_visibility with it is refused and changes nothing ...
SELECT pg_temp.err(format('SELECT outbox.change_message_visibility(%L, %L, 0)', 'vt-q', :'a_handle')) AS stale_cmv;
SELECT pg_temp.depth('vt-q') AS unchanged;
-- ... and so is a batch that holds it
SELECT pg_temp.err(format('SELECT outbox.change_message_visibility_batch(%L, %L, 0)', 'vt-q', array[:'a_handle'])) AS stale_cmv_batch;
SELECT outbox.delete_message_batch('vt-q', array[:'a_handle']) AS stale_batch_deleted;
SELECT pg_temp.depth('vt-q') AS unchanged;
-- B's handle works
SELECT outbox.delete_message('vt-q', :'b_handle');
SELECT pg_temp.depth('vt-q') AS deleted_by_b;

-- per-receive visibility_timeout overrides the queue's; 0 leaves the message visible
SELECT message_id IS NOT NULL AS sent FROM outbox.send_message('vt-q', 'two');
SELECT count(*) AS received FROM outbox.receive_message('vt-q', 1, 0);
SELECT pg_temp.depth('vt-q') AS visible_after_zero;
SELECT receipt_handle AS h FROM outbox.receive_message('vt-q', 1, 5) \gset
SELECT pg_temp.tick(6);
SELECT pg_temp.depth('vt-q') AS visible_after_5s;

-- change_message_visibility counts from now: received for 300 s, changed to 60 s at second 200
SELECT receipt_handle AS h FROM outbox.receive_message('vt-q', 1, 300) \gset
SELECT pg_temp.tick(200);
SELECT outbox.change_message_visibility('vt-q', :'h', 60);
SELECT pg_temp.tick(58);
SELECT pg_temp.depth('vt-q') AS at_258s_hidden;
SELECT pg_temp.tick(3);
SELECT pg_temp.depth('vt-q') AS at_261s_visible;
-- the changed value does not stick: the next receive uses the queue's 40 s again
SELECT receipt_handle AS h, receive_count FROM outbox.receive_message('vt-q') \gset
SELECT outbox.change_message_visibility('vt-q', :'h', 1000);
SELECT outbox.change_message_visibility('vt-q', :'h', 0);
SELECT receipt_handle AS h, receive_count FROM outbox.receive_message('vt-q') \gset
SELECT :receive_count AS count_rises_only_on_receive;
SELECT pg_temp.tick(41);
SELECT pg_temp.depth('vt-q') AS visible_after_queue_default;
-- change_message_visibility(0) is a "nack": visible at once, count unchanged until the next receive
SELECT receipt_handle AS h FROM outbox.receive_message('vt-q', 1, 600) \gset
SELECT outbox.change_message_visibility('vt-q', :'h', 0);
SELECT pg_temp.depth('vt-q') AS nacked;
-- a message whose visibility ran out is not in flight any more (MessageNotInflight) ...
SELECT receipt_handle AS h FROM outbox.receive_message('vt-q', 1, 10) \gset
SELECT pg_temp.tick(11);
SELECT outbox.change_message_visibility('vt-q', :'h', 10);
-- ... but its latest handle still deletes it (standard queue)
SELECT outbox.delete_message('vt-q', :'h');
SELECT pg_temp.depth('vt-q') AS deleted_after_expiry;
-- and a deleted message cannot have its visibility changed
SELECT pg_temp.err(format('SELECT outbox.change_message_visibility(%L, %L, 10)', 'vt-q', :'h')) AS after_delete;

-- 12 hours in flight at most, measured from the receive
SELECT message_id IS NOT NULL AS sent FROM outbox.send_message('vt-q', 'long');
SELECT receipt_handle AS h FROM outbox.receive_message('vt-q', 1, 43200) \gset
SELECT pg_temp.tick(7200);
-- 10 h more is 12 h from the receive (a few seconds of slack for the real clock)
SELECT pg_temp.err(format('SELECT outbox.change_message_visibility(%L, %L, %s)', 'vt-q', :'h', 36000 - 10)) AS up_to_12h;
SELECT pg_temp.err(format('SELECT outbox.change_message_visibility(%L, %L, %s)', 'vt-q', :'h', 36001)) AS past_12h;
-- repeated extensions run into the cap
SELECT pg_temp.tick(30000);
SELECT pg_temp.err(format('SELECT outbox.change_message_visibility(%L, %L, %s)', 'vt-q', :'h', 6000 - 10)) AS still_within;
SELECT pg_temp.err(format('SELECT outbox.change_message_visibility(%L, %L, %s)', 'vt-q', :'h', 6300)) AS beyond_cap;
-- shortening is always allowed
SELECT pg_temp.err(format('SELECT outbox.change_message_visibility(%L, %L, %s)', 'vt-q', :'h', 1)) AS shorten;
SELECT pg_temp.depth('vt-q');
-- out of range values name the field and the limit
SELECT pg_temp.err(format('SELECT outbox.change_message_visibility(%L, %L, %s)', 'vt-q', :'h', 43201)) AS too_long;
SELECT pg_temp.err(format('SELECT outbox.change_message_visibility(%L, %L, %s)', 'vt-q', :'h', -1)) AS negative;
SELECT pg_temp.err(format('SELECT outbox.change_message_visibility(%L, %L, NULL)', 'vt-q', :'h')) AS null_timeout;
SELECT pg_temp.err($$SELECT outbox.change_message_visibility('vt-q', 'garbage', 10)$$) AS bad_handle;
SELECT pg_temp.depth('vt-q') AS unchanged;

-- a new queue VisibilityTimeout affects only later receives
SELECT pg_temp.tick(2);
SELECT receipt_handle AS h FROM outbox.receive_message('vt-q') \gset
SELECT outbox.set_queue_attributes('vt-q', '{"VisibilityTimeout": 1000}');
SELECT pg_temp.tick(41);
SELECT pg_temp.depth('vt-q') AS old_timeout_kept;
SELECT count(*) AS received FROM outbox.receive_message('vt-q');
SELECT pg_temp.tick(999);
SELECT pg_temp.depth('vt-q') AS new_timeout_applies;

-- change_message_visibility_batch: several handles at once, all or nothing
SELECT outbox.create_queue('vt-b') LIKE '%:vt-b' AS created;
SELECT count(*) AS sent FROM outbox.send_message_bodies('vt-b', array['b1', 'b2', 'b3']);
SELECT array_agg(receipt_handle) AS handles FROM outbox.receive_message('vt-b', 3, 600) \gset
SELECT outbox.change_message_visibility_batch('vt-b', :'handles', 0);
SELECT pg_temp.depth('vt-b') AS all_visible;
SELECT array_agg(receipt_handle ORDER BY body) AS handles FROM outbox.receive_message('vt-b', 3, 600) \gset
SELECT pg_temp.err(format('SELECT outbox.change_message_visibility_batch(%L, %L, 0)', 'vt-b',
                          (:'handles'::text[]) || array['garbage'])) AS one_bad_handle;
SELECT pg_temp.depth('vt-b') AS unchanged;
SELECT pg_temp.err(format('SELECT outbox.change_message_visibility_batch(%L, %L, 43201)', 'vt-b', :'handles')) AS too_long;
SELECT pg_temp.err(format('SELECT outbox.change_message_visibility_batch(%L, %L, 0)', 'vt-b', array[NULL]::text[])) AS null_element;
SELECT outbox.change_message_visibility_batch('vt-b', (:'handles'::text[])[1:2], 0);
SELECT pg_temp.depth('vt-b') AS two_back;

SELECT outbox.delete_queue('vt-q'), outbox.delete_queue('vt-b');
