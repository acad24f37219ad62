-- A state machine drawn as a graph (render_state_machine_graph): Graphviz
-- DOT or a Mermaid flowchart, a Start and an End per scope, Choice rules
-- and Catch edges labelled, Parallel/Map as clusters, names escaped, and
-- states colored by an execution's status.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_outbox;
RESET client_min_messages;
CREATE FUNCTION pg_temp.err(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN EXECUTE sql; RETURN 'ok'; EXCEPTION WHEN OTHERS THEN RETURN SQLSTATE || ': ' || SQLERRM; END $$;

-- a linear machine, both formats (dot is the default)
SELECT outbox.render_state_machine_graph('{"StartAt": "First", "States": {
  "First": {"Type": "Pass", "Next": "Second"},
  "Second": {"Type": "Pass", "End": true}}}');
SELECT outbox.render_state_machine_graph('{"StartAt": "First", "States": {
  "First": {"Type": "Pass", "Next": "Second"},
  "Second": {"Type": "Pass", "End": true}}}', 'mermaid');

-- a Choice: each rule's edge labelled with the rule (long ones cut to 40 characters), then Default;
-- a Wait, a Succeed to the End, a Fail with no edge out
CREATE FUNCTION pg_temp.choice() RETURNS jsonb LANGUAGE sql AS $def$ SELECT '{"StartAt": "Route", "States": {
  "Route": {"Type": "Choice", "Choices": [
      {"Variable": "$.total", "NumericGreaterThan": 10, "Next": "Big"},
      {"Variable": "$.kind", "StringMatches": "gift*", "Next": "Pause"},
      {"And": [{"Variable": "$.ok", "BooleanEquals": true}, {"Not": {"Variable": "$.total", "NumericGreaterThanPath": "$.limit"}}], "Next": "Big"},
      {"Or": [{"Variable": "$.a", "IsPresent": true}, {"Variable": "$.b", "IsNull": false}], "Next": "Nope"}],
    "Default": "Pause"},
  "Pause": {"Type": "Wait", "Seconds": 1, "Next": "Big"},
  "Big": {"Type": "Succeed"},
  "Nope": {"Type": "Fail", "Error": "No", "Cause": "no"}}}'::jsonb $def$;
SELECT outbox.render_state_machine_graph(pg_temp.choice(), 'dot');
SELECT outbox.render_state_machine_graph(pg_temp.choice(), 'mermaid');

-- Catch edges (dashed, labelled with ErrorEquals); a Task shows its Resource's short form
CREATE FUNCTION pg_temp.catch() RETURNS jsonb LANGUAGE sql AS $def$ SELECT '{"StartAt": "Charge", "States": {
  "Charge": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:charge",
             "Catch": [{"ErrorEquals": ["States.Timeout", "Payment.Declined"], "Next": "Refund"},
                       {"ErrorEquals": ["States.ALL"], "Next": "Failed"}],
             "Next": "Notify"},
  "Notify": {"Type": "Task", "Resource": "arn:aws:states:::sns:publish", "Parameters": {"Message": "paid"}, "Next": "Done"},
  "Refund": {"Type": "Task", "Resource": "function:refund", "End": true},
  "Done": {"Type": "Succeed"},
  "Failed": {"Type": "Fail", "Error": "ChargeFailed"}}}'::jsonb $def$;
SELECT outbox.render_state_machine_graph(pg_temp.catch(), 'dot');
SELECT outbox.render_state_machine_graph(pg_temp.catch(), 'mermaid');

