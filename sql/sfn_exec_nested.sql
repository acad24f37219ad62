-- Nested Parallel and Map states and their combinations: output shapes and
-- order (Map in Parallel, Parallel in Map, Map in Map with $$.Map.Item.Index),
-- a Catch inside a branch vs on the Parallel, Retry of a Parallel rerunning
-- every branch (nested Map included), a Fail state in a Map iteration,
-- ResultSelector/ResultPath/OutputPath and InputPath/Parameters on Map and
-- Parallel, a looping Choice and a Wait inside branches, the machine's
-- TimeoutSeconds while a branch waits, variables across nested scopes and
-- Assign on a Map, callbacks inside Map iterations under MaxConcurrency,
-- EXPRESS twins of the machines giving the same outputs as STANDARD, and
-- (last, in a transaction rolled back) States.DataLimitExceeded in nested states.
-- No ARN, token or date is printed.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_outbox;
RESET client_min_messages;
\set VERBOSITY terse
\i sql/include/sfn_helpers.sql
-- receive (and delete) the next message of a queue: its body as jsonb
CREATE FUNCTION pg_temp.take(q text) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
  SELECT * INTO r FROM outbox.receive_message(q);
  IF NOT FOUND THEN RETURN NULL; END IF;
  PERFORM outbox.delete_message(q, r.receipt_handle);
  RETURN r.body::jsonb;
END $$;
-- an EXPRESS twin of a STANDARD machine, and a synchronous run of it (status, output, error)
CREATE FUNCTION pg_temp.twin(machine text) RETURNS boolean LANGUAGE sql AS $$
  SELECT outbox.create_state_machine(machine || '-x', (SELECT definition FROM outbox.state_machine WHERE name = machine), 'EXPRESS') IS NOT NULL $$;
CREATE FUNCTION pg_temp.sync(machine text, input jsonb) RETURNS jsonb LANGUAGE sql AS $$
  SELECT jsonb_object_agg(k, v) FROM jsonb_each(outbox.start_sync_execution(machine || '-x', input)) e(k, v)
   WHERE k IN ('status', 'output', 'error') $$;

