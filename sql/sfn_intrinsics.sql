-- Parameters templates: paths into the input and the context object, and
-- every intrinsic function with its edge cases and failures.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_outbox;
RESET client_min_messages;
CREATE FUNCTION pg_temp.p(params jsonb, input jsonb DEFAULT '{"a": 1, "s": "x,y.z", "arr": [1, 2, 2, 3], "o": {"k": "v"}, "n": null}')
RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  RETURN outbox.test_state_parameters(params, input, '{"Execution": {"Name": "run-1"}, "State": {"Name": "S"}}')::text;
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- paths and plain values
SELECT pg_temp.p('{"x.$": "$.a", "name.$": "$$.Execution.Name", "whole.$": "$", "fixed": {"deep": [1, {"k.$": "$.o.k"}]}, "arr.$": "$.arr[1]", "all.$": "$.arr[*]"}');
SELECT pg_temp.p('{"x.$": "$.missing"}');
SELECT pg_temp.p('{"x.$": "$$.Nope"}');
SELECT pg_temp.p('{"x.$": 7}');
SELECT pg_temp.p('{"n.$": "$.n", "q.$": "$[''o''][''k'']"}');

-- every function
SELECT f, pg_temp.p(jsonb_build_object('r.$', f)) AS result FROM unnest(ARRAY[
  'States.Format(''Hello, {}! You are {} ({})'', $$.Execution.Name, $.a, $.n)',
  'States.Format(''a literal \{\} and {}'', ''x'')',
  'States.StringToJson(''{"k": [1, 2]}'')',
  'States.JsonToString($.o)',
  'States.Array(1, ''two'', $.o, true, null)',
  'States.Array()',
  'States.ArrayPartition($.arr, 3)',
  'States.ArrayContains($.arr, 2)',
  'States.ArrayContains(States.Array($.o), $.o)',
  'States.ArrayRange(1, 9, 2)',
  'States.ArrayRange(5, 1, -2)',
  'States.ArrayGetItem($.arr, 3)',
  'States.ArrayLength($.arr)',
  'States.ArrayUnique($.arr)',
  'States.Base64Encode(''Data to encode'')',
  'States.Base64Decode(''RGF0YSB0byBlbmNvZGU='')',
  'States.Hash(''input data'', ''MD5'')',
  'States.Hash(''input data'', ''SHA-1'')',
  'States.Hash(''input data'', ''SHA-256'')',
  'States.Hash(''input data'', ''SHA-384'')',
  'States.Hash(''input data'', ''SHA-512'')',
  'States.JsonMerge($.o, States.StringToJson(''{"k": "w", "m": 1}''), false)',
  'States.MathRandom(1, 1000, 42)',
  'States.MathAdd($.a, -11)',
  'States.StringSplit($.s, '',.'')',
  'States.StringSplit(''a,,b'', '','')',
  'States.ArrayLength(States.ArrayUnique(States.Array(1, 1, 2)))',
  'States.Format(''{}'', ''it\''s'')'
  ]) f;
SELECT pg_temp.p('{"r.$": "States.MathRandom(1, 1000, 42)"}') = pg_temp.p('{"r.$": "States.MathRandom(1, 1000, 42)"}') AS seeded_repeats;
SELECT (pg_temp.p('{"r.$": "States.MathRandom(10, 11)"}')::jsonb ->> 'r') AS only_value;
SELECT (pg_temp.p('{"r.$": "States.UUID()"}')::jsonb ->> 'r') ~ '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' AS uuid_v4;

-- failures: States.IntrinsicFailure with the reason
SELECT f, pg_temp.p(jsonb_build_object('r.$', f)) AS result FROM unnest(ARRAY[
  'States.Format(''{} {}'', 1)',
  'States.Format(''{}'', 1, 2)',
  'States.Format(''{}'', $.o)',
  'States.StringToJson(''not json'')',
  'States.ArrayPartition($.arr, 0)',
  'States.ArrayRange(1, 2000, 1)',
  'States.ArrayRange(1, 2, 0)',
  'States.ArrayGetItem($.arr, 4)',
  'States.ArrayLength($.o)',
  'States.Base64Decode(''***'')',
  'States.Hash(''x'', ''CRC32'')',
  'States.JsonMerge($.o, $.o, true)',
  'States.MathRandom(5, 5)',
  'States.MathAdd(2147483647, 1)',
  'States.UUID(1)',
  'States.Nope()',
  'States.Format(''unterminated)',
  'States.ArrayLength($.arr',
  'States.ArrayLength($.arr) extra',
  'States.Array(States.Array(States.Array(States.Array(States.Array(States.Array(States.Array(States.Array(States.Array(States.Array(States.Array(1)))))))))))'
  ]) f;
