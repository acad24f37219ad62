-- Executions of STANDARD state machines without tasks: Pass, Choice, Wait,
-- Succeed and Fail run by start_execution and the due work; describe,
-- list and history as AWS's DescribeExecution, ListExecutions and
-- GetExecutionHistory; name idempotency; stop; the execution timeout;
-- bad arguments.  The movable clock drives the Wait states.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_outbox;
RESET client_min_messages;
\set VERBOSITY terse
CREATE FUNCTION pg_temp.err(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN EXECUTE sql; RETURN 'ok'; EXCEPTION WHEN OTHERS THEN RETURN SQLSTATE || ': ' || SQLERRM; END $$;
-- run the due work until nothing more is due now
CREATE FUNCTION pg_temp.drive() RETURNS void LANGUAGE plpgsql AS $$
BEGIN FOR i IN 1..50 LOOP EXIT WHEN outbox.run_due_work() = 0; END LOOP; END $$;
CREATE FUNCTION pg_temp.tick(s int) RETURNS void LANGUAGE sql AS $$
  SELECT outbox.advance_clock(make_interval(secs => s)) $$;
-- an execution's description without its dates
CREATE FUNCTION pg_temp.descr(arn text) RETURNS jsonb LANGUAGE sql AS $$
  SELECT outbox.describe_execution(arn) - '{startDate,stopDate,redriveDate}'::text[] $$;
CREATE FUNCTION pg_temp.arn(machine text, name text) RETURNS text LANGUAGE sql AS $$
  SELECT 'arn:aws:states:local:000000000000:execution:' || machine || ':' || name $$;

-- The AWS developer guide's ResultPath example ("Use ResultPath to include the
-- result with the input"), a Wait, a Choice and the two ends.
SELECT outbox.create_state_machine('exec-basic', '{
  "Comment": "Pass, Wait, Choice, Succeed, Fail",
  "StartAt": "Hello",
  "States": {
    "Hello": {"Type": "Pass", "Result": "Hello, AWS Step Functions!", "ResultPath": "$.taskresult", "Next": "Pause"},
    "Pause": {"Type": "Wait", "Seconds": 10, "Next": "Route"},
    "Route": {"Type": "Choice",
              "Choices": [{"Variable": "$.details", "StringEquals": "Default example", "Next": "Done"},
                          {"Variable": "$.details", "StringMatches": "fail*", "Next": "Broken"}],
              "Default": "Shape"},
    "Shape": {"Type": "Pass", "InputPath": "$.who", "Parameters": {"who.$": "$", "run.$": "$$.Execution.Name",
              "state.$": "$$.State.Name", "machine.$": "$$.StateMachine.Name", "first.$": "$$.Execution.Input.details"},
              "ResultPath": "$.shaped", "OutputPath": "$.shaped", "Next": "Done"},
    "Done": {"Type": "Succeed"},
    "Broken": {"Type": "Fail", "ErrorPath": "$.details", "CausePath": "$.comment"}}}');
SELECT outbox.start_execution('exec-basic', '{"comment": "This is a test of the input and output of a Task state.",
  "details": "Default example", "who": "AWS Step Functions"}', 'run-1');
-- nothing ran yet: only ExecutionStarted
SELECT pg_temp.descr(pg_temp.arn('exec-basic', 'run-1'));
SELECT id, previous_event_id, type, details FROM outbox.get_execution_history(pg_temp.arn('exec-basic', 'run-1'));
SELECT pg_temp.drive();
SELECT id, previous_event_id, type, details FROM outbox.get_execution_history(pg_temp.arn('exec-basic', 'run-1'));
-- the Wait is due 10 seconds after it was entered
SELECT pg_temp.tick(9);
SELECT pg_temp.drive();
SELECT outbox.describe_execution(pg_temp.arn('exec-basic', 'run-1')) ->> 'status' AS after_9s;
SELECT pg_temp.tick(1);
SELECT pg_temp.drive();
SELECT pg_temp.descr(pg_temp.arn('exec-basic', 'run-1'));
SELECT id, previous_event_id, type, details FROM outbox.get_execution_history(pg_temp.arn('exec-basic', 'run-1'));
-- dates: ISO 8601 with milliseconds; the run took the 10 seconds of its Wait
SELECT d ->> 'startDate' ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$' AS iso_start,
       (d ->> 'stopDate')::timestamptz - (d ->> 'startDate')::timestamptz >= '10 s' AS took_10s
  FROM outbox.describe_execution(pg_temp.arn('exec-basic', 'run-1')) AS d;
-- timestamps never go back; the Wait's exit is 10 s after its entry
SELECT bool_and(ts >= prev) AS ordered,
       max(ts) FILTER (WHERE type = 'WaitStateExited') - max(ts) FILTER (WHERE type = 'WaitStateEntered') >= '10 s' AS waited
  FROM (SELECT type, "timestamp" AS ts, lag("timestamp", 1, "timestamp") OVER (ORDER BY id) AS prev
          FROM outbox.get_execution_history(pg_temp.arn('exec-basic', 'run-1'))) AS h;
-- reverse order, and without the execution data (no input, output)
SELECT array_agg(id) AS reversed FROM outbox.get_execution_history(pg_temp.arn('exec-basic', 'run-1'), reverse_order => true);
SELECT id, type, details FROM outbox.get_execution_history(pg_temp.arn('exec-basic', 'run-1'), include_execution_data => false);

-- the other ways: the Default branch (context object values), a Fail with ErrorPath/CausePath
SELECT outbox.start_execution('exec-basic', '{"details": "other", "who": "me"}', 'run-2') IS NOT NULL AS started;
SELECT outbox.start_execution('exec-basic', '{"details": "failing badly", "comment": "as asked"}', 'run-3') IS NOT NULL AS started;
SELECT pg_temp.drive();
SELECT pg_temp.tick(10);
SELECT pg_temp.drive();
SELECT pg_temp.descr(pg_temp.arn('exec-basic', 'run-2'));
SELECT pg_temp.descr(pg_temp.arn('exec-basic', 'run-3'));
-- a Fail state: FailStateEntered then ExecutionFailed (no FailStateExited)
SELECT id, previous_event_id, type, details FROM outbox.get_execution_history(pg_temp.arn('exec-basic', 'run-3'), reverse_order => true) LIMIT 3;

-- ListExecutions: newest first, a status filter, max_results
SELECT name, status, type, stop_date IS NOT NULL AS stopped, redrive_count FROM outbox.list_executions('exec-basic');
SELECT name FROM outbox.list_executions('exec-basic', status_filter => 'FAILED');
SELECT name FROM outbox.list_executions('exec-basic', status_filter => 'RUNNING');
SELECT name FROM outbox.list_executions('arn:aws:states:local:000000000000:stateMachine:exec-basic', max_results => 1);
SELECT pg_temp.err($$SELECT * FROM outbox.list_executions('exec-basic', status_filter => 'DONE')$$);
SELECT pg_temp.err($$SELECT * FROM outbox.list_executions('exec-basic', max_results => 1001)$$);
SELECT pg_temp.err($$SELECT * FROM outbox.list_executions('no-such-machine')$$);

-- Name idempotency (STANDARD): same name and input while running -> the same execution
SELECT outbox.start_execution('exec-basic', '{"details": "x"}', 'same') = pg_temp.arn('exec-basic', 'same') AS started;
SELECT pg_temp.drive();
SELECT outbox.start_execution('exec-basic', '{"details": "x"}', 'same') = pg_temp.arn('exec-basic', 'same') AS same_arn;
SELECT count(*) AS executions_named_same FROM outbox.list_executions('exec-basic') WHERE name = 'same';
SELECT count(*) AS started_events FROM outbox.get_execution_history(pg_temp.arn('exec-basic', 'same')) WHERE type = 'ExecutionStarted';
-- a different input, or a closed execution -> ExecutionAlreadyExists
SELECT pg_temp.err($$SELECT outbox.start_execution('exec-basic', '{"details": "y"}', 'same')$$);
SELECT pg_temp.err($$SELECT outbox.start_execution('exec-basic', '{"details": "Default example"}', 'run-1')$$);
SELECT pg_temp.err($$SELECT outbox.start_execution('exec-basic', '{"comment": "This is a test of the input and output of a Task state.", "details": "Default example", "who": "AWS Step Functions"}', 'run-1')$$);

-- StopExecution: ABORTED, the Wait state aborted; stopping again changes nothing
SELECT outbox.stop_execution(pg_temp.arn('exec-basic', 'same'), 'Operator.Cancel', 'not needed') IS NOT NULL AS stopped;
SELECT pg_temp.descr(pg_temp.arn('exec-basic', 'same'));
SELECT id, previous_event_id, type, details FROM outbox.get_execution_history(pg_temp.arn('exec-basic', 'same'));
SELECT abs(extract(epoch FROM outbox.stop_execution(pg_temp.arn('exec-basic', 'same'), 'Again') -
           (outbox.describe_execution(pg_temp.arn('exec-basic', 'same')) ->> 'stopDate')::timestamptz)) < 0.001 AS same_stop_date;
SELECT outbox.describe_execution(pg_temp.arn('exec-basic', 'same')) ->> 'error' AS error_kept;
-- nothing runs after the stop, even when the Wait comes due
SELECT pg_temp.tick(10);
SELECT pg_temp.drive();
SELECT outbox.describe_execution(pg_temp.arn('exec-basic', 'same')) ->> 'status' AS still_aborted;
SELECT count(*) AS events FROM outbox.get_execution_history(pg_temp.arn('exec-basic', 'same'));

-- no name: a UUID; no input: {}
SELECT regexp_replace(outbox.start_execution('exec-basic'), '[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$', '<uuid>') AS arn;
SELECT outbox.describe_execution(execution_arn) -> 'input' AS input
  FROM outbox.list_executions('exec-basic') WHERE name ~ '^[0-9a-f-]{36}$';
SELECT outbox.start_execution('exec-basic', NULL, 'null-input') IS NOT NULL AS started;
SELECT outbox.describe_execution(pg_temp.arn('exec-basic', 'null-input')) -> 'input' AS input;

-- a start in a transaction that rolls back never happened
BEGIN;
SELECT outbox.start_execution('exec-basic', '{}', 'rolled-back') IS NOT NULL AS started;
ROLLBACK;
SELECT pg_temp.err($$SELECT outbox.describe_execution('arn:aws:states:local:000000000000:execution:exec-basic:rolled-back')$$);
SELECT pg_temp.drive();

-- the developer guide's Pass state example: Result placed by ResultPath
SELECT outbox.create_state_machine('exec-pass', '{"StartAt": "No-op", "States": {
  "No-op": {"Type": "Pass", "Result": {"x-datum": 0.381018, "y-datum": 622.2269926397355}, "ResultPath": "$.coords", "End": true}}}') IS NOT NULL AS created;
