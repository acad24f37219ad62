-- Event patterns: structural validation.  Every invalid pattern is 22023
-- with the field path and the reason; nothing is half-compiled.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_outbox;
RESET client_min_messages;
\i sql/include/pattern_helpers.sql

SELECT pg_temp.ep(p, '{}') AS result, p AS pattern
  FROM (VALUES
    ('[]'),
    ('"source"'),
    ('5'),
    ('{}'),
    ('{"detail":{}}'),
    ('{"source":"aws.ec2"}'),
    ('{"source":5}'),
    ('{"source":null}'),
    ('{"source":[]}'),
    ('{"source":[["aws.ec2"]]}'),
    ('{"":["x"]}'),
    ('{"detail":{"":["x"]}}'),
    ('{"source":[{}]}'),
    ('{"source":[{"prefix":"a","suffix":"b"}]}'),
    ('{"source":[{"regex":"a.*"}]}'),
    ('{"source":[{"prefix":5}]}'),
    ('{"source":[{"prefix":{"equals-ignore-case":5}}]}'),
    ('{"source":[{"prefix":{"wildcard":"a*"}}]}'),
    ('{"source":[{"suffix":["a"]}]}'),
    ('{"source":[{"equals-ignore-case":["a"]}]}'),
    ('{"source":[{"wildcard":5}]}'),
    ('{"a":{"b":{"c":{"d":[{"numeric":["<",1,"<",2]}]}}}}')
  ) AS t(p);

-- the length limit: 2048 characters of compact JSON by default, settable
SELECT pg_temp.ep('{"k":["' || repeat('x', 2038) || '"]}', '{}') AS at_limit;
SELECT pg_temp.ep('{"k":["' || repeat('x', 2039) || '"]}', '{}') AS over_limit;
SELECT pg_temp.ep('{"k": [ "' || repeat('x', 2038) || '" ] }', '{}') AS whitespace_not_counted;
SET pg_outbox.max_event_pattern_length = 4096;
SELECT pg_temp.ep('{"k":["' || repeat('x', 2039) || '"]}', '{}') AS raised_limit;
RESET pg_outbox.max_event_pattern_length;
CREATE ROLE pattern_user;
SET ROLE pattern_user;
SET pg_outbox.max_event_pattern_length = 4096;   -- superuser only
RESET ROLE;
DROP ROLE pattern_user;

-- the argument index is named when a pattern in a set is invalid
SELECT outbox.match_event_patterns(ARRAY['{"a":["x"]}', '{"a":["x"]}', '{"a":{"b":[{"numeric":[">",1,"<",0]}]}}']::jsonb[], '{}');
