-- Parallel and Map states in executions: branch and item threads, outputs
-- in declaration/item order whatever order they finish in, a failing
-- branch or iteration failing the state (siblings aborted) and caught,
-- ItemsPath/ItemSelector/$$.Map.Item, MaxConcurrency, an empty array,
-- tolerated failures, Retry of a whole Parallel.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_outbox;
RESET client_min_messages;
\set VERBOSITY terse
\i sql/include/sfn_helpers.sql
-- the history's types, with the branch or item index where there is one
CREATE FUNCTION pg_temp.events(machine text, name text) RETURNS TABLE (id int, type text, detail text) LANGUAGE sql AS $$
  SELECT id, type, coalesce(details ->> 'index', details ->> 'length', details ->> 'name')
    FROM outbox.get_execution_history(pg_temp.arn(machine, name)) ORDER BY id $$;

CREATE TABLE visits (n serial, item jsonb);
CREATE FUNCTION add(p jsonb) RETURNS jsonb LANGUAGE sql AS $$ SELECT to_jsonb((p ->> 0)::int + (p ->> 1)::int) $$;
CREATE FUNCTION subtract(p jsonb) RETURNS jsonb LANGUAGE sql AS $$ SELECT to_jsonb((p ->> 0)::int - (p ->> 1)::int) $$;
CREATE FUNCTION visit(p jsonb) RETURNS jsonb LANGUAGE sql AS $$ INSERT INTO visits (item) VALUES (p) RETURNING item $$;
CREATE FUNCTION check_item(p jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
  IF p ? 'bad' THEN PERFORM outbox.raise_task_error('BadItem', 'item ' || (p ->> 'bad') || ' is bad'); END IF;
  RETURN p;
END $$;

-- The developer guide's Parallel example (FunWithMath): both branches get [3, 2];
-- the output is [5, 1] in branch order although the Add branch (behind a Wait) ends last
SELECT outbox.create_state_machine('exec-par-math', '{"Comment": "Parallel Example.", "StartAt": "FunWithMath", "States": {
  "FunWithMath": {"Type": "Parallel", "End": true, "Branches": [
    {"StartAt": "Slowly", "States": {"Slowly": {"Type": "Wait", "Seconds": 5, "Next": "Add"},
                                     "Add": {"Type": "Task", "Resource": "function:add", "End": true}}},
    {"StartAt": "Subtract", "States": {"Subtract": {"Type": "Task", "Resource": "function:subtract", "End": true}}}]}}}') IS NOT NULL AS created;
SELECT outbox.start_execution('exec-par-math', '[3, 2]', 'm1') IS NOT NULL AS started;
SELECT pg_temp.drive();
SELECT pg_temp.outcome('exec-par-math', 'm1') ->> 'status' AS status_while_waiting;
SELECT pg_temp.tick(5); SELECT pg_temp.drive();
SELECT pg_temp.outcome('exec-par-math', 'm1');
SELECT * FROM pg_temp.events('exec-par-math', 'm1');

-- Parameters, ResultSelector and ResultPath around a Parallel
SELECT outbox.create_state_machine('exec-par-paths', '{"StartAt": "Both", "States": {
  "Both": {"Type": "Parallel", "Parameters": {"pair.$": "$.numbers"}, "ResultSelector": {"sum.$": "$[0]", "difference.$": "$[1]"},
           "ResultPath": "$.math", "End": true, "Branches": [
    {"StartAt": "Add", "States": {"Add": {"Type": "Task", "Resource": "function:add", "InputPath": "$.pair", "End": true}}},
    {"StartAt": "Subtract", "States": {"Subtract": {"Type": "Task", "Resource": "function:subtract", "InputPath": "$.pair", "End": true}}}]}}}') IS NOT NULL AS created;
SELECT outbox.start_execution('exec-par-paths', '{"numbers": [10, 4], "keep": true}', 'p1') IS NOT NULL AS started;
SELECT pg_temp.drive();
SELECT pg_temp.outcome('exec-par-paths', 'p1');