-- Parallel with two branches (a Catch on it), then a Map with ItemProcessor, then one with the older Iterator:
-- clusters inside clusters, a Start and an End per branch and per processor
CREATE FUNCTION pg_temp.nested() RETURNS jsonb LANGUAGE sql AS $def$ SELECT '{"StartAt": "Both", "States": {
  "Both": {"Type": "Parallel", "Branches": [
      {"StartAt": "Bill", "States": {"Bill": {"Type": "Pass", "Next": "Receipt"}, "Receipt": {"Type": "Pass", "End": true}}},
      {"StartAt": "Ship", "States": {"Ship": {"Type": "Task", "Resource": "function:ship", "End": true}}}],
    "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Broken"}],
    "Next": "Items"},
  "Items": {"Type": "Map", "ItemsPath": "$.items",
            "ItemProcessor": {"StartAt": "Pack", "States": {"Pack": {"Type": "Pass", "End": true}}},
            "Next": "Legacy"},
  "Legacy": {"Type": "Map", "Iterator": {"StartAt": "Old", "States": {"Old": {"Type": "Pass", "End": true}}}, "End": true},
  "Broken": {"Type": "Fail"}}}'::jsonb $def$;
SELECT outbox.render_state_machine_graph(pg_temp.nested(), 'dot');
SELECT outbox.render_state_machine_graph(pg_temp.nested(), 'mermaid');

-- awkward names: quotes, backslash, unicode, "-", "#", "<>", "&", "|", backticks, a Choice rule on a quoted string
CREATE FUNCTION pg_temp.names() RETURNS jsonb LANGUAGE sql AS $def$ SELECT $j${"StartAt": "say \"hi\"", "States": {
  "say \"hi\"": {"Type": "Pass", "Next": "back\\slash"},
  "back\\slash": {"Type": "Pass", "Next": "naïve café ☕ 日本"},
  "naïve café ☕ 日本": {"Type": "Choice", "Choices": [{"Variable": "$.s", "StringEquals": "a \"b\" <c>", "Next": "x-y #1 <b> & c | d"}],
                     "Default": "`tick`"},
  "x-y #1 <b> & c | d": {"Type": "Pass", "End": true},
  "`tick`": {"Type": "Pass", "End": true}}}$j$::jsonb $def$;
SELECT outbox.render_state_machine_graph(pg_temp.names(), 'dot');
SELECT outbox.render_state_machine_graph(pg_temp.names(), 'mermaid');

-- an execution's picture: states colored by status (inside branches too), unknown or absent ones plain, a legend
SELECT outbox.render_state_machine_graph(pg_temp.nested(), 'dot',
  '{"Both": "FAILED", "Bill": "SUCCEEDED", "Receipt": "SUCCEEDED", "Ship": "FAILED", "Broken": "caught", "Items": "NOT_RUN", "Legacy": "WHATEVER"}');
SELECT outbox.render_state_machine_graph(pg_temp.catch(), 'mermaid',
  '{"Charge": "CAUGHT", "Refund": "RUNNING", "Notify": "ABORTED", "Done": "TIMED_OUT"}');
-- an empty map: nothing colored, but the legend is drawn
SELECT outbox.render_state_machine_graph('{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}', 'mermaid', '{}');

-- the same input always gives the same text
SELECT outbox.render_state_machine_graph(pg_temp.nested(), 'mermaid', '{"Ship": "RUNNING"}')
     = outbox.render_state_machine_graph(pg_temp.nested(), 'mermaid', '{"Ship": "RUNNING"}') AS deterministic;

-- errors
SELECT pg_temp.err(format('SELECT outbox.render_state_machine_graph(%L, %L)', pg_temp.catch(), 'svg'));
SELECT pg_temp.err($$SELECT outbox.render_state_machine_graph('{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}}}')$$);
SELECT pg_temp.err($$SELECT outbox.render_state_machine_graph('{"States": {}}', 'mermaid')$$);
SELECT pg_temp.err('SELECT outbox.render_state_machine_graph(NULL)');
SELECT pg_temp.err(format('SELECT outbox.render_state_machine_graph(%L, NULL)', pg_temp.catch()));
SELECT pg_temp.err(format('SELECT outbox.render_state_machine_graph(%L, %L, %L)', pg_temp.catch(), 'dot', '["Charge"]'));
SELECT outbox.render_state_machine_graph(pg_temp.catch(), 'png');
