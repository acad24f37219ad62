-- The Amazon States Language validator: a valid definition has no
-- diagnostics; each structural rule broken gives its code, message and
-- location (a JSON pointer into the definition).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_outbox;
RESET client_min_messages;
CREATE FUNCTION pg_temp.v(d jsonb) RETURNS TABLE (code text, location text, message text) LANGUAGE sql AS $$
  SELECT code, location, message FROM outbox.validate_state_machine_definition(d) $$;

-- valid: every state type, Retry/Catch, a Choice with And/Not, Parallel and Map scopes
SELECT count(*) AS problems FROM pg_temp.v('{
  "Comment": "an order workflow", "StartAt": "Validate", "TimeoutSeconds": 3600, "Version": "1.0",
  "States": {
    "Validate": {"Type": "Task", "Resource": "arn:aws:lambda:local:000000000000:function:validate",
                 "Parameters": {"order.$": "$.order", "at.$": "$$.Execution.StartTime", "n.$": "States.ArrayLength($.items)", "fixed": {"k": 1}},
                 "ResultSelector": {"ok.$": "$.ok"}, "ResultPath": "$.validation", "TimeoutSeconds": 30, "HeartbeatSeconds": 10,
                 "Retry": [{"ErrorEquals": ["States.Timeout"], "IntervalSeconds": 2, "MaxAttempts": 3, "BackoffRate": 1.5, "MaxDelaySeconds": 10, "JitterStrategy": "FULL"},
                           {"ErrorEquals": ["States.ALL"], "MaxAttempts": 1}],
                 "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Failed"}],
                 "Next": "Check"},
    "Check": {"Type": "Choice", "Choices": [
                {"And": [{"Variable": "$.validation.ok", "BooleanEquals": true}, {"Not": {"Variable": "$.total", "NumericGreaterThanPath": "$.limit"}}], "Next": "Items"},
                {"Variable": "$.kind", "StringMatches": "gift*", "Next": "Pause"}],
              "Default": "Failed"},
    "Pause": {"Type": "Wait", "Seconds": 5, "Next": "Items"},
    "Items": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 4, "ItemSelector": {"item.$": "$$.Map.Item.Value"},
              "ItemProcessor": {"StartAt": "Ship", "States": {"Ship": {"Type": "Task", "Resource": "function:ship", "End": true}}},
              "ResultPath": "$.shipped", "Next": "Both"},
    "Both": {"Type": "Parallel", "Branches": [
               {"StartAt": "Bill", "States": {"Bill": {"Type": "Pass", "Result": {"billed": true}, "End": true}}},
               {"StartAt": "Notify", "States": {"Notify": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                   "Parameters": {"QueueUrl": "q", "MessageBody": {"token.$": "$$.Task.Token"}}, "End": true}}}],
             "Next": "Done"},
    "Done": {"Type": "Succeed"},
    "Failed": {"Type": "Fail", "Error": "OrderRejected", "CausePath": "$.error.Cause"}}}');