SELECT outbox.start_execution('exec-pass', '{"georefOf": "Home"}', 'p1') IS NOT NULL AS started;
SELECT pg_temp.drive();
SELECT outbox.describe_execution(pg_temp.arn('exec-pass', 'p1')) -> 'output' AS output;

-- Choice: no rule matches and no Default -> States.NoChoiceMatched; a missing Variable -> States.Runtime
SELECT outbox.create_state_machine('exec-choice', '{"StartAt": "C", "States": {
  "C": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericGreaterThan": 0, "Next": "Yes"}]},
  "Yes": {"Type": "Succeed"}}}') IS NOT NULL AS created;
SELECT outbox.start_execution('exec-choice', '{"n": -1}', 'no-match') IS NOT NULL AS started;
SELECT outbox.start_execution('exec-choice', '{"m": 1}', 'missing') IS NOT NULL AS started;
SELECT outbox.start_execution('exec-choice', '{"n": "1"}', 'type-mismatch') IS NOT NULL AS started;
SELECT pg_temp.drive();
SELECT name, d ->> 'status' AS status, d ->> 'error' AS error, d ->> 'cause' AS cause
  FROM outbox.list_executions('exec-choice') l, outbox.describe_execution(l.execution_arn) d ORDER BY name;
SELECT type FROM outbox.get_execution_history(pg_temp.arn('exec-choice', 'no-match')) ORDER BY id;

