-- put_events: the envelope, per-entry errors, matching against the bus's
-- rules, the input a target gets (Input, InputPath, InputTransformer and
-- its quoting rules), queue/topic targets in the caller's transaction,
-- function and bus targets through the workers (run_due_work here) with
-- retries and dead letters, and rights.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_outbox;
RESET client_min_messages;
\i sql/include/queue_helpers.sql
\i sql/include/topic_helpers.sql
CREATE FUNCTION pg_temp.bodies(q text) RETURNS SETOF text LANGUAGE sql AS $$
  SELECT pg_temp.mask(body) FROM pg_temp.take(q) ORDER BY 1 $$;

SELECT outbox.create_queue('ev-all') IS NOT NULL AND outbox.create_queue('ev-big') IS NOT NULL
   AND outbox.create_queue('ev-x') IS NOT NULL AND outbox.create_queue('ev-dlq') IS NOT NULL AS queues;
SELECT outbox.put_rule('all', event_pattern => '{"source": ["shop"]}') IS NOT NULL;
SELECT outbox.put_rule('big', event_pattern => '{"source": ["shop"], "detail": {"total": [{"numeric": [">=", 100]}]}}') IS NOT NULL;
SELECT outbox.put_targets('all', '[{"Id": "q", "Arn": "arn:aws:sqs:local:000000000000:ev-all"}]') ->> 'FailedEntryCount';
SELECT outbox.put_targets('big', '[{"Id": "q", "Arn": "arn:aws:sqs:local:000000000000:ev-big", "InputPath": "$.detail"}]') ->> 'FailedEntryCount';

-- the envelope: every field, seconds precision, Time given or not
SELECT error_code FROM outbox.put_events('[{"Source": "shop", "DetailType": "Order Placed", "Detail": "{\"id\": 1, \"total\": 150}",
                                            "Resources": ["arn:aws:shop:order/1"], "Time": "2026-01-31T12:34:56.789Z"}]');
SELECT body::jsonb - 'id' AS event, body::jsonb ->> 'id' AS id FROM pg_temp.take('ev-all');
SELECT * FROM pg_temp.bodies('ev-big');
SELECT count(*) FROM outbox.put_events('[{"Source": "shop", "DetailType": "t", "Detail": {"total": 5}}]');
SELECT body::jsonb ->> 'time' ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$' AS ingestion_time, body::jsonb -> 'resources' AS resources
  FROM pg_temp.take('ev-all');
SELECT count(*) AS big_got FROM pg_temp.take('ev-big');

-- per-entry errors keep the request's order; good entries are routed
SELECT row_number() OVER () AS n, event_id IS NOT NULL AS ok, error_code, error_message
  FROM outbox.put_events('[
    {"Source": "shop", "DetailType": "t", "Detail": "{\"total\": 100}"},
    {"DetailType": "t", "Detail": "{}"},
    {"Source": "shop", "Detail": "{}"},
    {"Source": "shop", "DetailType": "t"},
    {"Source": "shop", "DetailType": "t", "Detail": "not json"},
    {"Source": "shop", "DetailType": "t", "Detail": "[1, 2]"},
    {"Source": "shop", "DetailType": "t", "Detail": 42},
    {"Source": "aws.ec2", "DetailType": "t", "Detail": "{}"},
    {"Source": "shop", "DetailType": "t", "Detail": "{}", "EventBusName": "nope"},
    {"Source": "shop", "DetailType": "t", "Detail": "{}", "Time": "yesterday"}]');
SELECT count(*) AS all_got FROM pg_temp.take('ev-all');
SELECT * FROM pg_temp.bodies('ev-big');
SELECT row_number() OVER () AS n, error_code FROM outbox.put_events('[
    {"Source": "shop", "DetailType": "t", "Detail": "{}", "Time": "2026-02-30T00:00:00Z"},
    {"Source": "shop", "DetailType": "t", "Detail": "{}", "Time": "2026-02-28T23:59:59+02:00"},
    {"Source": 7, "DetailType": "t", "Detail": "{}"},
    {"Source": "shop", "DetailType": "t", "Detail": "{}", "Resources": "arn"},
    {"Source": "shop", "DetailType": "t", "Detail": "{}", "Resources": [1]},
    "not an object"]');