CREATE TABLE nest_log (n serial, item jsonb);
CREATE FUNCTION nest_log_it(p jsonb) RETURNS jsonb LANGUAGE sql AS $$ INSERT INTO nest_log (item) VALUES (p) RETURNING item $$;
CREATE FUNCTION nest_check(p jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
  IF p ? 'bad' THEN PERFORM outbox.raise_task_error('BadItem', 'item ' || (p ->> 'bad') || ' is bad'); END IF;
  RETURN p;
END $$;
-- fails until nest_log holds p.need rows
CREATE FUNCTION nest_flaky(p jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE c int := (SELECT count(*) FROM nest_log);
BEGIN
  IF c < (p ->> 'need')::int THEN PERFORM outbox.raise_task_error('NotYet', c || ' rows'); END IF;
  RETURN jsonb_build_object('rows', c);
END $$;

-- 1. Shapes: a Parallel whose first branch is a Map of Maps of Parallels, the second a Pass.
-- Each level nests its results as an array in branch/item order; an empty row gives [];
-- the inner ItemSelector sees the outer iteration's input as $ and its own $$.Map.Item
SELECT outbox.create_state_machine('nest-shapes', $json$
{"StartAt": "Outer", "States": {
 "Outer": {"Type": "Parallel", "End": true, "Branches": [
  {"StartAt": "Rows", "States": {"Rows": {"Type": "Map", "ItemsPath": "$.rows", "End": true,
    "ItemSelector": {"row.$": "$$.Map.Item.Index", "cells.$": "$$.Map.Item.Value"},
    "ItemProcessor": {"StartAt": "Cells", "States": {"Cells": {"Type": "Map", "ItemsPath": "$.cells", "End": true,
      "ItemSelector": {"row.$": "$.row", "col.$": "$$.Map.Item.Index", "v.$": "$$.Map.Item.Value"},
      "ItemProcessor": {"StartAt": "Both", "States": {"Both": {"Type": "Parallel", "End": true, "Branches": [
        {"StartAt": "At", "States": {"At": {"Type": "Pass", "Parameters": {"at.$": "States.Format('{},{}', $.row, $.col)"}, "End": true}}},
        {"StartAt": "Val", "States": {"Val": {"Type": "Pass", "InputPath": "$.v", "End": true}}}]}}}}}}}}},
  {"StartAt": "Count", "States": {"Count": {"Type": "Pass", "Parameters": {"rows.$": "States.ArrayLength($.rows)"}, "End": true}}}]}}}
$json$) IS NOT NULL AS created;
SELECT outbox.start_execution('nest-shapes', '{"rows": [["a", "b"], ["c"], []]}', 's1') IS NOT NULL AS started;
SELECT pg_temp.drive();
SELECT pg_temp.outcome('nest-shapes', 's1');
SELECT count(*) FILTER (WHERE type = 'MapIterationStarted') AS iterations, count(*) FILTER (WHERE type = 'ParallelStateStarted') AS parallels,
       count(*) FILTER (WHERE type = 'MapStateStarted') AS maps
  FROM outbox.get_execution_history(pg_temp.arn('nest-shapes', 's1'));

-- 2. A Catch inside a branch keeps the branch (and the Parallel) going: its ResultPath merges
-- the error into the branch state's raw input (not the InputPath selection). A branch
-- without one fails the Parallel, whose own Catch then takes the error (siblings' results lost)
SELECT outbox.create_state_machine('nest-catch', $json$
{"StartAt": "P", "States": {
 "P": {"Type": "Parallel", "ResultPath": "$.results", "Next": "Done",
       "Catch": [{"ErrorEquals": ["BadItem"], "ResultPath": "$.outer", "Next": "Done"}], "Branches": [
  {"StartAt": "Inner", "States": {
     "Inner": {"Type": "Task", "Resource": "function:nest_check", "InputPath": "$.a", "End": true,
               "Catch": [{"ErrorEquals": ["BadItem"], "ResultPath": "$.caught", "Next": "Recovered"}]},
     "Recovered": {"Type": "Pass", "Parameters": {"b.$": "$.b", "error.$": "$.caught.Error"}, "End": true}}},
  {"StartAt": "Plain", "States": {"Plain": {"Type": "Task", "Resource": "function:nest_check", "InputPath": "$.b", "End": true}}}]},
 "Done": {"Type": "Succeed"}}}
$json$) IS NOT NULL AS created;
SELECT outbox.start_execution('nest-catch', '{"a": {"bad": 1}, "b": {"ok": 2}}', 'inner') IS NOT NULL AS started;
SELECT outbox.start_execution('nest-catch', '{"a": {"ok": 1}, "b": {"bad": 2}}', 'outer') IS NOT NULL AS started;
SELECT outbox.start_execution('nest-catch', '{"a": {"bad": 1}, "b": {"bad": 2}}', 'both') IS NOT NULL AS started;
SELECT pg_temp.drive();
SELECT n, pg_temp.outcome('nest-catch', n) FROM unnest('{inner,outer,both}'::text[]) n;

-- 3. Retry on a Parallel reruns every branch, a nested Map's iterations included (their task
-- writes are not undone): branch B waits 1 s, then fails until the log holds 4 rows; the
-- Parallel's Parameters see $$.State.RetryCount
SELECT outbox.create_state_machine('nest-retry', $json$
{"StartAt": "P", "States": {
 "P": {"Type": "Parallel", "End": true, "Retry": [{"ErrorEquals": ["NotYet"], "IntervalSeconds": 2, "MaxAttempts": 1}],
       "Parameters": {"items.$": "$.items", "need.$": "$.need", "try.$": "$$.State.RetryCount"}, "Branches": [
  {"StartAt": "Each", "States": {"Each": {"Type": "Map", "ItemsPath": "$.items", "End": true,
     "ItemProcessor": {"StartAt": "Log", "States": {"Log": {"Type": "Task", "Resource": "function:nest_log_it", "End": true}}}}}},
  {"StartAt": "Later", "States": {"Later": {"Type": "Wait", "Seconds": 1, "Next": "Flaky"},
                                  "Flaky": {"Type": "Task", "Resource": "function:nest_flaky", "End": true}}},
  {"StartAt": "Echo", "States": {"Echo": {"Type": "Pass", "InputPath": "$.try", "End": true}}}]}}}
$json$) IS NOT NULL AS created;
SELECT outbox.start_execution('nest-retry', '{"items": [{"i": 1}, {"i": 2}], "need": 4}', 'r1') IS NOT NULL AS started;
SELECT pg_temp.drive(); SELECT pg_temp.tick(1); SELECT pg_temp.drive();
SELECT pg_temp.outcome('nest-retry', 'r1') ->> 'status' AS after_first_attempt, count(*) AS logged FROM nest_log;
SELECT pg_temp.tick(2); SELECT pg_temp.drive(); SELECT pg_temp.tick(1); SELECT pg_temp.drive();
SELECT pg_temp.outcome('nest-retry', 'r1');
SELECT item, count(*) FROM nest_log GROUP BY item ORDER BY item ->> 'i';

-- 4. A Fail state in a Map iteration fails the Map with the Fail state's error and cause,
-- caught on the Map; with ToleratedFailureCount 1 (a Distributed Map field on AWS, honoured
-- inline by pg_outbox) the failed item leaves {"Error", "Cause"} in its slot
SELECT outbox.create_state_machine('nest-mapfail', $json$
{"StartAt": "M", "States": {
 "M": {"Type": "Map", "ItemsPath": "$.items", "ResultPath": "$.results", "End": true,
       "Catch": [{"ErrorEquals": ["ItemFailed"], "ResultPath": "$.error", "Next": "Caught"}],
       "ItemProcessor": {"StartAt": "Ok?", "States": {
         "Ok?": {"Type": "Choice", "Choices": [{"Variable": "$.ok", "BooleanEquals": true, "Next": "Fine"}], "Default": "Boom"},
         "Fine": {"Type": "Pass", "Result": "fine", "End": true},
         "Boom": {"Type": "Fail", "Error": "ItemFailed", "Cause": "not ok"}}}},
 "Caught": {"Type": "Pass", "End": true}}}
$json$) IS NOT NULL AS created;
SELECT outbox.create_state_machine('nest-mapfail-tol', jsonb_set(definition, '{States,M,ToleratedFailureCount}', '1'))
  IS NOT NULL AS created FROM outbox.state_machine WHERE name = 'nest-mapfail';
SELECT outbox.start_execution(m, '{"items": [{"ok": true}, {"ok": false}, {"ok": true}]}', 'f1') IS NOT NULL AS started
  FROM unnest('{nest-mapfail,nest-mapfail-tol}'::text[]) m;
SELECT pg_temp.drive();
SELECT pg_temp.outcome('nest-mapfail', 'f1');
SELECT pg_temp.outcome('nest-mapfail-tol', 'f1');
SELECT string_agg(type, ' ' ORDER BY id) AS map_events FROM outbox.get_execution_history(pg_temp.arn('nest-mapfail', 'f1'))
 WHERE type ~ '^(Map|Fail)';

-- 5. ResultSelector, ResultPath and OutputPath on a Map; InputPath and Parameters on a
-- Parallel give every branch the same effective input; its ResultPath merges into the
-- Parallel's raw input, not the InputPath selection
SELECT outbox.create_state_machine('nest-select', $json$
{"StartAt": "M", "States": {
 "M": {"Type": "Map", "ItemsPath": "$.nums", "ResultSelector": {"n.$": "States.ArrayLength($)", "all.$": "$[*].twice"},
       "ResultPath": "$.map", "OutputPath": "$.map", "Next": "P",
       "ItemProcessor": {"StartAt": "Twice", "States": {"Twice": {"Type": "Pass", "Parameters": {"twice.$": "States.MathAdd($, $)"}, "End": true}}}},
 "P": {"Type": "Parallel", "InputPath": "$.all", "Parameters": {"list.$": "$", "first.$": "$[0]"},
       "ResultSelector": {"firsts.$": "$[*].first", "second.$": "$[1]"}, "ResultPath": "$.par", "End": true, "Branches": [
  {"StartAt": "B1", "States": {"B1": {"Type": "Pass", "End": true}}},
  {"StartAt": "B2", "States": {"B2": {"Type": "Pass", "End": true}}}]}}}
$json$) IS NOT NULL AS created;
SELECT outbox.start_execution('nest-select', '{"nums": [1, 2, 3], "drop": true}', 'p1') IS NOT NULL AS started;
SELECT pg_temp.drive();
SELECT pg_temp.outcome('nest-select', 'p1');

-- 6. A Choice looping inside one branch while the other waits (SecondsPath); the machine's
-- TimeoutSeconds fires while a branch waits: TIMED_OUT with States.Timeout, uncatchable
SELECT outbox.create_state_machine('nest-loop', $json$
{"TimeoutSeconds": 100, "StartAt": "P", "States": {
 "P": {"Type": "Parallel", "End": true, "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}], "Branches": [
  {"StartAt": "Inc", "States": {
     "Inc": {"Type": "Pass", "Parameters": {"n.$": "States.MathAdd($.n, 1)", "limit.$": "$.limit"}, "Next": "More?"},
     "More?": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericLessThanPath": "$.limit", "Next": "Inc"}], "Default": "Done"},
     "Done": {"Type": "Succeed"}}},
  {"StartAt": "Nap", "States": {"Nap": {"Type": "Wait", "SecondsPath": "$.nap", "Next": "Woke"},
                                "Woke": {"Type": "Pass", "Result": "woke", "End": true}}}]},
 "Caught": {"Type": "Pass", "End": true}}}
$json$) IS NOT NULL AS created;
SELECT outbox.start_execution('nest-loop', '{"n": 0, "limit": 3, "nap": 10}', 'short') IS NOT NULL AS started;
SELECT outbox.start_execution('nest-loop', '{"n": 0, "limit": 3, "nap": 500}', 'long') IS NOT NULL AS started;
SELECT pg_temp.drive(); SELECT pg_temp.tick(9); SELECT pg_temp.drive();
SELECT pg_temp.outcome('nest-loop', 'short') ->> 'status' AS after_9s;
SELECT pg_temp.tick(1); SELECT pg_temp.drive();
SELECT pg_temp.outcome('nest-loop', 'short');
SELECT count(*) AS choices FROM outbox.get_execution_history(pg_temp.arn('nest-loop', 'short')) WHERE type = 'ChoiceStateEntered';
SELECT pg_temp.tick(89); SELECT pg_temp.drive();
SELECT pg_temp.outcome('nest-loop', 'long') ->> 'status' AS after_99s;
SELECT pg_temp.tick(1); SELECT pg_temp.drive();
SELECT pg_temp.outcome('nest-loop', 'long') - 'cause' AS outcome;
SELECT pg_temp.tick(400); SELECT pg_temp.drive();
SELECT type FROM outbox.get_execution_history(pg_temp.arn('nest-loop', 'long'), reverse_order => true) LIMIT 1;
SELECT count(*) AS woke FROM outbox.get_execution_history(pg_temp.arn('nest-loop', 'long')) WHERE type = 'WaitStateExited';

-- 7. Variables: the top level's are read two scopes down (a Parallel in a Map iteration),
-- as is one assigned by the iteration itself; Assign on the Map sees its result (the
-- array), not the ResultPath-merged output, and reassigns a top-level variable at its level
SELECT outbox.create_state_machine('nest-vars', $json$
{"StartAt": "Init", "States": {
 "Init": {"Type": "Pass", "Assign": {"factor": 10, "tag.$": "$.tag"}, "Next": "M"},
 "M": {"Type": "Map", "ItemsPath": "$.items", "ResultPath": "$.res", "Next": "Out",
       "ItemSelector": {"v.$": "$$.Map.Item.Value", "i.$": "$$.Map.Item.Index"},
       "Assign": {"count.$": "States.ArrayLength($)", "firstA.$": "$[0].a", "factor": 20},
       "ItemProcessor": {"StartAt": "Keep", "States": {
         "Keep": {"Type": "Pass", "Assign": {"mine.$": "$.v"}, "Next": "Fan"},
         "Fan": {"Type": "Parallel", "End": true, "ResultSelector": {"a.$": "$[0]", "b.$": "$[1]"}, "Branches": [
           {"StartAt": "R1", "States": {"R1": {"Type": "Pass", "Parameters": {"scaled.$": "States.MathAdd($mine, $factor)", "tag.$": "$tag"}, "End": true}}},
           {"StartAt": "R2", "States": {"R2": {"Type": "Pass", "Parameters": {"i.$": "$.i", "mine.$": "$mine"}, "End": true}}}]}}}},
 "Out": {"Type": "Pass", "Parameters": {"count.$": "$count", "firstA.$": "$firstA", "factor.$": "$factor", "res.$": "$.res"}, "End": true}}}
$json$) IS NOT NULL AS created;
SELECT outbox.start_execution('nest-vars', '{"tag": "t", "items": [1, 2]}', 'v1') IS NOT NULL AS started;
SELECT pg_temp.drive();
SELECT pg_temp.outcome('nest-vars', 'v1');
SELECT details -> 'assignedVariables' AS map_assigned FROM outbox.get_execution_history(pg_temp.arn('nest-vars', 'v1'))
 WHERE type = 'MapStateExited';

-- 8. Callbacks in Map iterations, MaxConcurrency 2: two tokens arrive, the third only
-- when a slot frees; completed b, c, a, the results stay in item order
SELECT outbox.create_queue('nest-q') IS NOT NULL AS queue;
SELECT outbox.create_state_machine('nest-cb', $json$
{"StartAt": "M", "States": {
 "M": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 2, "ResultPath": "$.answers", "End": true,
       "ItemProcessor": {"StartAt": "Ask", "States": {
         "Ask": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken", "ResultPath": "$.answer", "End": true,
                 "Parameters": {"QueueUrl": "nest-q", "MessageBody": {"token.$": "$$.Task.Token", "id.$": "$.id"}}}}}}}}
