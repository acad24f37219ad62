-- Variables: Assign on a state (or a catcher) stores values computed from
-- "$" (the state's input; for Task, Parallel and Map their selected result;
-- for a catcher the error output) with the variables as they were when the
-- state was entered; later states read them as $name paths; branches and
-- Map iterations read the variables around them; assignedVariables in
-- the history; a variable never assigned is States.Runtime.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_outbox;
RESET client_min_messages;
\set VERBOSITY terse
\i sql/include/sfn_helpers.sql

CREATE FUNCTION vars_fail(p jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN PERFORM outbox.raise_task_error('Nope', 'no ' || (p->>'what')); RETURN NULL; END $$;

SELECT outbox.create_state_machine('exec-vars', $json$
{"StartAt": "Init", "States": {
 "Init": {"Type": "Pass", "Assign": {"count": 0, "who.$": "$.name", "limit": 3, "items.$": "$.items"}, "Next": "Loop"},
 "Loop": {"Type": "Pass", "Parameters": {"n.$": "States.MathAdd($count, 1)"},
          "Assign": {"count.$": "States.MathAdd($count, 1)", "before.$": "$count"}, "Next": "Check"},
 "Check": {"Type": "Choice", "Choices": [{"Variable": "$count", "NumericLessThanPath": "$limit", "Next": "Loop"}],
           "Default": "Fan"},
 "Fan": {"Type": "Parallel", "ResultSelector": {"first.$": "$[0]"}, "Assign": {"fan.$": "$.first"}, "Next": "Each",
         "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Pass", "Parameters": {"seen.$": "$count", "who.$": "$who"}, "End": true}}}]},
 "Each": {"Type": "Map", "ItemsPath": "$items", "ResultPath": "$.each", "Next": "Try",
          "ItemSelector": {"item.$": "$$.Map.Item.Value", "who.$": "$who"},
          "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "Assign": {"inner.$": "$.item"}, "End": true}}}},
 "Try": {"Type": "Task", "Resource": "function:vars_fail", "Parameters": {"what": "luck"},
         "Catch": [{"ErrorEquals": ["Nope"], "Assign": {"why.$": "$.Cause"}, "ResultPath": null, "Next": "Done"}],
         "Next": "Done"},
 "Done": {"Type": "Pass", "End": true,
          "Parameters": {"count.$": "$count", "before.$": "$before", "fan.$": "$fan", "who.$": "$who", "why.$": "$why",
                         "each.$": "$.each"}}}}
$json$) IS NOT NULL AS created;

SELECT outbox.start_execution('exec-vars', '{"name": "ann", "items": ["a", "b"]}', 'v1') IS NOT NULL AS started;
SELECT pg_temp.drive();
SELECT pg_temp.outcome('exec-vars', 'v1');
SELECT id, type, details->'assignedVariables' AS assigned
  FROM outbox.get_execution_history(pg_temp.arn('exec-vars', 'v1')) WHERE details ? 'assignedVariables' ORDER BY id;

-- an inner assignment stays inside its iteration: "inner" is not visible afterwards
SELECT outbox.create_state_machine('exec-vars-inner', $json$
{"StartAt": "Each", "States": {
 "Each": {"Type": "Map", "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "Assign": {"inner.$": "$"}, "End": true}}},
          "Next": "After"},
 "After": {"Type": "Pass", "Parameters": {"x.$": "$inner"}, "End": true}}}
$json$) IS NOT NULL AS created;
SELECT outbox.start_execution('exec-vars-inner', '[1, 2]', 'v1') IS NOT NULL AS started;
SELECT pg_temp.drive();
SELECT pg_temp.outcome('exec-vars-inner', 'v1');

-- a Choice rule's own Assign, with the state's, when that rule matches
SELECT outbox.create_state_machine('exec-vars-choice', $json$
{"StartAt": "C", "States": {
 "C": {"Type": "Choice", "Assign": {"seen": true},
       "Choices": [{"Variable": "$.n", "NumericGreaterThan": 10, "Assign": {"size": "big"}, "Next": "Out"},
                   {"Variable": "$.n", "NumericGreaterThan": 0, "Assign": {"size": "small", "seen": "twice"}, "Next": "Out"}],
       "Default": "Out"},
 "Out": {"Type": "Pass", "Parameters": {"seen.$": "$seen", "size.$": "$size"}, "End": true}}}
$json$, 'EXPRESS') IS NOT NULL AS created;
SELECT n, r->'output' AS output, r->>'cause' AS cause
  FROM unnest('{20,5,-1}'::int[]) n, LATERAL outbox.start_sync_execution('exec-vars-choice', jsonb_build_object('n', n)) r;
SELECT * FROM pg_temp.err($$SELECT outbox.create_state_machine('exec-vars-bad', '{"StartAt": "C", "States": {"C": {"Type": "Choice",
  "Choices": [{"Not": {"Variable": "$.n", "IsPresent": true, "Assign": {"x": 1}}, "Next": "Out"}], "Default": "Out"},
  "Out": {"Type": "Succeed"}}}')$$);

-- EXPRESS runs keep variables in memory the same way
SELECT outbox.create_state_machine('exec-vars-x', (SELECT definition FROM outbox.state_machine WHERE name = 'exec-vars'),
       'EXPRESS') IS NOT NULL AS created;
SELECT r->'output' AS output FROM outbox.start_sync_execution('exec-vars-x', '{"name": "bob", "items": []}') r;

SELECT outbox.delete_state_machine(m) FROM unnest('{exec-vars,exec-vars-inner,exec-vars-x,exec-vars-choice}'::text[]) m;
DELETE FROM outbox.execution WHERE state_machine IN ('exec-vars', 'exec-vars-inner');
DROP FUNCTION vars_fail(jsonb);