-- broken ones, one rule each
SELECT * FROM pg_temp.v('[]');
SELECT * FROM pg_temp.v('{}');
SELECT * FROM pg_temp.v('{"StartAt": "A", "States": {}}');
SELECT * FROM pg_temp.v('{"StartAt": "B", "States": {"A": {"Type": "Succeed"}}}');
SELECT * FROM pg_temp.v('{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}}}');
SELECT * FROM pg_temp.v('{"StartAt": "A", "States": {"A": {"Type": "Pass"}}}');
SELECT * FROM pg_temp.v('{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B", "End": true}, "B": {"Type": "Succeed"}}}');
SELECT * FROM pg_temp.v('{"StartAt": "A", "States": {"A": {"Type": "Succeed"}, "Lost": {"Type": "Succeed"}}}');
SELECT * FROM pg_temp.v('{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "Next": "A"}}}');
SELECT * FROM pg_temp.v('{"StartAt": "A", "States": {"A": {"Type": "Sleep", "End": true}}}');
SELECT * FROM pg_temp.v('{"StartAt": "A", "States": {"A": {"End": true}}}');
SELECT * FROM pg_temp.v('{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true, "Resource": "function:x", "Colour": 1}}}');
SELECT * FROM pg_temp.v('{"StartAt": "A", "States": {"A": {"Type": "Succeed", "Next": "A"}}}');
SELECT * FROM pg_temp.v('{"StartAt": "A", "States": {"A": {"Type": "Task", "End": true}}}');
-- resources we cannot run, and Distributed Map, are refused at creation
SELECT * FROM pg_temp.v('{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:putItem", "End": true}}}');
SELECT * FROM pg_temp.v('{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.sync", "End": true}}}');
SELECT * FROM pg_temp.v('{"StartAt": "M", "States": {"M": {"Type": "Map", "End": true, "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, "StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}}}}');
SELECT * FROM pg_temp.v('{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "function:r", "End": true, "TimeoutSeconds": 10, "HeartbeatSeconds": 10}}}');
SELECT * FROM pg_temp.v('{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "function:r", "End": true, "TimeoutSeconds": 0, "TimeoutSecondsPath": "$.t"}}}');
SELECT * FROM pg_temp.v('{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "function:r", "End": true,
  "Retry": [{"ErrorEquals": ["States.ALL", "X"]}, {"ErrorEquals": []}, {"ErrorEquals": ["Y"], "IntervalSeconds": 0, "MaxAttempts": -1, "BackoffRate": 0.5, "JitterStrategy": "SOME"}]}}}');
SELECT * FROM pg_temp.v('{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "function:r", "End": true,
  "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "B"}, {"ErrorEquals": ["X"]}]}, "B": {"Type": "Succeed"}}}');
SELECT * FROM pg_temp.v('{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true, "Retry": []}}}');
SELECT * FROM pg_temp.v('{"StartAt": "A", "States": {"A": {"Type": "Wait", "End": true}}}');
SELECT * FROM pg_temp.v('{"StartAt": "A", "States": {"A": {"Type": "Wait", "Seconds": 1, "Timestamp": "2026-01-01T00:00:00Z", "End": true}}}');
SELECT * FROM pg_temp.v('{"StartAt": "A", "States": {"A": {"Type": "Choice", "Choices": []}}}');
SELECT * FROM pg_temp.v('{"StartAt": "A", "States": {"A": {"Type": "Choice", "Choices": [
   {"Variable": "$.x", "Next": "B"},
   {"Variable": "$.x", "StringEquals": "a", "NumericEquals": 1, "Next": "B"},
   {"StringEquals": "a", "Next": "B"},
   {"And": [{"Variable": "$.x", "IsNull": true, "Next": "B"}], "Next": "B"},
   {"Variable": "$.x[*]", "StringEqualsPath": "$..y", "Next": "B"},
   {"Variable": "$.x", "StringEquals": "a"},
   {"Or": [], "Next": "B"},
   {"Variable": "$.x", "Sounds": "like", "Next": "B"}], "Default": "C"}, "B": {"Type": "Succeed"}}}');
SELECT * FROM pg_temp.v('{"StartAt": "A", "States": {"A": {"Type": "Fail", "Error": "E", "ErrorPath": "$.e", "Cause": "c", "CausePath": "$.c"}}}');
SELECT * FROM pg_temp.v('{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true, "InputPath": "x", "ResultPath": "$.a[*]", "OutputPath": "$.."}}}');
SELECT * FROM pg_temp.v('{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true, "Parameters": {"a.$": "x", "b": {"c.$": "States.Format(''{}'', $.x"}, "d.$": 7}}}}');
SELECT * FROM pg_temp.v('{"StartAt": "A", "States": {"A": {"Type": "Parallel", "End": true, "Branches": [
   {"StartAt": "X", "States": {"X": {"Type": "Pass", "Next": "A"}}},
   {"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}]}}}');
SELECT * FROM pg_temp.v('{"StartAt": "A", "States": {"A": {"Type": "Map", "End": true, "MaxConcurrency": -1,
   "Iterator": {"StartAt": "I", "States": {"I": {"Type": "Succeed"}}}, "ItemProcessor": {"StartAt": "I2", "States": {"I2": {"Type": "Succeed"}}}}}}');