-- a failing branch (a Fail state) fails the Parallel with the branch's error; the other
-- branch, waiting, is aborted; the Parallel's Catch takes it (a specific name, then States.ALL)
SELECT outbox.create_state_machine('exec-par-fail', '{"StartAt": "Lookup", "States": {
  "Lookup": {"Type": "Parallel", "Next": "Done", "Branches": [
      {"StartAt": "LookupAddress", "States": {"LookupAddress": {"Type": "Wait", "Seconds": 60, "End": true}}},
      {"StartAt": "LookupPhone", "States": {"LookupPhone": {"Type": "Fail", "Error": "PhoneNotFound", "Cause": "no phone on file"}}}],
    "Catch": [{"ErrorEquals": ["AddressNotFound"], "Next": "Wrong"},
              {"ErrorEquals": ["PhoneNotFound"], "ResultPath": "$.error", "Next": "Done"}]},
  "Wrong": {"Type": "Fail"},
  "Done": {"Type": "Succeed"}}}') IS NOT NULL AS created;
SELECT outbox.start_execution('exec-par-fail', '{"customer": 42}', 'f1') IS NOT NULL AS started;
SELECT pg_temp.drive();
SELECT pg_temp.outcome('exec-par-fail', 'f1');
SELECT * FROM pg_temp.events('exec-par-fail', 'f1');
-- the aborted branch's Wait never comes back
SELECT pg_temp.tick(60); SELECT pg_temp.drive();
SELECT count(*) AS events FROM outbox.get_execution_history(pg_temp.arn('exec-par-fail', 'f1'));
-- uncaught: the execution fails with the branch's error
SELECT outbox.create_state_machine('exec-par-uncaught', '{"StartAt": "P", "States": {
  "P": {"Type": "Parallel", "End": true, "Branches": [
    {"StartAt": "Ok", "States": {"Ok": {"Type": "Pass", "End": true}}},
    {"StartAt": "Bad", "States": {"Bad": {"Type": "Task", "Resource": "function:check_item", "End": true}}}]}}}') IS NOT NULL AS created;
SELECT outbox.start_execution('exec-par-uncaught', '{"bad": 1}', 'u1') IS NOT NULL AS started;
SELECT pg_temp.drive();
SELECT pg_temp.outcome('exec-par-uncaught', 'u1');

-- Retry on a Parallel reruns every branch
SELECT outbox.create_state_machine('exec-par-retry', '{"StartAt": "P", "States": {
  "P": {"Type": "Parallel", "End": true, "Retry": [{"ErrorEquals": ["BadItem"], "IntervalSeconds": 2, "MaxAttempts": 1}], "Branches": [
    {"StartAt": "Visit", "States": {"Visit": {"Type": "Task", "Resource": "function:visit", "End": true}}},
    {"StartAt": "Bad", "States": {"Bad": {"Type": "Task", "Resource": "function:check_item", "End": true}}}]}}}') IS NOT NULL AS created;
SELECT outbox.start_execution('exec-par-retry', '{"bad": 2}', 'r1') IS NOT NULL AS started;
SELECT pg_temp.drive(); SELECT pg_temp.tick(2); SELECT pg_temp.drive();
SELECT pg_temp.outcome('exec-par-retry', 'r1');
SELECT count(*) AS visits FROM visits WHERE item = '{"bad": 2}';

-- The developer guide's Map example: InputPath, ItemsPath, ItemSelector with $$.Map.Item.Value,
-- results placed by ResultPath in item order
SELECT outbox.create_state_machine('exec-map-ship', '{"StartAt": "Validate-All", "States": {
  "Validate-All": {"Type": "Map", "InputPath": "$.detail", "ItemsPath": "$.shipped", "MaxConcurrency": 0,
    "ItemSelector": {"parcel.$": "$$.Map.Item.Value", "courier.$": "$.delivery-partner"},
    "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "Validate", "States": {
      "Validate": {"Type": "Task", "Resource": "function:visit", "ResultSelector": {"prod.$": "$.parcel.prod", "by.$": "$.courier"}, "End": true}}},
    "ResultPath": "$.detail.shipped", "End": true}}}') IS NOT NULL AS created;