-- Wait by SecondsPath and TimestampPath (a timestamp in the past goes on at once)
SELECT outbox.create_state_machine('exec-wait', '{"StartAt": "BySeconds", "States": {
  "BySeconds": {"Type": "Wait", "SecondsPath": "$.delay", "Next": "ByTimestamp"},
  "ByTimestamp": {"Type": "Wait", "TimestampPath": "$.until", "End": true}}}') IS NOT NULL AS created;
SELECT outbox.start_execution('exec-wait', '{"delay": 5, "until": "2016-03-14T01:59:00Z"}', 'w1') IS NOT NULL AS started;
SELECT outbox.start_execution('exec-wait', '{"delay": -5, "until": "2016-03-14T01:59:00Z"}', 'w2') IS NOT NULL AS started;
SELECT pg_temp.drive();
SELECT pg_temp.tick(4);
SELECT pg_temp.drive();
SELECT outbox.describe_execution(pg_temp.arn('exec-wait', 'w1')) ->> 'status' AS after_4s;
SELECT pg_temp.tick(1);
SELECT pg_temp.drive();
SELECT outbox.describe_execution(pg_temp.arn('exec-wait', 'w1')) ->> 'status' AS after_5s;
SELECT pg_temp.descr(pg_temp.arn('exec-wait', 'w2')) - 'input' AS bad_seconds;

