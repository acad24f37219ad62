-- Event patterns: $or at any level, and array consistency (fields of one
-- array of objects must match within the same element).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_outbox;
RESET client_min_messages;
\i sql/include/pattern_helpers.sql

-- the user guide's $or examples
SELECT pg_temp.ep(p, e) AS result, p AS pattern, e AS event
  FROM (VALUES
    ('{"detail":{"$or":[{"c-count":[{"numeric":[">",0,"<=",5]}]},{"d-count":[{"numeric":["<",10]}]},{"x-limit":[{"numeric":["=",3.018e2]}]}]}}',
     '{"detail":{"d-count":9}}'),
    ('{"detail":{"$or":[{"c-count":[{"numeric":[">",0,"<=",5]}]},{"d-count":[{"numeric":["<",10]}]},{"x-limit":[{"numeric":["=",3.018e2]}]}]}}',
     '{"detail":{"c-count":9,"d-count":10,"x-limit":300}}'),
    ('{"source":["aws.cloudwatch"],"$or":[{"metricName":["CPUUtilization","ReadLatency"]},{"namespace":["AWS/EC2","AWS/ES"]}]}',
     '{"source":"aws.cloudwatch","namespace":"AWS/ES"}'),
    ('{"source":["aws.cloudwatch"],"$or":[{"metricName":["CPUUtilization","ReadLatency"]},{"namespace":["AWS/EC2","AWS/ES"]}]}',
     '{"source":"aws.other","namespace":"AWS/ES"}'),
    ('{"$or":[{"a":["1"]},{"$or":[{"b":["2"]},{"c":["3"]}]}]}', '{"c":"3"}'),   -- nested $or
    ('{"$or":[{"a":["1"]},{"b":["2"]}],"c":{"$or":[{"d":["4"]},{"e":["5"]}]}}', '{"b":"2","c":{"e":"5"}}'),
    ('{"$or":[{"a":["1"]},{"b":["2"]}],"c":{"$or":[{"d":["4"]},{"e":["5"]}]}}', '{"b":"2","c":{"f":"5"}}'),
    ('{"$or":[{"a":["1"]},{"a":[{"prefix":"2"}]}]}', '{"a":"22"}'),
    ('{"$or":[{"a":[{"exists":false}]},{"b":["x"]}]}', '{"a":1,"b":"x"}'),
    ('{"$or":[{"a":[{"exists":false}]},{"b":["x"]}]}', '{"a":1,"b":"y"}')
  ) AS t(p, e);

-- $or errors
SELECT pg_temp.ep(p, '{}') AS result, p AS pattern
  FROM (VALUES
    ('{"$or":[{"a":["1"]}]}'),
    ('{"$or":[]}'),
    ('{"$or":{"a":["1"]}}'),
    ('{"$or":[{"a":["1"]},"b"]}'),
    ('{"$or":[{"a":["1"]},{}]}'),
    ('{"$or":[{"a":["1"]},{"prefix":["x"]}]}'),
    ('{"d":{"$or":[{"a":["1"]},{"numeric":["x"]}]}}')
  ) AS t(p);

-- $or explosion is capped: 2^10 sub-patterns
SELECT pg_temp.ep('{' || string_agg(format('"k%s":{"$or":[{"a":["1"]},{"b":["2"]}]}', g), ',') || '}', '{}')
  FROM generate_series(1, 10) AS g;
-- 2^9 is fine
SELECT pg_temp.ep('{' || string_agg(format('"k%s":{"$or":[{"a":["1"]},{"b":["2"]}]}', g), ',') || '}',
                  '{' || string_agg(format('"k%s":{"b":"2"}', g), ',') || '}')
  FROM generate_series(1, 9) AS g;

-- array consistency
CREATE TEMP TABLE ev(e text);
INSERT INTO ev VALUES ('{"detail":{"items":[{"sku":"a","qty":2,"tags":["x"]},{"sku":"b","qty":1,"tags":["y","z"]}],
                         "owner":{"name":"n"}}}');
SELECT pg_temp.ep(p, e) AS result, p AS pattern
  FROM ev, (VALUES
    ('{"detail":{"items":{"sku":["a"],"qty":[2]}}}'),
    ('{"detail":{"items":{"sku":["a"],"qty":[1]}}}'),      -- from two different elements
    ('{"detail":{"items":{"sku":["b"],"tags":["z"]}}}'),
    ('{"detail":{"items":{"sku":["a"],"tags":["z"]}}}'),
    ('{"detail":{"items":{"sku":["b"]},"owner":{"name":["n"]}}}'),
    ('{"detail":{"items":{"sku":[{"prefix":""}],"qty":[{"numeric":["<",2]}],"tags":["y"]}}}'),
    ('{"detail":{"items":{"sku":[{"anything-but":"a"}],"qty":[2]}}}'),
    ('{"detail":{"items":{"sku":["a","b"],"qty":[1]}}}')
  ) AS t(p);

-- arrays of arrays of objects: an element of the inner array is its own element
SELECT pg_temp.ep(p, e) AS result, p AS pattern, e AS event
  FROM (VALUES
    ('{"o":{"a":[1],"b":[2]}}', '{"o":[[{"a":1,"b":2}],[{"a":3}]]}'),
    ('{"o":{"a":[1],"b":[2]}}', '{"o":[[{"a":1},{"b":2}]]}'),
    ('{"o":{"a":[1],"i":{"b":[2]}}}', '{"o":[{"a":1,"i":[{"b":3},{"b":2}]},{"a":0}]}'),
    ('{"o":{"a":[0],"i":{"b":[2]}}}', '{"o":[{"a":1,"i":[{"b":3},{"b":2}]},{"a":0}]}'),
    ('{"a":[1],"b":[2]}', '{"a":[0,1],"b":[2,3]}')          -- scalars of different arrays
  ) AS t(p, e);

-- many patterns at once: match_event_patterns agrees with one-by-one
SELECT outbox.match_event_patterns(ARRAY[
    '{"detail":{"items":{"sku":["a"],"qty":[2]}}}',
    '{"detail":{"items":{"sku":["a"],"qty":[1]}}}',
    '{"detail":{"owner":{"name":[{"prefix":"n"}]}}}',
    '{"detail":{"missing":[{"exists":false}]}}',
    '{"detail":{"items":{"sku":["a"]}}}']::jsonb[], e::jsonb) AS together,
       outbox.match_event_patterns(ARRAY[
    '{"detail":{"items":{"sku":["a"],"qty":[2]}}}',
    '{"detail":{"items":{"sku":["a"],"qty":[1]}}}',
    '{"detail":{"owner":{"name":[{"prefix":"n"}]}}}',
    '{"detail":{"missing":[{"exists":false}]}}',
    '{"detail":{"items":{"sku":["a"]}}}']::jsonb[], e::jsonb, separately => true) AS one_by_one
  FROM ev;
SELECT outbox.match_event_patterns('{}', '{"a":1}') AS no_patterns;
SELECT outbox.match_event_patterns(ARRAY['{"a":[1]}', NULL]::jsonb[], '{"a":1}');
SELECT outbox.match_event_patterns(ARRAY['{"a":[1]}', '{"a":[]}']::jsonb[], '{"a":1}');
SELECT outbox.match_event_patterns(ARRAY[['{"a":[1]}'],['{"a":[1]}']]::jsonb[], '{"a":1}');