SELECT outbox.start_execution('exec-map-ship', '{"ship-date": "2016-03-14T01:59:00Z", "detail": {"delivery-partner": "UQS", "shipped": [
  {"prod": "R31", "dest-code": 9511, "quantity": 1344}, {"prod": "S39", "dest-code": 9511, "quantity": 40},
  {"prod": "R31", "dest-code": 9833, "quantity": 12}, {"prod": "R40", "dest-code": 9860, "quantity": 887},
  {"prod": "R40", "dest-code": 9511, "quantity": 1220}]}}', 's1') IS NOT NULL AS started;
SELECT pg_temp.drive();
SELECT jsonb_pretty(pg_temp.outcome('exec-map-ship', 's1'));
SELECT item FROM visits WHERE item ? 'parcel' ORDER BY item #>> '{parcel,quantity}';
SELECT * FROM pg_temp.events('exec-map-ship', 's1') WHERE id <= 6;

-- The guide's context object example: $$.Map.Item.Index and Value in the ItemSelector (Iterator, the older name)
SELECT outbox.create_state_machine('exec-map-context', '{"StartAt": "ExampleMapState", "States": {
  "ExampleMapState": {"Type": "Map", "ItemSelector": {"ContextIndex.$": "$$.Map.Item.Index", "ContextValue.$": "$$.Map.Item.Value"},
    "Iterator": {"StartAt": "TestPass", "States": {"TestPass": {"Type": "Pass", "End": true}}}, "End": true}}}') IS NOT NULL AS created;
SELECT outbox.start_execution('exec-map-context', '[{"who": "bob"}, {"who": "meg"}, {"who": "joe"}]', 'c1') IS NOT NULL AS started;
SELECT pg_temp.drive();
SELECT pg_temp.outcome('exec-map-context', 'c1');

-- results in item order whatever order the items end in (each waits .seconds)
SELECT outbox.create_state_machine('exec-map-order', '{"StartAt": "M", "States": {
  "M": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrencyPath": "$.limit", "End": true,
    "ItemProcessor": {"StartAt": "Sleep", "States": {"Sleep": {"Type": "Wait", "SecondsPath": "$.seconds", "Next": "Echo"},
                                                     "Echo": {"Type": "Pass", "Parameters": {"done.$": "$.seconds"}, "End": true}}}}}}') IS NOT NULL AS created;
SELECT outbox.start_execution('exec-map-order', '{"limit": 0, "items": [{"seconds": 3}, {"seconds": 1}, {"seconds": 2}]}', 'all') IS NOT NULL AS started;
SELECT pg_temp.drive();
SELECT pg_temp.tick(1); SELECT pg_temp.drive(); SELECT pg_temp.tick(1); SELECT pg_temp.drive(); SELECT pg_temp.tick(1); SELECT pg_temp.drive();
SELECT pg_temp.outcome('exec-map-order', 'all');
SELECT type, detail FROM pg_temp.events('exec-map-order', 'all') WHERE type LIKE 'Map%';
-- MaxConcurrency 1: one item at a time, in order (item 1 starts when item 0 has ended)
SELECT outbox.start_execution('exec-map-order', '{"limit": 1, "items": [{"seconds": 3}, {"seconds": 1}, {"seconds": 2}]}', 'one') IS NOT NULL AS started;
SELECT pg_temp.drive();
SELECT pg_temp.tick(3); SELECT pg_temp.drive();
SELECT string_agg(type || coalesce(' ' || detail, ''), ', ') AS after_3s FROM pg_temp.events('exec-map-order', 'one') WHERE type LIKE 'MapIteration%';
SELECT pg_temp.tick(1); SELECT pg_temp.drive(); SELECT pg_temp.tick(2); SELECT pg_temp.drive();
SELECT pg_temp.outcome('exec-map-order', 'one');
SELECT type, detail FROM pg_temp.events('exec-map-order', 'one') WHERE type LIKE 'Map%';

