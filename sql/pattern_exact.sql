-- Event patterns: exact values, lists, nesting, arrays, null/absent/empty,
-- numbers by value.  Examples follow the EventBridge user guide.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_outbox;
RESET client_min_messages;
\i sql/include/pattern_helpers.sql

-- The user guide's EC2 example event
CREATE TEMP TABLE ev(e text);
INSERT INTO ev VALUES ('{"version":"0","id":"6a7e8feb-b491-4cf7-a9f1-bf3703467718",
 "detail-type":"EC2 Instance State-change Notification","source":"aws.ec2",
 "account":"111122223333","time":"2017-12-22T18:43:48Z","region":"us-west-1",
 "resources":["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],
 "detail":{"instance-id":"i-1234567890abcdef0","state":"terminated"}}');

SELECT pg_temp.ep(p, e) AS result, p AS pattern
  FROM ev, (VALUES
    ('{"source":["aws.ec2"]}'),
    ('{"source":["aws.ec2","aws.s3"]}'),                 -- a list is OR
    ('{"source":["aws.s3"]}'),
    ('{"source":["AWS.EC2"]}'),                          -- case-sensitive
    ('{"source":["aws.ec2"],"detail-type":["EC2 Instance State-change Notification"]}'),
    ('{"source":["aws.ec2"],"detail-type":["Other"]}'),  -- keys are AND
    ('{"detail":{"state":["terminated","stopped"]}}'),   -- nested object
    ('{"detail":{"state":["running"]}}'),
    ('{"detail":{"missing":["x"]}}'),
    ('{"resources":["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"]}'),
    ('{"nothere":{"deeper":["x"]}}')
  ) AS t(p);

-- Array values in the event match if any element matches
SELECT pg_temp.ep(p, e) AS result, p AS pattern, e AS event
  FROM (VALUES
    ('{"tags":["b"]}', '{"tags":["a","b","c"]}'),
    ('{"tags":["z"]}', '{"tags":["a","b","c"]}'),
    ('{"tags":["a","z"]}', '{"tags":["x","a"]}'),
    ('{"tags":["a"]}', '{"tags":[]}'),
    ('{"tags":["a"]}', '{"tags":[["a"]]}'),                -- nested arrays flatten
    ('{"v":[1]}', '{"v":[[0,[1]]]}')
  ) AS t(p, e);

-- Numbers compare by value; strings and numbers never equal each other
SELECT pg_temp.ep(p, e) AS result, p AS pattern, e AS event
  FROM (VALUES
    ('{"n":[5]}', '{"n":5}'),
    ('{"n":[5]}', '{"n":5.0}'),
    ('{"n":[5]}', '{"n":5e0}'),
    ('{"n":[5.0]}', '{"n":5}'),
    ('{"n":[500]}', '{"n":5e2}'),
    ('{"n":[0]}', '{"n":-0.0}'),
    ('{"n":[5]}', '{"n":"5"}'),
    ('{"n":["5"]}', '{"n":5}'),
    ('{"n":[0.1]}', '{"n":0.10000}'),
    ('{"n":[123456789012]}', '{"n":123456789012}'),       -- beyond the numeric range, still exact
    ('{"n":[123456789012]}', '{"n":123456789013}'),
    ('{"n":[1e30]}', '{"n":1000000000000000000000000000000}'),
    ('{"n":[5.0000001]}', '{"n":5}')
  ) AS t(p, e);

-- true, false, null, empty string; absent is none of them
SELECT pg_temp.ep(p, e) AS result, p AS pattern, e AS event
  FROM (VALUES
    ('{"b":[true]}', '{"b":true}'),
    ('{"b":[true]}', '{"b":"true"}'),
    ('{"b":[false]}', '{"b":false}'),
    ('{"b":[false]}', '{}'),
    ('{"x":[null]}', '{"x":null}'),
    ('{"x":[null]}', '{}'),
    ('{"x":[null]}', '{"x":"null"}'),
    ('{"x":[""]}', '{"x":""}'),
    ('{"x":[""]}', '{}'),
    ('{"x":[""]}', '{"x":null}'),
    ('{"x":[null,""]}', '{"x":""}')
  ) AS t(p, e);

-- Unicode and escapes are compared byte for byte
SELECT pg_temp.ep(p, e) AS result, p AS pattern, e AS event
  FROM (VALUES
    ('{"s":["héllo"]}', '{"s":"héllo"}'),
    ('{"s":["héllo"]}', '{"s":"he\u0301llo"}'),
    ('{"s":["a\"b"]}', '{"s":"a\"b"}'),
    ('{"s":["日本"]}', '{"s":["中国","日本"]}'),
    ('{"a.b":["x"]}', '{"a":{"b":"x"}}'),                  -- a dotted key is one key
    ('{"a.b":["x"]}', '{"a.b":"x"}')
  ) AS t(p, e);

-- An object where the pattern expects a leaf, and the reverse, do not match
SELECT pg_temp.ep(p, e) AS result, p AS pattern, e AS event
  FROM (VALUES
    ('{"d":["x"]}', '{"d":{"x":1}}'),
    ('{"d":{"x":[1]}}', '{"d":"x"}'),
    ('{"d":{"x":[1]}}', '{"d":[{"x":2},{"x":1}]}')
  ) AS t(p, e);

-- The event must be an object; it need not be a full envelope
SELECT pg_temp.ep('{"a":["x"]}', '["x"]');
SELECT pg_temp.ep('{"a":["x"]}', '"x"');
SELECT pg_temp.ep('{"a":["x"]}', '{"a":"x"}');
SELECT outbox.test_event_pattern(NULL, '{}');
SELECT outbox.test_event_pattern('{"a":["x"]}', NULL);

-- compiled once per query: the same pattern over many rows
SELECT count(*) FILTER (WHERE outbox.test_event_pattern('{"k":[{"numeric":[">=",500]}]}', jsonb_build_object('k', g))) AS matched
  FROM generate_series(1, 1000) AS g;