SELECT count(*) FROM pg_temp.take('ev-all');

-- request-level errors fail the call
SELECT pg_temp.err($$SELECT * FROM outbox.put_events('[]')$$);
SELECT pg_temp.err($$SELECT * FROM outbox.put_events('{}')$$);
SELECT pg_temp.err($$SELECT * FROM outbox.put_events((SELECT jsonb_agg('{"Source": "s", "DetailType": "t", "Detail": "{}"}'::jsonb) FROM generate_series(1, 11)))$$);
SELECT pg_temp.err($$SELECT * FROM outbox.put_events('[{"Source": "shop"}, {"DetailType": "t"}]')$$);
SELECT pg_temp.err($$SELECT * FROM outbox.put_events(jsonb_build_array(jsonb_build_object('Source', 'shop', 'DetailType', 't', 'Detail', '{"x": "' || repeat('x', 1048576) || '"}')))$$);
SELECT pg_temp.err($$SELECT * FROM outbox.put_events(NULL)$$);

-- a rollback routes nothing; disabled rules match nothing
BEGIN;
SELECT count(*) FROM outbox.put_events('[{"Source": "shop", "DetailType": "t", "Detail": "{\"total\": 500}"}]');
ROLLBACK;
SELECT pg_temp.depth('ev-all') AS all_depth, pg_temp.depth('ev-big') AS big_depth;
SELECT outbox.disable_rule('big');
SELECT count(*) FROM outbox.put_events('[{"Source": "shop", "DetailType": "t", "Detail": "{\"total\": 500}"}]');
SELECT pg_temp.depth('ev-all') AS all_depth, pg_temp.depth('ev-big') AS big_depth;
SELECT outbox.enable_rule('big');
SELECT count(*) FROM pg_temp.take('ev-all');

-- input transformers: quoting, missing values, reserved variables
SELECT outbox.put_rule('x', event_pattern => '{"detail-type": ["transform"]}') IS NOT NULL;
SELECT outbox.put_targets('x', $$[
  {"Id": "json", "Arn": "arn:aws:sqs:local:000000000000:ev-x", "InputTransformer": {
     "InputPathsMap": {"id": "$.detail.id", "name": "$.detail.name", "tags": "$.detail.tags", "missing": "$.detail.nope",
                       "first": "$.detail.items[0].sku", "skus": "$.detail.items[*].sku", "obj": "$.detail.obj"},
     "InputTemplate": "{\"id\": <id>, \"name\": \"<name>\", \"tags\": <tags>, \"missing\": <missing>, \"in_text\": \"[<missing>]\", \"first\": \"<first>\", \"skus\": <skus>, \"obj_in_text\": \"<obj>\", \"rule\": \"<aws.events.rule-name>\", \"rule_arn\": \"<aws.events.rule-arn>\"}"}},
  {"Id": "text", "Arn": "arn:aws:sqs:local:000000000000:ev-x", "InputTransformer": {
     "InputPathsMap": {"name": "$.detail.name", "id": "$.detail.id"},
     "InputTemplate": "Order <id> for <name> < not a placeholder >"}},
  {"Id": "event", "Arn": "arn:aws:sqs:local:000000000000:ev-x", "InputTransformer": {
     "InputTemplate": "{\"without_detail\": <aws.events.event>, \"with\": <aws.events.event.json>, \"at\": \"<aws.events.event.ingestion-time>\"}"}},
  {"Id": "const", "Arn": "arn:aws:sqs:local:000000000000:ev-x", "Input": "\"just a string\""},
  {"Id": "path", "Arn": "arn:aws:sqs:local:000000000000:ev-x", "InputPath": "$.detail.items[*]"}]$$) ->> 'FailedEntryCount';