$json$) IS NOT NULL AS created;
SELECT outbox.start_execution('nest-cb', '{"items": [{"id": "a"}, {"id": "b"}, {"id": "c"}]}', 'c1') IS NOT NULL AS started;
SELECT pg_temp.drive();
CREATE TEMP TABLE nest_tokens AS SELECT m ->> 'id' AS id, m ->> 'token' AS token
  FROM (SELECT pg_temp.take('nest-q') AS m FROM generate_series(1, 3)) t WHERE m IS NOT NULL;
SELECT string_agg(id, ',' ORDER BY id) AS waiting FROM nest_tokens;
SELECT outbox.send_task_success(token, '"B!"') FROM nest_tokens WHERE id = 'b';
SELECT pg_temp.drive();
INSERT INTO nest_tokens SELECT m ->> 'id', m ->> 'token' FROM pg_temp.take('nest-q') m;
SELECT string_agg(id, ',' ORDER BY id) AS all_sent FROM nest_tokens;
SELECT outbox.send_task_success(token, '"C!"') FROM nest_tokens WHERE id = 'c';
SELECT pg_temp.drive();
SELECT pg_temp.outcome('nest-cb', 'c1') ->> 'status' AS still_waiting_for_a;
SELECT outbox.send_task_success(token, '"A!"') FROM nest_tokens WHERE id = 'a';
SELECT pg_temp.drive();
SELECT pg_temp.outcome('nest-cb', 'c1');
-- one iteration's task fails: the Map fails, the sibling waiting on its callback is
-- aborted and its token is dead (TaskTimedOut, as for any closed task)
SELECT outbox.start_execution('nest-cb', '{"items": [{"id": "x"}, {"id": "y"}]}', 'c2') IS NOT NULL AS started;
SELECT pg_temp.drive();
TRUNCATE nest_tokens;
INSERT INTO nest_tokens SELECT m ->> 'id', m ->> 'token' FROM (SELECT pg_temp.take('nest-q') AS m FROM generate_series(1, 2)) t;
SELECT outbox.send_task_failure(token, 'Rejected', 'y said no') FROM nest_tokens WHERE id = 'y';
SELECT pg_temp.drive();
SELECT pg_temp.outcome('nest-cb', 'c2');
SELECT split_part(pg_temp.err(format('SELECT outbox.send_task_success(%L, %L)', token, '"late"')), ':', 2) AS x_token FROM nest_tokens WHERE id = 'x';
SELECT string_agg(type, ' ' ORDER BY id) AS map_events FROM outbox.get_execution_history(pg_temp.arn('nest-cb', 'c2'))
 WHERE type ~ '^(Map|TaskStateAborted|TaskFailed)';

