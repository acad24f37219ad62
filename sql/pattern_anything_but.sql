-- Event patterns: anything-but in all its forms.  It needs the field to be
-- present and holds for an array when any element is not excluded.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_outbox;
RESET client_min_messages;
\i sql/include/pattern_helpers.sql

SELECT pg_temp.ep(p, e) AS result, p AS pattern, e AS event
  FROM (VALUES
    ('{"state":[{"anything-but":"initializing"}]}', '{"state":"running"}'),
    ('{"state":[{"anything-but":"initializing"}]}', '{"state":"initializing"}'),
    ('{"state":[{"anything-but":"initializing"}]}', '{}'),                     -- absent: no
    ('{"state":[{"anything-but":"initializing"}]}', '{"state":null}'),         -- null is a value
    ('{"state":[{"anything-but":"initializing"}]}', '{"state":5}'),
    ('{"state":[{"anything-but":["stopped","overloaded"]}]}', '{"state":"stopped"}'),
    ('{"state":[{"anything-but":["stopped","overloaded"]}]}', '{"state":"running"}'),
    ('{"x":[{"anything-but":"x"}]}', '{"x":["x","y"]}'),                       -- y is not excluded
    ('{"x":[{"anything-but":"x"}]}', '{"x":["x","x"]}'),
    ('{"x":[{"anything-but":"x"}]}', '{"x":[]}'),
    ('{"x":[{"anything-but":"x"}]}', '{"x":{"y":1}}'),
    ('{"x":[{"anything-but":100}]}', '{"x":100.0}'),
    ('{"x":[{"anything-but":100}]}', '{"x":"100"}'),
    ('{"x":[{"anything-but":[100,200]}]}', '{"x":150}'),
    ('{"x":[{"anything-but":{"prefix":"init"}}]}', '{"x":"initializing"}'),
    ('{"x":[{"anything-but":{"prefix":"init"}}]}', '{"x":"running"}'),
    ('{"x":[{"anything-but":{"prefix":"init"}}]}', '{"x":7}'),
    ('{"x":[{"anything-but":{"suffix":".txt"}}]}', '{"x":"notes.txt"}'),
    ('{"x":[{"anything-but":{"suffix":".txt"}}]}', '{"x":"notes.md"}'),
    ('{"x":[{"anything-but":{"equals-ignore-case":"Alice"}}]}', '{"x":"ALICE"}'),
    ('{"x":[{"anything-but":{"equals-ignore-case":["Alice","Bob"]}}]}', '{"x":"bob"}'),
    ('{"x":[{"anything-but":{"equals-ignore-case":["Alice","Bob"]}}]}', '{"x":"carol"}'),
    ('{"x":[{"anything-but":{"wildcard":"*/lib/*"}}]}', '{"x":"/usr/lib/x"}'),
    ('{"x":[{"anything-but":{"wildcard":"*/lib/*"}}]}', '{"x":"/usr/bin/x"}'),
    ('{"x":[{"anything-but":{"wildcard":["a*","b*"]}}]}', '{"x":"bee"}'),
    ('{"x":[{"anything-but":{"wildcard":["a*","b*"]}}]}', '{"x":"cat"}'),
    ('{"x":[{"anything-but":"a"},"a"]}', '{"x":"a"}')                         -- OR with an exact
  ) AS t(p, e);

-- what anything-but accepts
SELECT pg_temp.ep(p, '{}') AS result, p AS pattern
  FROM (VALUES
    ('{"x":[{"anything-but":["a",1]}]}'),
    ('{"x":[{"anything-but":[]}]}'),
    ('{"x":[{"anything-but":null}]}'),
    ('{"x":[{"anything-but":[null]}]}'),
    ('{"x":[{"anything-but":true}]}'),
    ('{"x":[{"anything-but":{"prefix":""}}]}'),
    ('{"x":[{"anything-but":{"prefix":5}}]}'),
    ('{"x":[{"anything-but":{"numeric":[">",1]}}]}'),
    ('{"x":[{"anything-but":{"prefix":"a","suffix":"b"}}]}'),
    ('{"x":[{"anything-but":{"equals-ignore-case":5}}]}'),
    ('{"x":[{"anything-but":{"equals-ignore-case":[]}}]}'),
    ('{"x":[{"anything-but":{"wildcard":"a**"}}]}'),
    ('{"x":[{"anything-but":{}}]}')
  ) AS t(p);
