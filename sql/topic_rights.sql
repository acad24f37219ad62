-- Rights on topics: publish, subscribe and admin, granted per topic; a
-- subscriber must be able to send to the queue (and execute the function)
-- it subscribes, and keeps needing that right at every delivery.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_outbox;
RESET client_min_messages;
\i sql/include/queue_helpers.sql
\i sql/include/topic_helpers.sql
CREATE FUNCTION pg_temp.denied(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE detail text;
BEGIN
  EXECUTE sql;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
  RETURN SQLSTATE || ': ' || SQLERRM || coalesce(' [' || detail || ']', '');
END $$;
GRANT EXECUTE ON FUNCTION pg_temp.denied(text) TO PUBLIC;

CREATE ROLE t_alice; CREATE ROLE t_bob; CREATE ROLE t_carol; CREATE ROLE t_dave;
SET ROLE t_alice;
SELECT outbox.create_topic('alice-news') IS NOT NULL AS created;
SELECT outbox.create_queue('alice-inbox') IS NOT NULL AS inbox;
RESET ROLE;
SELECT outbox.create_queue('dave-inbox') IS NOT NULL AS dave_inbox;
SELECT outbox.grant_queue('dave-inbox', '{send,receive,delete}', 't_dave');

-- nobody else may do anything, nor see the topic
SET ROLE t_bob;
SELECT pg_temp.denied($$SELECT outbox.publish('alice-news', 'hi')$$);
SELECT pg_temp.denied($$SELECT outbox.get_topic_attributes('alice-news')$$);
SELECT pg_temp.denied($$SELECT outbox.subscribe('alice-news', 'notify', 'c')$$);
SELECT pg_temp.denied($$SELECT outbox.delete_topic('alice-news')$$);
SELECT pg_temp.denied($$SELECT outbox.grant_topic('alice-news', '{all}', 't_bob')$$);
SELECT count(*) AS visible FROM outbox.list_topics();
RESET ROLE;

-- grants: publish to carol, subscribe to dave
SET ROLE t_alice;
SELECT outbox.grant_topic('alice-news', '{publish}', 't_carol');
SELECT outbox.grant_topic('alice-news', '{subscribe}', 't_dave');
SELECT pg_temp.denied($$SELECT outbox.grant_topic('alice-news', '{read}', 't_dave')$$);
SELECT pg_temp.denied($$SELECT outbox.grant_topic('alice-news', '{publish}', 'no_such_role')$$);
RESET ROLE;
SET ROLE t_carol;
SELECT outbox.publish('alice-news', 'from carol') IS NOT NULL AS carol_publishes;
SELECT pg_temp.denied($$SELECT outbox.subscribe('alice-news', 'notify', 'c')$$);
SELECT topic_name FROM outbox.list_topics();
RESET ROLE;

-- a subscriber must be able to send to the queue it subscribes
SET ROLE t_dave;
SELECT pg_temp.denied($$SELECT outbox.subscribe('alice-news', 'sqs', 'alice-inbox')$$);
SELECT outbox.subscribe('alice-news', 'sqs', 'dave-inbox', '{"RawMessageDelivery": true}') AS dave_sub \gset
SELECT pg_temp.denied($$SELECT outbox.publish('alice-news', 'from dave')$$);
SELECT pg_temp.denied($$SELECT outbox.set_topic_attributes('alice-news', '{"DisplayName": "mine"}')$$);
SELECT pg_temp.denied($$SELECT outbox.subscribe('alice-news', 'sqs', 'dave-inbox', '{"RedrivePolicy": {"deadLetterTargetArn": "alice-inbox"}}')$$);
RESET ROLE;
-- ... and to the function: EXECUTE, checked as the subscriber
CREATE FUNCTION secret_handler(e jsonb) RETURNS void LANGUAGE sql AS $$ SELECT $$;
REVOKE EXECUTE ON FUNCTION secret_handler(jsonb) FROM PUBLIC;
SET ROLE t_dave;
SELECT pg_temp.denied($$SELECT outbox.subscribe('alice-news', 'function', 'public.secret_handler')$$);
RESET ROLE;

SET ROLE t_carol;
SELECT outbox.publish('alice-news', 'to dave') IS NOT NULL;
RESET ROLE;
SET ROLE t_dave;
SELECT body FROM pg_temp.take('dave-inbox');
-- someone else's subscription: neither change it nor remove it
RESET ROLE;
SET ROLE t_bob;
SELECT pg_temp.mask(pg_temp.denied(format('SELECT outbox.unsubscribe(%L)', :'dave_sub')));
SELECT pg_temp.mask(pg_temp.denied(format($$SELECT outbox.set_subscription_attributes(%L, '{"RawMessageDelivery": false}')$$, :'dave_sub')));
SELECT count(*) AS bob_sees FROM outbox.list_subscriptions();
RESET ROLE;
SET ROLE t_dave;
SELECT count(*) AS dave_sees_his_own FROM outbox.list_subscriptions();
RESET ROLE;

-- losing the send right stops deliveries (nothing written, no DLQ here: logged)
SELECT outbox.revoke_queue('dave-inbox', '{send}', 't_dave');
SET ROLE t_carol;
SELECT outbox.publish('alice-news', 'after revoke') IS NOT NULL;
RESET ROLE;
SELECT pg_temp.depth('dave-inbox') AS dave_inbox;

-- the admin (alice) may remove any subscription of her topic
SET ROLE t_alice;
SELECT outbox.unsubscribe(:'dave_sub');
SELECT outbox.revoke_topic('alice-news', '{publish}', 't_carol');
RESET ROLE;
SET ROLE t_carol;
SELECT pg_temp.denied($$SELECT outbox.publish('alice-news', 'revoked')$$);
RESET ROLE;
SET ROLE t_alice;
SELECT outbox.delete_topic('alice-news');
SELECT outbox.delete_queue('alice-inbox');
RESET ROLE;
SELECT outbox.delete_queue('dave-inbox');
DROP FUNCTION secret_handler(jsonb);
DROP ROLE t_alice, t_bob, t_carol, t_dave;