-- 9. EXPRESS twins, run synchronously, end as the STANDARD runs did
SELECT pg_temp.twin(m) FROM unnest('{nest-shapes,nest-catch,nest-mapfail,nest-mapfail-tol,nest-select,nest-vars}'::text[]) m;
SELECT m, n, pg_temp.sync(m, i) = pg_temp.outcome(m, n) AS same
  FROM (VALUES ('nest-shapes', 's1', '{"rows": [["a", "b"], ["c"], []]}'::jsonb),
               ('nest-catch', 'inner', '{"a": {"bad": 1}, "b": {"ok": 2}}'), ('nest-catch', 'outer', '{"a": {"ok": 1}, "b": {"bad": 2}}'),
               ('nest-catch', 'both', '{"a": {"bad": 1}, "b": {"bad": 2}}'),
               ('nest-mapfail', 'f1', '{"items": [{"ok": true}, {"ok": false}, {"ok": true}]}'),
               ('nest-mapfail-tol', 'f1', '{"items": [{"ok": true}, {"ok": false}, {"ok": true}]}'),
               ('nest-select', 'p1', '{"nums": [1, 2, 3], "drop": true}'), ('nest-vars', 'v1', '{"tag": "t", "items": [1, 2]}')) AS t(m, n, i);
SELECT pg_temp.sync('nest-vars', '{"tag": "x", "items": [5]}') AS vars_x;

