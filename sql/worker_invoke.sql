-- Functions as Lambda functions: invoke (RequestResponse, Event), the
-- asynchronous retry schedule and destinations, per-function settings,
-- and running as the invoking role.  run_due_work and the movable clock
-- make it deterministic (this database has no scheduler).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_outbox;
RESET client_min_messages;
\i sql/include/queue_helpers.sql

CREATE TABLE calls (n serial, payload jsonb, who text);
GRANT ALL ON calls, calls_n_seq TO PUBLIC;
CREATE FUNCTION h_ok(p jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO calls (payload, who) VALUES (p, current_user);
  RETURN jsonb_build_object('echo', p, 'user', current_user);
END $$;
CREATE FUNCTION h_fail(p jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO calls (payload, who) VALUES (p, current_user);
  RAISE EXCEPTION 'cannot process %', p ->> 'order';
END $$;
CREATE FUNCTION h_void(p jsonb) RETURNS void LANGUAGE sql AS $$ INSERT INTO calls (payload, who) VALUES (p, current_user) $$;
CREATE FUNCTION h_missing(p jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN RETURN (SELECT to_jsonb(x) FROM no_such_table x LIMIT 1); END $$;
CREATE FUNCTION h_text(p jsonb) RETURNS text LANGUAGE sql AS $$ SELECT 'plain ' || (p ->> 'x') $$;
CREATE FUNCTION not_handler(p int) RETURNS int LANGUAGE sql AS $$ SELECT p $$;
CREATE FUNCTION not_handler2(p jsonb) RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;

-- RequestResponse runs now, in the caller's transaction, as the caller
SELECT outbox.invoke('h_ok(jsonb)', '{"x": 1}');
SELECT outbox.invoke('h_void(jsonb)', '{"x": 2}') IS NULL AS void_gives_null;
SELECT outbox.invoke('h_text(jsonb)', '{"x": 3}');
SELECT pg_temp.err($$SELECT outbox.invoke('h_fail(jsonb)', '{"order": 7}')$$);
SELECT pg_temp.err($$SELECT outbox.invoke('not_handler(integer)', '{}')$$);
SELECT pg_temp.err($$SELECT outbox.invoke('not_handler2(jsonb)', '{}')$$);
SELECT pg_temp.err($$SELECT outbox.invoke('h_ok(jsonb)', '{}', 'Async')$$);
SELECT pg_temp.err($$SELECT outbox.invoke('h_ok(jsonb)', NULL)$$);
SELECT pg_temp.err($$SELECT outbox.invoke(NULL, '{}')$$);
SELECT outbox.invoke('h_ok(jsonb)', '{}', 'DryRun') IS NULL AS dry_run;
SELECT count(*) AS calls_so_far FROM calls;

-- Event: queued in the caller's transaction, run by a worker after commit
SELECT outbox.invoke('h_ok(jsonb)', '{"order": 1}', 'Event') - 'RequestId' AS accepted;
SELECT kind, due_now, scheduled FROM outbox.due_work;
BEGIN;
SELECT outbox.invoke('h_ok(jsonb)', '{"order": "rolled back"}', 'Event') ->> 'StatusCode' AS status;
ROLLBACK;
SELECT count(*) AS items FROM outbox.due_item;
SELECT outbox.run_due_work() AS ran;
SELECT payload, who FROM calls WHERE payload ? 'order';
SELECT outbox.run_due_work() AS ran_nothing;

-- retries: 2 by default, after 1 and 2 minutes, then the failure destination
SELECT outbox.create_queue('fn-failures');
SELECT outbox.create_queue('fn-successes');
SELECT outbox.put_function_config('h_fail(jsonb)', on_failure => 'fn-failures') - 'FunctionArn';
SELECT outbox.invoke('h_fail(jsonb)', '{"order": 42}', 'Event') IS NOT NULL AS queued;
SELECT outbox.run_due_work() AS ran;
SELECT attempts, last_error, due_at - outbox.clock_now() BETWEEN '59 s' AND '60 s' AS in_a_minute FROM outbox.due_item;
SELECT outbox.run_due_work() AS not_yet;
SELECT pg_temp.tick(60);
SELECT outbox.run_due_work() AS ran;
SELECT attempts, due_at - outbox.clock_now() BETWEEN '119 s' AND '120 s' AS in_two_minutes FROM outbox.due_item;
SELECT pg_temp.tick(120);
SELECT outbox.run_due_work() AS ran;
SELECT count(*) AS items_left FROM outbox.due_item;
SELECT count(*) AS attempts_made FROM calls WHERE payload ->> 'order' = '42';   -- each attempt rolled back its insert
SELECT b -> 'requestContext' ->> 'condition' AS condition,
       b -> 'requestContext' ->> 'approximateInvokeCount' AS invokes,
       b -> 'requestContext' ->> 'functionArn' AS function_arn,
       b -> 'requestPayload' AS request, b -> 'responseContext' AS response_context,
       b -> 'responsePayload' AS response, b ->> 'timestamp' ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$' AS iso_time
  FROM (SELECT body::jsonb AS b FROM outbox.receive_message('fn-failures')) AS r;

-- no retries: one attempt, then the destination
SELECT outbox.put_function_config('h_fail(jsonb)', maximum_retry_attempts => 0) ->> 'MaximumRetryAttempts' AS retries;
SELECT outbox.invoke('h_fail(jsonb)', '{"order": 43}', 'Event') IS NOT NULL AS queued;
SELECT outbox.run_due_work() AS ran;
SELECT count(*) AS items_left FROM outbox.due_item;
SELECT body::jsonb -> 'requestContext' ->> 'approximateInvokeCount' AS invokes FROM outbox.receive_message('fn-failures');

-- the event's age: a retry that would come too late does not happen
SELECT outbox.put_function_config('h_fail(jsonb)', maximum_retry_attempts => 2, maximum_event_age_seconds => 60) ->> 'MaximumEventAgeInSeconds' AS max_age;
SELECT outbox.invoke('h_fail(jsonb)', '{"order": 44}', 'Event') IS NOT NULL AS queued;
SELECT outbox.run_due_work() AS ran;
SELECT body::jsonb -> 'requestContext' ->> 'condition' AS condition FROM outbox.receive_message('fn-failures');

-- errors that retrying cannot fix (class 42: a missing table) are not retried
SELECT outbox.put_function_config('h_missing(jsonb)', on_failure => 'fn-failures') IS NOT NULL AS configured;
SELECT outbox.invoke('h_missing(jsonb)', '{}', 'Event') IS NOT NULL AS queued;
SELECT outbox.run_due_work() AS ran;
SELECT b -> 'requestContext' ->> 'approximateInvokeCount' AS invokes, b -> 'responsePayload' AS response
  FROM (SELECT body::jsonb AS b FROM outbox.receive_message('fn-failures')) AS r;

-- success destination
SELECT outbox.put_function_config('h_ok(jsonb)', on_success => 'fn-successes') ->> 'OnSuccess' AS on_success;
SELECT outbox.invoke('h_ok(jsonb)', '{"order": 2}', 'Event') IS NOT NULL AS queued;
SELECT outbox.run_due_work() AS ran;
SELECT b -> 'requestContext' ->> 'condition' AS condition, b -> 'responsePayload' AS response,
       b -> 'responseContext' ? 'functionError' AS has_error
  FROM (SELECT body::jsonb AS b FROM outbox.receive_message('fn-successes')) AS r;
SELECT outbox.put_function_config('h_ok(jsonb)', on_success => '') ? 'OnSuccess' AS still_has_success;

-- reserved concurrency 0 throttles: the item waits, no attempt is counted
SELECT outbox.put_function_config('h_ok(jsonb)', reserved_concurrency => 0) ->> 'ReservedConcurrentExecutions' AS reserved;
SELECT outbox.invoke('h_ok(jsonb)', '{"order": 3}', 'Event') IS NOT NULL AS queued;
SELECT outbox.run_due_work(max_items => 1) AS ran;
SELECT attempts, last_error FROM outbox.due_item;
SELECT outbox.put_function_config('h_ok(jsonb)', reserved_concurrency => 5) ->> 'ReservedConcurrentExecutions' AS reserved;
SELECT pg_temp.tick(1);
SELECT outbox.run_due_work() AS ran;
SELECT count(*) AS items_left FROM outbox.due_item;

-- settings: bounds, destinations, ownership, defaults
SELECT outbox.get_function_config('h_void(jsonb)') - 'FunctionArn' AS defaults;
SELECT pg_temp.err($$SELECT outbox.put_function_config('h_ok(jsonb)', timeout_seconds => 0)$$);
SELECT pg_temp.err($$SELECT outbox.put_function_config('h_ok(jsonb)', timeout_seconds => 901)$$);
SELECT pg_temp.err($$SELECT outbox.put_function_config('h_ok(jsonb)', maximum_retry_attempts => 3)$$);
SELECT pg_temp.err($$SELECT outbox.put_function_config('h_ok(jsonb)', maximum_event_age_seconds => 59)$$);
SELECT pg_temp.err($$SELECT outbox.put_function_config('h_ok(jsonb)', on_failure => 'no-such-queue')$$);
SELECT pg_temp.err($$SELECT outbox.put_function_config('h_ok(jsonb)', reserved_concurrency => -1)$$);
SELECT pg_temp.err($$SELECT outbox.put_function_config('not_handler(integer)')$$);
SELECT outbox.delete_function_config('h_ok(jsonb)');
SELECT outbox.get_function_config('h_ok(jsonb)') - 'FunctionArn' AS back_to_defaults;

-- user code runs as the role that invoked it, with that role's rights
CREATE ROLE fn_alice;
CREATE TABLE secret (s text);
INSERT INTO secret VALUES ('classified');
REVOKE ALL ON secret FROM PUBLIC;
CREATE FUNCTION peek(p jsonb) RETURNS jsonb LANGUAGE sql AS $$ SELECT jsonb_build_object('s', (SELECT s FROM secret)) $$;
ALTER FUNCTION peek(jsonb) OWNER TO fn_alice;
CREATE FUNCTION whoami(p jsonb) RETURNS jsonb LANGUAGE sql AS $$ SELECT jsonb_build_object('user', current_user::text) $$;
ALTER FUNCTION whoami(jsonb) OWNER TO fn_alice;
SET ROLE fn_alice;
SELECT pg_temp.err($$SELECT outbox.invoke('peek(jsonb)', '{}')$$);
SELECT outbox.invoke('peek(jsonb)', '{}', 'Event') IS NOT NULL AS queued;
SELECT outbox.invoke('whoami(jsonb)', '{}', 'Event') IS NOT NULL AS queued;
SELECT pg_temp.err($$SELECT outbox.put_function_config('h_ok(jsonb)', timeout_seconds => 5)$$);
SELECT pg_temp.err($$SELECT outbox.run_due_work()$$);
RESET ROLE;
CREATE TABLE whoami_log (u text);
CREATE OR REPLACE FUNCTION whoami(p jsonb) RETURNS jsonb LANGUAGE sql AS $$
  INSERT INTO whoami_log VALUES (current_user::text) RETURNING jsonb_build_object('user', u) $$;
GRANT INSERT, SELECT ON whoami_log TO fn_alice;
SELECT outbox.run_due_work() AS ran;
SELECT u AS ran_as FROM whoami_log;
SELECT count(*) AS items_left FROM outbox.due_item;
REVOKE EXECUTE ON FUNCTION h_ok(jsonb) FROM PUBLIC;
SET ROLE fn_alice;
SELECT pg_temp.err($$SELECT outbox.invoke('h_ok(jsonb)', '{}', 'Event')$$);
RESET ROLE;

-- run_due_work checks its arguments
SELECT pg_temp.err($$SELECT outbox.run_due_work(0)$$);
SELECT pg_temp.err($$SELECT outbox.run_due_work(10, 0)$$);

DROP FUNCTION peek(jsonb), whoami(jsonb);
DROP TABLE whoami_log;
DROP ROLE fn_alice;
