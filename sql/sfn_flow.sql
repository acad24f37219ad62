-- One state's data flow (test_state): InputPath -> Parameters -> work ->
-- ResultSelector -> ResultPath -> OutputPath, and a Choice's next state.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_outbox;
RESET client_min_messages;
CREATE FUNCTION pg_temp.def() RETURNS jsonb LANGUAGE sql AS $def$ SELECT '{"StartAt": "Task", "States": {
  "Task": {"Type": "Task", "Resource": "function:work", "InputPath": "$.order", "Parameters": {"id.$": "$.id", "run.$": "$$.Execution.Name"},
           "ResultSelector": {"status.$": "$.status"}, "ResultPath": "$.outcome.task", "OutputPath": "$.outcome", "Next": "Pass"},
  "Pass": {"Type": "Pass", "Result": {"fixed": 1}, "ResultPath": "$.extra", "Next": "NullPaths"},
  "NullPaths": {"Type": "Pass", "InputPath": null, "ResultPath": null, "Next": "Replace"},
  "Replace": {"Type": "Pass", "Parameters": {"only.$": "$.a"}, "Next": "Check"},
  "Check": {"Type": "Choice", "Choices": [{"Variable": "$.total", "NumericGreaterThan": 100, "Next": "Big"},
                                          {"Variable": "$.total", "NumericLessThan": 0, "Next": "Strict"}], "Default": "Small"},
  "Strict": {"Type": "Choice", "Choices": [{"Variable": "$.total", "NumericGreaterThan": 100, "Next": "Big"}]},
  "Big": {"Type": "Succeed", "OutputPath": "$.total"},
  "Small": {"Type": "Fail", "Error": "TooSmall", "Cause": "below 100"}}}'::jsonb $def$;
SELECT outbox.test_state(pg_temp.def(), 'Task', '{"order": {"id": 7, "items": 3}, "other": true}', '{"status": "ok", "noise": 1}', '{"Execution": {"Name": "run-1"}}');
SELECT outbox.test_state(pg_temp.def(), 'Pass', '{"a": 1}');
SELECT outbox.test_state(pg_temp.def(), 'NullPaths', '{"a": 1}');
SELECT outbox.test_state(pg_temp.def(), 'Replace', '{"a": 1, "b": 2}');
SELECT outbox.test_state(pg_temp.def(), 'Check', '{"total": 150}');
SELECT outbox.test_state(pg_temp.def(), 'Check', '{"total": 50}');
SELECT outbox.test_state(pg_temp.def(), 'Strict', '{"total": 50}');
SELECT outbox.test_state(pg_temp.def(), 'Big', '{"total": 150}');
SELECT outbox.test_state(pg_temp.def(), 'Small', '{}');
-- ResultPath makes the objects on its way, but a scalar in the way is States.ResultPathMatchFailure
SELECT outbox.test_state('{"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": 42, "ResultPath": "$.a.b.c", "End": true}}}', 'P', '{"a": 1, "z": 0}');
-- errors
CREATE FUNCTION pg_temp.err(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN EXECUTE sql; RETURN 'ok'; EXCEPTION WHEN OTHERS THEN RETURN SQLSTATE || ': ' || SQLERRM; END $$;
SELECT pg_temp.err(format('SELECT outbox.test_state(%L, %L, %L)', pg_temp.def(), 'Task', '{"order": {"id": 7}}'));
SELECT pg_temp.err(format('SELECT outbox.test_state(%L, %L, %L, %L)', pg_temp.def(), 'Task', '{"nothing": 1}', '{}'));
SELECT pg_temp.err(format('SELECT outbox.test_state(%L, %L, %L)', pg_temp.def(), 'Nope', '{}'));
SELECT pg_temp.err($$SELECT outbox.test_state('{"StartAt": "A", "States": {}}', 'A', '{}')$$);
SELECT pg_temp.err(format('SELECT outbox.test_state(%L, %L, %L)', pg_temp.def(), 'Check', '{"total": "lots"}'));
SELECT pg_temp.err(format('SELECT outbox.test_state(%L, %L, %L)', pg_temp.def(), 'Check', '{}'));
SELECT pg_temp.err(format('SELECT outbox.test_state(%L, %L, %L, NULL, %L)', pg_temp.def(), 'Task', '{"order": {"id": 7}}', '{"Execution": {"Name": "r"}}'));