SELECT pg_temp.drive();
SELECT outbox.delete_state_machine(m || x) FROM unnest('{nest-shapes,nest-catch,nest-retry,nest-mapfail,nest-mapfail-tol,nest-select,nest-loop,nest-vars,nest-cb}'::text[]) m,
  unnest('{"",-x}'::text[]) x;
SELECT outbox.delete_queue('nest-q');
WITH x AS (DELETE FROM outbox.execution WHERE state_machine LIKE 'nest-%' RETURNING execution_id),
     t AS (DELETE FROM outbox.execution_thread WHERE execution_id IN (SELECT execution_id FROM x))
DELETE FROM outbox.execution_event WHERE execution_id IN (SELECT execution_id FROM x);
SELECT outbox.run_sfn_maintenance() >= 0 AS cleaned;
DROP TABLE nest_log, nest_tokens;
DROP FUNCTION nest_log_it(jsonb), nest_check(jsonb), nest_flaky(jsonb);

-- 10. Last, in a transaction rolled back (nothing stays behind): 256 KiB in nested states.
-- States.DataLimitExceeded is terminal: neither the Map's nor the Parallel's States.ALL
-- retriers and catchers take it, whether a task in an iteration returns too much or the
-- Map's combined result is too big although each item's is not; the same in EXPRESS
BEGIN;
CREATE FUNCTION nest_big(p jsonb) RETURNS jsonb LANGUAGE sql AS $$ SELECT to_jsonb(repeat('x', (p #>> '{}')::int)) $$;
SELECT outbox.create_state_machine('nest-big', $json$
{"StartAt": "P", "States": {
 "P": {"Type": "Parallel", "End": true, "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
       "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1}], "Branches": [
  {"StartAt": "M", "States": {"M": {"Type": "Map", "End": true, "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "MapCaught"}],
      "ItemProcessor": {"StartAt": "Big", "States": {"Big": {"Type": "Task", "Resource": "function:nest_big", "End": true}}}},
     "MapCaught": {"Type": "Pass", "End": true}}}]},
 "Caught": {"Type": "Pass", "End": true}}}
$json$) IS NOT NULL AS created;
SELECT pg_temp.twin('nest-big');
SELECT outbox.start_execution('nest-big', '[100000, 100000]', 'fits') IS NOT NULL AS started;
SELECT outbox.start_execution('nest-big', '[262145]', 'task') IS NOT NULL AS started;
SELECT pg_temp.drive(); SELECT pg_temp.tick(1); SELECT pg_temp.drive();
SELECT o ->> 'status' AS status, length(o::text) AS size FROM pg_temp.outcome('nest-big', 'fits') o;
SELECT pg_temp.outcome('nest-big', 'task') - 'cause' AS outcome, string_agg(type, ' ' ORDER BY id) AS ends
  FROM outbox.get_execution_history(pg_temp.arn('nest-big', 'task')) WHERE type ~ '^(Map|Parallel|Execution).*(Failed|Exited)$';
SELECT pg_temp.sync('nest-big', '[262145]') AS task_x;
SELECT outbox.start_execution('nest-big', '[100000, 100000, 100000]', 'map') IS NOT NULL AS started;
SELECT pg_temp.drive(); SELECT pg_temp.tick(1); SELECT pg_temp.drive();
SELECT pg_temp.outcome('nest-big', 'map') - 'cause' AS outcome, count(*) AS tasks
  FROM outbox.get_execution_history(pg_temp.arn('nest-big', 'map')) WHERE type = 'TaskScheduled';
SELECT pg_temp.sync('nest-big', '[100000, 100000, 100000]') AS map_x;
ROLLBACK;