SELECT count(*) FROM outbox.put_events($$[{"Source": "s", "DetailType": "transform",
  "Detail": {"id": 7, "name": "O'Brien \"the\" <b>", "tags": ["a", "b"], "items": [{"sku": "A-1"}, {"sku": "B-2"}], "obj": {"k": "v"}}}]$$);
SELECT * FROM pg_temp.bodies('ev-x');

-- FIFO queue and topic targets, in the caller's transaction
SELECT outbox.create_queue('ev.fifo', '{"FifoQueue": "true"}') IS NOT NULL AND outbox.create_topic('ev-topic') IS NOT NULL
   AND outbox.subscribe('ev-topic', 'sqs', 'ev-x', '{"RawMessageDelivery": true}') IS NOT NULL;
SELECT outbox.put_rule('fanout', event_pattern => '{"detail-type": ["fanout"]}') IS NOT NULL;
SELECT outbox.put_targets('fanout', '[{"Id": "f", "Arn": "arn:aws:sqs:local:000000000000:ev.fifo", "SqsParameters": {"MessageGroupId": "g1"}, "InputPath": "$.detail.n"},
                                       {"Id": "t", "Arn": "arn:aws:sns:local:000000000000:ev-topic", "InputPath": "$.detail"}]') ->> 'FailedEntryCount';
SELECT count(*) FROM outbox.put_events('[{"Source": "s", "DetailType": "fanout", "Detail": {"n": 1}}, {"Source": "s", "DetailType": "fanout", "Detail": {"n": 2}}]');
SELECT body, group_id FROM pg_temp.take('ev.fifo');
SELECT * FROM pg_temp.bodies('ev-x');

-- function targets: after commit, as the rule's owner, retried, then dead-lettered
CREATE TABLE ev_calls (input jsonb, who text);
CREATE FUNCTION ev_ok(e jsonb) RETURNS void LANGUAGE sql AS $$ INSERT INTO ev_calls VALUES (e, current_user) $$;
CREATE FUNCTION ev_fail(e jsonb) RETURNS void LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'target down'; END $$;
SELECT outbox.put_rule('fn', event_pattern => '{"detail-type": ["fn"]}') IS NOT NULL;
SELECT outbox.put_targets('fn', '[{"Id": "ok", "Arn": "arn:aws:lambda:local:000000000000:function:ev_ok", "InputPath": "$.detail"},
  {"Id": "fail", "Arn": "function:ev_fail", "RetryPolicy": {"MaximumRetryAttempts": 2},
   "DeadLetterConfig": {"Arn": "arn:aws:sqs:local:000000000000:ev-dlq"}}]') ->> 'FailedEntryCount';
SELECT count(*) FROM outbox.put_events('[{"Source": "s", "DetailType": "fn", "Detail": {"n": 1}}]');
SELECT count(*) AS calls_before_commit_work FROM ev_calls;
SELECT outbox.run_due_work() AS ran;
SELECT input, who FROM ev_calls;
SELECT attempts, round(extract(epoch FROM due_at - outbox.clock_now())) AS retry_in, last_error FROM outbox.due_item;
SELECT pg_temp.tick(1);
SELECT outbox.run_due_work() AS ran;
SELECT attempts, round(extract(epoch FROM due_at - outbox.clock_now())) AS retry_in FROM outbox.due_item;
SELECT pg_temp.tick(2);
SELECT outbox.run_due_work() AS ran;
SELECT count(*) AS items_left FROM outbox.due_item;
SELECT body::jsonb ->> 'detail-type' AS dead_event,
       (SELECT jsonb_object_agg(k, v ->> 'StringValue') FROM jsonb_each(message_attributes) AS a(k, v)) AS why
  FROM outbox.receive_message('ev-dlq', 10, 0);