SELECT * FROM pg_temp.v('{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken", "End": true, "Parameters": {"MessageBody": "no token"}}}}');
SELECT * FROM pg_temp.v('{"StartAt": "A", "Version": "2.0", "TimeoutSeconds": -5, "QueryLanguage": "JSONata", "Extra": 1, "States": {"A": {"Type": "Succeed"}}}');
SELECT * FROM pg_temp.v('{"StartAt": "A/b~c", "States": {"A/b~c": {"Type": "Pass", "Next": "missing"}}}');
SELECT pg_temp.v(NULL);

-- state machines: a valid definition is stored; an invalid one is refused with every problem
\set def '{"StartAt": "Hello", "States": {"Hello": {"Type": "Pass", "Result": "hi", "End": true}}}'
SELECT outbox.create_state_machine('hello', :'def');
SELECT outbox.create_state_machine('hello', :'def');                 -- idempotent
SELECT outbox.create_state_machine('arn:aws:states:local:000000000000:stateMachine:fast', :'def', 'EXPRESS');
SELECT name, arn, type FROM outbox.list_state_machines();
SELECT d - 'creationDate' AS described FROM outbox.describe_state_machine('hello') d;
CREATE FUNCTION pg_temp.err(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE detail text;
BEGIN
  EXECUTE sql;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
  RETURN SQLSTATE || ': ' || SQLERRM || coalesce(E'\n' || nullif(detail, ''), '');
END $$;
SELECT pg_temp.err($$SELECT outbox.create_state_machine('bad', '{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "C": {"Type": "Succeed"}}}')$$);
SELECT pg_temp.err($$SELECT outbox.create_state_machine('hello', '{"StartAt": "X", "States": {"X": {"Type": "Succeed"}}}')$$);
SELECT pg_temp.err($$SELECT outbox.create_state_machine('fast', '{"StartAt": "Hello", "States": {"Hello": {"Type": "Pass", "Result": "hi", "End": true}}}')$$);
SELECT pg_temp.err($$SELECT outbox.create_state_machine('has space', '{"StartAt": "X", "States": {"X": {"Type": "Succeed"}}}')$$);
SELECT pg_temp.err($$SELECT outbox.create_state_machine(repeat('m', 81), '{"StartAt": "X", "States": {"X": {"Type": "Succeed"}}}')$$);
SELECT pg_temp.err($$SELECT outbox.create_state_machine('m', '{"StartAt": "X", "States": {"X": {"Type": "Succeed"}}}', 'SLOW')$$);
SELECT pg_temp.err($$SELECT outbox.update_state_machine('nope', '{"StartAt": "X", "States": {"X": {"Type": "Succeed"}}}')$$);
SELECT pg_temp.err($$SELECT outbox.update_state_machine('hello', '{"StartAt": "X"}')$$);
SELECT outbox.update_state_machine('hello', '{"StartAt": "X", "States": {"X": {"Type": "Succeed"}}}');
SELECT d ->> 'revisionId' AS revision, d -> 'definition' AS definition FROM outbox.describe_state_machine('hello') d;
CREATE ROLE sfn_other;
SET ROLE sfn_other;
SELECT count(*) AS sees FROM outbox.list_state_machines();
SELECT pg_temp.err($$SELECT outbox.delete_state_machine('hello')$$);
RESET ROLE;
DROP ROLE sfn_other;
SELECT outbox.delete_state_machine('hello'), outbox.delete_state_machine('fast'), outbox.delete_state_machine('never-was');
SELECT count(*) FROM outbox.list_state_machines();
