-- Choice rules: every comparison operator and its Path form, type tests,
-- And/Or/Not, strings by code point, timestamps as instants, StringMatches
-- with escapes, type mismatches as false, and the errors.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_outbox;
RESET client_min_messages;
CREATE FUNCTION pg_temp.c(rule jsonb) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  RETURN outbox.test_choice_rule(rule, '{"n": 5, "m": 7, "f": 5.0, "s": "apple", "t": "banana", "u": "Äpfel", "b": true,
    "z": null, "ts": "2026-11-23T10:00:00+02:00", "ts2": "2026-11-23T08:00:00Z", "bad": "2026-13-01T00:00:00Z",
    "file": "report*.csv", "o": {"k": 1}, "arr": [1]}', '{"Execution": {"Name": "run"}}')::text;
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

SELECT r, pg_temp.c(r::jsonb) AS matches FROM unnest(ARRAY[
  '{"Variable": "$.n", "NumericEquals": 5}', '{"Variable": "$.f", "NumericEquals": 5}',
  '{"Variable": "$.n", "NumericLessThan": 5}', '{"Variable": "$.n", "NumericLessThanEquals": 5}',
  '{"Variable": "$.n", "NumericGreaterThan": 4.99}', '{"Variable": "$.n", "NumericGreaterThanEquals": 6}',
  '{"Variable": "$.n", "NumericLessThanPath": "$.m"}', '{"Variable": "$.n", "NumericEqualsPath": "$.f"}',
  '{"Variable": "$.s", "NumericEquals": 5}',
  '{"Variable": "$.s", "StringEquals": "apple"}', '{"Variable": "$.s", "StringLessThan": "banana"}',
  '{"Variable": "$.t", "StringGreaterThanEquals": "banana"}', '{"Variable": "$.u", "StringGreaterThan": "zebra"}',
  '{"Variable": "$.s", "StringLessThanEqualsPath": "$.t"}', '{"Variable": "$.n", "StringEquals": "5"}',
  '{"Variable": "$.s", "StringMatches": "a*e"}', '{"Variable": "$.s", "StringMatches": "*pl*"}',
  '{"Variable": "$.s", "StringMatches": "b*"}', '{"Variable": "$.file", "StringMatches": "report\\*.csv"}',
  '{"Variable": "$.file", "StringMatches": "report\\*.txt"}',
  '{"Variable": "$.b", "BooleanEquals": true}', '{"Variable": "$.b", "BooleanEqualsPath": "$.b"}',
  '{"Variable": "$.n", "BooleanEquals": true}',
  '{"Variable": "$.ts", "TimestampEquals": "2026-11-23T08:00:00Z"}', '{"Variable": "$.ts", "TimestampEqualsPath": "$.ts2"}',
  '{"Variable": "$.ts", "TimestampLessThan": "2026-11-23T08:00:01Z"}', '{"Variable": "$.ts", "TimestampGreaterThan": "2026-11-23"}',
  '{"Variable": "$.ts", "TimestampGreaterThanEquals": "2026-11-23T08:00:00.000Z"}', '{"Variable": "$.ts", "TimestampLessThanEquals": "2026-01-01T00:00:00Z"}',
  '{"Variable": "$.z", "IsNull": true}', '{"Variable": "$.n", "IsNull": false}', '{"Variable": "$.n", "IsNumeric": true}',
  '{"Variable": "$.s", "IsString": true}', '{"Variable": "$.b", "IsBoolean": true}', '{"Variable": "$.ts", "IsTimestamp": true}',
  '{"Variable": "$.bad", "IsTimestamp": true}', '{"Variable": "$.missing", "IsPresent": false}', '{"Variable": "$.n", "IsPresent": true}',
  '{"Variable": "$.o", "IsString": false}', '{"Variable": "$$.Execution.Name", "StringEquals": "run"}',
  '{"And": [{"Variable": "$.n", "NumericEquals": 5}, {"Variable": "$.s", "StringEquals": "apple"}]}',
  '{"And": [{"Variable": "$.n", "NumericEquals": 5}, {"Variable": "$.s", "StringEquals": "pear"}]}',
  '{"Or": [{"Variable": "$.n", "NumericEquals": 6}, {"Not": {"Variable": "$.s", "StringEquals": "pear"}}]}',
  '{"Not": {"Or": [{"Variable": "$.b", "BooleanEquals": false}, {"Variable": "$.z", "IsNull": false}]}}'
  ]) r;

-- errors: a Variable that selects nothing; a malformed rule
SELECT r, pg_temp.c(r::jsonb) AS result FROM unnest(ARRAY[
  '{"Variable": "$.missing", "NumericEquals": 1}',
  '{"Variable": "$.n", "NumericEqualsPath": "$.missing"}',
  '{"Variable": "$.n"}',
  '{"Variable": "$.n", "NumericEquals": 1, "StringEquals": "a"}',
  '{"And": []}',
  '{"Variable": "$.arr[*]", "NumericEquals": 1}',
  '{"Variable": "$.n", "Like": 1}']) r;
-- an impossible date is not a timestamp (false, not an error)
SELECT outbox.test_choice_rule('{"Variable": "$.d", "IsTimestamp": false}', '{"d": "2026-02-30T00:00:00Z"}') AS not_a_timestamp;