-- the machine's TimeoutSeconds: TIMED_OUT with States.Timeout, not catchable
SELECT outbox.create_state_machine('exec-timeout', '{"TimeoutSeconds": 30, "StartAt": "Long", "States": {
  "Long": {"Type": "Wait", "Seconds": 60, "End": true}}}') IS NOT NULL AS created;
SELECT outbox.start_execution('exec-timeout', '{}', 't1') IS NOT NULL AS started;
SELECT pg_temp.drive();
SELECT pg_temp.tick(29);
SELECT pg_temp.drive();
SELECT outbox.describe_execution(pg_temp.arn('exec-timeout', 't1')) ->> 'status' AS after_29s;
SELECT pg_temp.tick(1);
SELECT pg_temp.drive();
SELECT pg_temp.descr(pg_temp.arn('exec-timeout', 't1'));
SELECT type, details FROM outbox.get_execution_history(pg_temp.arn('exec-timeout', 't1'), reverse_order => true) LIMIT 1;

-- InputPath selecting nothing: States.Runtime fails the execution
SELECT outbox.create_state_machine('exec-runtime', '{"StartAt": "P", "States": {
  "P": {"Type": "Pass", "InputPath": "$.missing", "End": true}}}') IS NOT NULL AS created;
SELECT outbox.start_execution('exec-runtime', '{"present": 1}', 'r1') IS NOT NULL AS started;
SELECT pg_temp.drive();
SELECT d ->> 'status' AS status, d ->> 'error' AS error FROM outbox.describe_execution(pg_temp.arn('exec-runtime', 'r1')) d;

-- bad arguments
SELECT pg_temp.err($$SELECT outbox.start_execution('no-such-machine', '{}')$$);
SELECT pg_temp.err($$SELECT outbox.start_execution('arn:aws:states:local:000000000000:stateMachine:no-such-machine', '{}')$$);
SELECT pg_temp.err($$SELECT outbox.start_execution('exec-basic', '{}', 'has space')$$);
SELECT pg_temp.err($$SELECT outbox.start_execution('exec-basic', '{}', 'a:b')$$);
SELECT pg_temp.err($$SELECT outbox.start_execution('exec-basic', '{}', '')$$);
SELECT pg_temp.err(format('SELECT outbox.start_execution(%L, %L, %L)', 'exec-basic', '{}', repeat('n', 81)));
SELECT pg_temp.err(format('SELECT outbox.start_execution(%L, %L, %L) IS NOT NULL', 'exec-basic', '{}', repeat('n', 80)));
SELECT pg_temp.err($$SELECT outbox.start_execution('exec-basic', '{}', 'a{b')$$);
SELECT replace(pg_temp.err($$SELECT outbox.start_execution('exec-basic', '{}', E'tab\there')$$), chr(9), '<tab>') AS err;
SELECT outbox.start_execution('exec-basic', '{}', 'naïve-名前_1.0') AS non_ascii_is_fine;
SELECT pg_temp.err($$SELECT outbox.start_execution(NULL, '{}')$$);
SELECT pg_temp.err(format('SELECT outbox.start_execution(%L, %L)', 'exec-basic', jsonb_build_object('big', repeat('x', 262144))));
SELECT pg_temp.err($$SELECT outbox.describe_execution('arn:aws:states:local:000000000000:execution:exec-basic:nope')$$);
SELECT pg_temp.err($$SELECT outbox.describe_execution(NULL)$$);
SELECT pg_temp.err($$SELECT * FROM outbox.get_execution_history('arn:aws:states:local:000000000000:execution:exec-basic:nope')$$);
SELECT pg_temp.err($$SELECT outbox.stop_execution('arn:aws:states:local:000000000000:execution:exec-basic:nope')$$);
SELECT pg_temp.err(format('SELECT outbox.stop_execution(%L, %L)', pg_temp.arn('exec-basic', 'run-1'), repeat('e', 257)));
SELECT pg_temp.err($$SELECT outbox.start_sync_execution('exec-basic', '{}')$$);

SELECT pg_temp.drive();
SELECT outbox.delete_state_machine(m) FROM unnest('{exec-basic,exec-pass,exec-choice,exec-wait,exec-timeout,exec-runtime}'::text[]) m;