-- bus to bus: the event goes on, unchanged, to the other bus's rules
SELECT outbox.create_event_bus('audit') IS NOT NULL;
SELECT outbox.put_rule('audit-all', 'audit', '{"source": ["s"]}') IS NOT NULL;
SELECT outbox.put_targets('audit-all', '[{"Id": "q", "Arn": "arn:aws:sqs:local:000000000000:ev-x"}]', 'audit') ->> 'FailedEntryCount';
SELECT outbox.put_rule('forward', event_pattern => '{"detail-type": ["forward"]}') IS NOT NULL;
SELECT outbox.put_targets('forward', '[{"Id": "b", "Arn": "arn:aws:events:local:000000000000:event-bus/audit"}]') ->> 'FailedEntryCount';
SELECT event_id AS forwarded_id FROM outbox.put_events('[{"Source": "s", "DetailType": "forward", "Detail": {"n": 9}}]') \gset
SELECT pg_temp.depth('ev-x') AS before_work;
SELECT outbox.run_due_work() AS ran;
SELECT body::jsonb ->> 'id' = :'forwarded_id' AS same_id, body::jsonb -> 'detail' AS detail FROM outbox.receive_message('ev-x', 10, 0);
SELECT count(*) FROM pg_temp.take('ev-x');

-- rights: putting needs "put"; the rule owner's rights are checked at delivery
CREATE ROLE ev_putter; CREATE ROLE ev_owner;
SELECT outbox.revoke_event_bus('audit', '{all}', 'PUBLIC');
SET ROLE ev_putter;
SELECT error_code, error_message FROM outbox.put_events('[{"Source": "s", "DetailType": "t", "Detail": "{}", "EventBusName": "audit"}]');
SELECT count(*) FROM outbox.put_events('[{"Source": "s", "DetailType": "t", "Detail": "{}"}]');   -- the default bus: PUBLIC may put
SELECT pg_temp.err($$SELECT outbox.put_rule('mine', 'audit', '{"source": ["s"]}')$$);
RESET ROLE;
SELECT outbox.grant_queue('ev-x', '{send}', 'ev_owner');
SET ROLE ev_owner;
SELECT outbox.put_rule('owned', event_pattern => '{"detail-type": ["owned"]}') IS NOT NULL;
SELECT outbox.put_targets('owned', '[{"Id": "q", "Arn": "arn:aws:sqs:local:000000000000:ev-x"}]') ->> 'FailedEntryCount';
SELECT pg_temp.err($$SELECT outbox.put_targets('owned', '[{"Id": "d", "Arn": "arn:aws:sqs:local:000000000000:ev-dlq"}]')$$);
SELECT pg_temp.err($$SELECT outbox.disable_rule('fn')$$);
RESET ROLE;
SELECT outbox.revoke_queue('ev-x', '{send}', 'ev_owner');
SELECT count(*) FROM outbox.put_events('[{"Source": "s", "DetailType": "owned", "Detail": "{}"}]');
SELECT pg_temp.depth('ev-x') AS nothing_delivered;

-- clean up
SELECT outbox.remove_targets(name, ARRAY(SELECT id FROM outbox.list_targets_by_rule(name)))
  FROM outbox.list_rules() WHERE targets > 0;
SELECT count(*) FROM (SELECT outbox.delete_rule(name) FROM outbox.list_rules()) d;
SELECT outbox.remove_targets('audit-all', '{q}', 'audit') ->> 'FailedEntryCount';
SELECT outbox.delete_rule('audit-all', 'audit'), outbox.delete_event_bus('audit');
SELECT outbox.delete_topic('ev-topic');
SELECT count(*) FROM (SELECT outbox.delete_queue(q) FROM unnest('{ev-all,ev-big,ev-x,ev-dlq,ev.fifo}'::text[]) q) d;
DROP TABLE ev_calls;
DROP FUNCTION ev_ok(jsonb), ev_fail(jsonb);
DROP ROLE ev_putter, ev_owner;
