-- Event source mappings: batches of queue messages passed to a function,
-- deleted when it succeeds, left to the visibility timeout and the
-- dead-letter queue when it fails, partial batch failures, batching
-- windows, validation and rights.  Driven by run_due_work and the clock.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_outbox;
RESET client_min_messages;
\i sql/include/queue_helpers.sql

CREATE TABLE got (body text, batch int);
CREATE TABLE events (e jsonb);
CREATE SEQUENCE batch_no;
CREATE FUNCTION consume(e jsonb) RETURNS void LANGUAGE plpgsql AS $$
DECLARE b int := nextval('batch_no');
BEGIN
  INSERT INTO events VALUES (e);
  INSERT INTO got SELECT r ->> 'body', b FROM jsonb_array_elements(e -> 'Records') AS r;
END $$;
CREATE FUNCTION picky(e jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE r jsonb; failures jsonb := '[]';
BEGIN
  FOR r IN SELECT * FROM jsonb_array_elements(e -> 'Records') LOOP
    IF r ->> 'body' LIKE 'bad%' THEN
      failures := failures || jsonb_build_object('itemIdentifier', r ->> 'messageId');
    ELSE
      INSERT INTO got VALUES (r ->> 'body', 0);
    END IF;
  END LOOP;
  RETURN jsonb_build_object('batchItemFailures', failures);
END $$;
CREATE FUNCTION broken(e jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO got SELECT r ->> 'body', -1 FROM jsonb_array_elements(e -> 'Records') AS r;
  RAISE EXCEPTION 'downstream unavailable';
END $$;
CREATE FUNCTION liar(e jsonb) RETURNS jsonb LANGUAGE sql AS $$
  SELECT '{"batchItemFailures": [{"itemIdentifier": "not-a-message-id"}]}'::jsonb $$;

-- a batch of 5 out of 7 messages, then the rest; the function's writes
-- and the deletes commit together
SELECT outbox.create_queue('esm');
SELECT m - 'UUID' - 'LastModified' AS mapping
  FROM outbox.create_event_source_mapping('esm', 'consume(jsonb)', batch_size => 5) AS m;
SELECT count(*) FROM outbox.send_message_bodies('esm', ARRAY['m1','m2','m3','m4','m5','m6','m7']);
SELECT outbox.run_due_work() AS batches;
SELECT batch, count(*) FROM got GROUP BY batch ORDER BY batch;
SELECT pg_temp.depth('esm') AS visible_inflight_delayed;
-- the event is Lambda's SQS event
SELECT array_agg(k ORDER BY k) AS record_keys FROM (SELECT e FROM events LIMIT 1) AS x, jsonb_object_keys(e -> 'Records' -> 0) AS k;
SELECT array_agg(k ORDER BY k) AS attribute_keys FROM (SELECT e FROM events LIMIT 1) AS x, jsonb_object_keys(e -> 'Records' -> 0 -> 'attributes') AS k;
SELECT r ->> 'eventSource' AS source, r ->> 'eventSourceARN' AS arn, r ->> 'awsRegion' AS region,
       r ->> 'md5OfBody' = md5(r ->> 'body') AS md5_ok, r -> 'attributes' ->> 'ApproximateReceiveCount' AS receives,
       r -> 'attributes' ? 'SentTimestamp' AS has_sent, r -> 'messageAttributes' AS attrs
  FROM events, jsonb_array_elements(e -> 'Records') AS r LIMIT 1;
SELECT (outbox.send_message('esm', 'with attributes', message_attributes =>
  '{"color": {"DataType": "String", "StringValue": "red"}, "n": {"DataType": "Number", "StringValue": "7"}}')).message_id IS NOT NULL AS sent;
SELECT outbox.run_due_work() AS batches;
SELECT e -> 'Records' -> 0 -> 'messageAttributes' AS lambda_attributes FROM events ORDER BY ctid DESC LIMIT 1;

-- nothing committed, nothing consumed
BEGIN;
SELECT count(*) FROM outbox.send_message_bodies('esm', ARRAY['never']);
ROLLBACK;
SELECT outbox.run_due_work() AS batches;

-- a failing function: the messages stay in flight, come back after the
-- visibility timeout, and reach the dead-letter queue after maxReceiveCount
SELECT outbox.create_queue('esm-dlq');
SELECT outbox.create_queue('esm-flaky', jsonb_build_object('VisibilityTimeout', '30',
  'RedrivePolicy', jsonb_build_object('deadLetterTargetArn', 'arn:aws:sqs:local:000000000000:esm-dlq', 'maxReceiveCount', 2)::text));
SELECT (outbox.create_event_source_mapping('esm-flaky', 'broken(jsonb)') ->> 'State') AS state;
SELECT count(*) FROM outbox.send_message_bodies('esm-flaky', ARRAY['f1', 'f2']);
SELECT outbox.run_due_work() AS batches;
SELECT count(*) AS rolled_back_writes FROM got WHERE batch = -1;
SELECT pg_temp.depth('esm-flaky') AS visible_inflight_delayed;
SELECT m ->> 'LastProcessingResult' AS result FROM outbox.list_event_source_mappings('esm-flaky') AS m;
SELECT outbox.run_due_work() AS nothing_visible;
SELECT pg_temp.tick(31);
SELECT outbox.run_due_work() AS batches;
SELECT pg_temp.tick(31);
SELECT outbox.run_due_work() AS batches;   -- the third receive moves them to the dead-letter queue
SELECT pg_temp.depth('esm-flaky') AS source, pg_temp.depth('esm-dlq') AS dlq;

-- partial batch failures with ReportBatchItemFailures
SELECT outbox.create_queue('esm-partial', '{"VisibilityTimeout": "30"}');
SELECT (outbox.create_event_source_mapping('esm-partial', 'picky(jsonb)',
        function_response_types => '{ReportBatchItemFailures}') -> 'FunctionResponseTypes') AS types;
SELECT count(*) FROM outbox.send_message_bodies('esm-partial', ARRAY['p1', 'bad-1', 'p2', 'bad-2']);
SELECT outbox.run_due_work() AS batches;
SELECT body FROM got WHERE batch = 0 ORDER BY body;
SELECT pg_temp.depth('esm-partial') AS visible_inflight_delayed;
-- a report naming an unknown message fails the whole batch
SELECT outbox.create_queue('esm-liar', '{"VisibilityTimeout": "30"}');
SELECT outbox.create_event_source_mapping('esm-liar', 'liar(jsonb)',
        function_response_types => '{ReportBatchItemFailures}') IS NOT NULL AS created;
SELECT count(*) FROM outbox.send_message_bodies('esm-liar', ARRAY['l1', 'l2']);
SELECT outbox.run_due_work() AS batches;
SELECT pg_temp.depth('esm-liar') AS visible_inflight_delayed;
SELECT m ->> 'LastProcessingResult' AS result FROM outbox.list_event_source_mappings('esm-liar') AS m;

-- batching window: a small batch waits for the window, untouched meanwhile
SELECT outbox.create_queue('esm-window');
SELECT (outbox.create_event_source_mapping('esm-window', 'consume(jsonb)', batch_size => 50,
        maximum_batching_window_seconds => 5) ->> 'MaximumBatchingWindowInSeconds') AS window;
SELECT count(*) FROM outbox.send_message_bodies('esm-window', ARRAY['w1', 'w2', 'w3']);
SELECT outbox.run_due_work() AS batches;
SELECT pg_temp.depth('esm-window') AS untouched;
SELECT pg_temp.tick(5);
SELECT outbox.run_due_work() AS batches;
SELECT count(*) AS consumed FROM got WHERE body LIKE 'w_';

-- disable, enable, get, list, delete
SELECT uuid AS esm_uuid FROM (SELECT (m ->> 'UUID')::uuid AS uuid FROM outbox.list_event_source_mappings('esm') AS m) s \gset
SELECT outbox.update_event_source_mapping(:'esm_uuid', enabled => false) ->> 'State' AS state;
SELECT count(*) FROM outbox.send_message_bodies('esm', ARRAY['while disabled']);
SELECT outbox.run_due_work() AS batches;
SELECT pg_temp.depth('esm') AS waiting;
SELECT outbox.update_event_source_mapping(:'esm_uuid', enabled => true, batch_size => 3) - 'UUID' - 'LastModified' AS updated;
SELECT outbox.run_due_work() AS batches;
SELECT pg_temp.depth('esm') AS drained;
SELECT outbox.get_event_source_mapping(:'esm_uuid') ->> 'QueueName' AS queue;
SELECT m ->> 'QueueName' AS queue, m ->> 'Function' AS function, m ->> 'State' AS state
  FROM outbox.list_event_source_mappings() AS m;
SELECT outbox.delete_event_source_mapping(:'esm_uuid') ->> 'QueueName' AS deleted;
SELECT pg_temp.err($$SELECT outbox.get_event_source_mapping('$$ || :'esm_uuid' || $$')$$) ~ '^42704: event source mapping .* does not exist$' AS gone;

-- validation
SELECT pg_temp.err($$SELECT outbox.create_event_source_mapping('esm', 'consume(jsonb)', batch_size => 0)$$);
SELECT pg_temp.err($$SELECT outbox.create_event_source_mapping('esm', 'consume(jsonb)', batch_size => 10001, maximum_batching_window_seconds => 1)$$);
SELECT pg_temp.err($$SELECT outbox.create_event_source_mapping('esm', 'consume(jsonb)', batch_size => 11)$$);
SELECT pg_temp.err($$SELECT outbox.create_event_source_mapping('esm', 'consume(jsonb)', maximum_batching_window_seconds => 301)$$);
SELECT pg_temp.err($$SELECT outbox.create_event_source_mapping('esm', 'consume(jsonb)', function_response_types => '{ReportEverything}')$$);
SELECT pg_temp.err($$SELECT outbox.create_event_source_mapping('no-such-queue', 'consume(jsonb)')$$);
SELECT pg_temp.err($$SELECT outbox.create_event_source_mapping('esm-partial', 'picky(jsonb)')$$);
SELECT pg_temp.err($$SELECT outbox.create_event_source_mapping('esm', 'lower(text)')$$);
SELECT outbox.create_queue('esm.fifo', '{"FifoQueue": "true", "ContentBasedDeduplication": "true"}') IS NOT NULL AS fifo;
SELECT pg_temp.err($$SELECT outbox.create_event_source_mapping('esm.fifo', 'consume(jsonb)', batch_size => 20, maximum_batching_window_seconds => 1)$$);
SELECT pg_temp.err($$SELECT outbox.create_event_source_mapping('esm', NULL)$$);

-- rights: the mapping's role must be able to receive and delete, and only
-- that role (or a member) may change the mapping
CREATE ROLE esm_bob;
GRANT EXECUTE ON FUNCTION consume(jsonb) TO esm_bob;
SET ROLE esm_bob;
SELECT pg_temp.err($$SELECT outbox.create_event_source_mapping('esm', 'consume(jsonb)')$$);
RESET ROLE;
SELECT outbox.grant_queue('esm', '{receive}', 'esm_bob');
SET ROLE esm_bob;
SELECT pg_temp.err($$SELECT outbox.create_event_source_mapping('esm', 'consume(jsonb)')$$);
SELECT count(*) AS bob_sees FROM outbox.list_event_source_mappings();
RESET ROLE;
SELECT regexp_replace(pg_temp.err(format($$SET ROLE esm_bob; SELECT outbox.delete_event_source_mapping(%L)$$,
       (SELECT (m ->> 'UUID') FROM outbox.list_event_source_mappings('esm-partial') AS m))), '[0-9a-f-]{36}', '<uuid>') AS err;
RESET ROLE;
SELECT outbox.grant_queue('esm', '{delete}', 'esm_bob');
SET ROLE esm_bob;
SELECT outbox.create_event_source_mapping('esm', 'consume(jsonb)') ->> 'Owner' AS owner;
SELECT count(*) AS bob_sees FROM outbox.list_event_source_mappings();
RESET ROLE;
SELECT outbox.delete_event_source_mapping((m ->> 'UUID')::uuid) ->> 'Owner' AS deleted
  FROM outbox.list_event_source_mappings('esm') AS m;
SELECT outbox.revoke_queue('esm', '{receive,delete}', 'esm_bob');
REVOKE EXECUTE ON FUNCTION consume(jsonb) FROM esm_bob;
DROP ROLE esm_bob;