-- an empty array gives [] at once; ItemsPath on something else is States.Runtime
SELECT outbox.start_execution('exec-map-order', '{"limit": 0, "items": []}', 'empty') IS NOT NULL AS started;
SELECT outbox.start_execution('exec-map-order', '{"limit": 0, "items": {"seconds": 1}}', 'not-array') IS NOT NULL AS started;
SELECT pg_temp.drive();
SELECT pg_temp.outcome('exec-map-order', 'empty');
SELECT type, detail FROM pg_temp.events('exec-map-order', 'empty');
SELECT pg_temp.outcome('exec-map-order', 'not-array') - 'cause' AS outcome;

-- a failing iteration fails the Map (the others are aborted) and the Map's Catch takes it
SELECT outbox.create_state_machine('exec-map-fail', '{"StartAt": "M", "States": {
  "M": {"Type": "Map", "End": true, "Catch": [{"ErrorEquals": ["BadItem"], "ResultPath": "$", "Next": "Handled"}],
    "ItemProcessor": {"StartAt": "Slow", "States": {"Slow": {"Type": "Wait", "SecondsPath": "$.wait", "Next": "Check"},
                                                    "Check": {"Type": "Task", "Resource": "function:check_item", "End": true}}}},
  "Handled": {"Type": "Pass", "End": true}}}') IS NOT NULL AS created;
SELECT outbox.start_execution('exec-map-fail', '[{"wait": 10}, {"wait": 0, "bad": 1}, {"wait": 10}]', 'mf1') IS NOT NULL AS started;
SELECT pg_temp.drive();
SELECT pg_temp.outcome('exec-map-fail', 'mf1');
SELECT type, detail FROM pg_temp.events('exec-map-fail', 'mf1') WHERE type LIKE 'Map%' OR type LIKE '%Aborted' OR type = 'TaskFailed';
SELECT pg_temp.tick(10); SELECT pg_temp.drive();
SELECT count(*) AS wait_exits FROM outbox.get_execution_history(pg_temp.arn('exec-map-fail', 'mf1')) WHERE type = 'WaitStateExited';  -- only item 1's zero-second Wait

-- tolerated failures (AWS has ToleratedFailureCount on Distributed Maps; pg_outbox runs Maps
-- inline and honours it there): up to the count the Map succeeds; one more failure is
-- States.ExceedToleratedFailureThreshold
SELECT outbox.create_state_machine('exec-map-tolerate', '{"StartAt": "M", "States": {
  "M": {"Type": "Map", "ToleratedFailureCount": 1, "End": true,
    "ItemProcessor": {"StartAt": "Check", "States": {"Check": {"Type": "Task", "Resource": "function:check_item", "End": true}}}}}}') IS NOT NULL AS created;
SELECT outbox.start_execution('exec-map-tolerate', '[{"ok": 1}, {"bad": 2}, {"ok": 3}]', 'one-bad') IS NOT NULL AS started;
SELECT outbox.start_execution('exec-map-tolerate', '[{"bad": 1}, {"bad": 2}, {"ok": 3}]', 'two-bad') IS NOT NULL AS started;
SELECT pg_temp.drive();
SELECT o ->> 'status' AS status, jsonb_array_length(o -> 'output') AS results, o -> 'output' -> 0 AS first, o -> 'output' -> 2 AS last
  FROM pg_temp.outcome('exec-map-tolerate', 'one-bad') o;
SELECT pg_temp.outcome('exec-map-tolerate', 'two-bad') - 'cause' AS outcome;

SELECT pg_temp.drive();
SELECT outbox.delete_state_machine(m) FROM unnest('{exec-par-math,exec-par-paths,exec-par-fail,exec-par-uncaught,exec-par-retry,exec-map-ship,exec-map-context,exec-map-order,exec-map-fail,exec-map-tolerate}'::text[]) m;
DROP TABLE visits;
DROP FUNCTION add(jsonb), subtract(jsonb), visit(jsonb), check_item(jsonb);
