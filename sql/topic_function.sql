-- Function subscriptions: the SNS event reaches the function after commit
-- (run_due_work stands in for the workers here), as the subscription's
-- owner; failures are retried on the delivery policy and then go to the
-- subscription's dead-letter queue.  The movable clock makes it exact.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_outbox;
RESET client_min_messages;
\i sql/include/queue_helpers.sql
\i sql/include/topic_helpers.sql

CREATE TABLE got (n serial, event jsonb, who text);
GRANT ALL ON got, got_n_seq TO PUBLIC;
CREATE FUNCTION on_event(e jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO got (event, who) VALUES (e, current_user);
  RETURN '{"ok": true}';
END $$;
CREATE FUNCTION flaky(e jsonb) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO got (event, who) VALUES (e, current_user);
  RAISE EXCEPTION 'cannot take %', e -> 'Records' -> 0 -> 'Sns' ->> 'Message';
END $$;

SELECT outbox.create_topic('events') IS NOT NULL AS created;
SELECT outbox.subscribe('events', 'function', 'on_event') AS sub \gset

-- nothing runs before commit; a rollback leaves nothing to run
BEGIN;
SELECT outbox.publish('events', 'rolled back') IS NOT NULL;
ROLLBACK;
SELECT count(*) AS items FROM outbox.due_item;
SELECT outbox.publish('events', '{"id": 1}', 'Hello', '{"k": {"DataType": "String", "StringValue": "v"}}') AS id \gset
SELECT kind, count(*) FROM outbox.due_item GROUP BY kind;
SELECT count(*) AS before_run FROM got;
SELECT outbox.run_due_work() AS ran;
SELECT pg_temp.mask(jsonb_pretty(event)) AS event, who FROM got;
SELECT event -> 'Records' -> 0 -> 'Sns' ->> 'MessageId' = :'id' AS same_id,
       event -> 'Records' -> 0 ->> 'EventSubscriptionArn' = :'sub' AS names_subscription FROM got;
SELECT count(*) AS items_left FROM outbox.due_item;

-- the subscription's owner runs the function
CREATE ROLE topic_fn_owner;
GRANT USAGE ON SCHEMA public TO topic_fn_owner;
SELECT outbox.grant_topic('events', '{subscribe}', 'topic_fn_owner');
SET ROLE topic_fn_owner;
SELECT outbox.subscribe('events', 'function', 'public.on_event(jsonb)') = :'sub' AS same_subscription;
RESET ROLE;
CREATE FUNCTION mine(e jsonb) RETURNS void LANGUAGE sql AS $$ INSERT INTO got (event, who) VALUES ('{}', current_user) $$;
ALTER FUNCTION mine(jsonb) OWNER TO topic_fn_owner;
SET ROLE topic_fn_owner;
SELECT outbox.subscribe('events', 'function', 'mine') IS NOT NULL AS subscribed;
RESET ROLE;
TRUNCATE got;
SELECT outbox.publish('events', 'two subscriptions') IS NOT NULL;
SELECT outbox.run_due_work() AS ran;
SELECT who, count(*) FROM got GROUP BY who ORDER BY who;

-- retries: the delivery policy's phases, then the dead-letter queue
SELECT outbox.create_queue('events-dlq') IS NOT NULL;
SELECT outbox.subscribe('events', 'function', 'flaky',
       '{"DeliveryPolicy": {"healthyRetryPolicy": {"numRetries": 4, "numNoDelayRetries": 1, "numMinDelayRetries": 1, "minDelayTarget": 2, "maxDelayTarget": 8, "backoffFunction": "linear"}},
         "RedrivePolicy": {"deadLetterTargetArn": "arn:aws:sqs:local:000000000000:events-dlq"}}') AS flaky_sub \gset
SELECT outbox.get_subscription_attributes(:'flaky_sub') -> 'EffectiveDeliveryPolicy' AS effective;
TRUNCATE got;
SELECT outbox.unsubscribe(subscription_arn) FROM outbox.list_subscriptions_by_topic('events') WHERE subscription_arn <> :'flaky_sub';
SELECT outbox.publish('events', 'poison') IS NOT NULL;
-- attempt 1 fails; retry 1 has no delay, so the same run makes it and fails too
SELECT outbox.run_due_work() AS ran;
SELECT attempts, round(extract(epoch FROM due_at - outbox.clock_now())) AS due_in, last_error FROM outbox.due_item;
-- retry 2: the minimum delay (2 s); retries 3 and 4: the backoff from 2 to 8 s
SELECT pg_temp.tick(2);
SELECT outbox.run_due_work() AS ran;
SELECT attempts, round(extract(epoch FROM due_at - outbox.clock_now())) AS due_in FROM outbox.due_item;
SELECT outbox.run_due_work() AS not_yet;
SELECT pg_temp.tick(5);
SELECT outbox.run_due_work() AS ran;
SELECT attempts, round(extract(epoch FROM due_at - outbox.clock_now())) AS due_in FROM outbox.due_item;
SELECT pg_temp.tick(8);
SELECT outbox.run_due_work() AS ran;
SELECT count(*) AS items_left FROM outbox.due_item;
SELECT count(*) AS attempts_made FROM got;          -- each attempt rolled back its own insert
SELECT body::jsonb -> 'Records' -> 0 -> 'Sns' ->> 'Message' AS message,
       message_attributes -> 'ERROR_CODE' ->> 'StringValue' AS code,
       message_attributes -> 'ERROR_MESSAGE' ->> 'StringValue' AS error
  FROM outbox.receive_message('events-dlq');

-- an error not worth retrying (the function was dropped) goes to the DLQ at once
CREATE FUNCTION doomed(e jsonb) RETURNS void LANGUAGE sql AS $$ SELECT $$;
SELECT outbox.set_subscription_attributes(:'flaky_sub', '{"FilterPolicy": {"never": ["x"]}}');
SELECT outbox.subscribe('events', 'function', 'doomed', '{"RedrivePolicy": {"deadLetterTargetArn": "events-dlq"}}') IS NOT NULL;
SELECT outbox.publish('events', 'to a dropped function') IS NOT NULL;
DROP FUNCTION doomed(jsonb);
SELECT outbox.run_due_work() AS ran;
SELECT message_attributes -> 'ERROR_CODE' ->> 'StringValue' AS code,
       message_attributes -> 'ERROR_MESSAGE' ->> 'StringValue' AS error
  FROM outbox.receive_message('events-dlq');
SELECT outbox.unsubscribe(subscription_arn) FROM outbox.list_subscriptions_by_topic('events') WHERE endpoint LIKE '%doomed%';

-- unsubscribed before the worker got to it: dropped quietly
SELECT outbox.set_subscription_attributes(:'flaky_sub', '{"FilterPolicy": ""}');
SELECT outbox.publish('events', 'too late') IS NOT NULL;
SELECT outbox.unsubscribe(:'flaky_sub');
SELECT outbox.run_due_work() AS ran;
SELECT count(*) AS items_left FROM outbox.due_item;
SELECT count(*) AS nothing_more FROM outbox.receive_message('events-dlq');

SELECT outbox.delete_topic('events');
DROP FUNCTION mine(jsonb);
REVOKE USAGE ON SCHEMA public FROM topic_fn_owner;
DROP ROLE topic_fn_owner;
DROP TABLE got; DROP FUNCTION on_event(jsonb), flaky(jsonb);
