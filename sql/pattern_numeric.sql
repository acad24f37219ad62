-- Event patterns: numeric ranges on the fixed-point line (-5e9 .. 5e9,
-- bounds to 6 decimals; event values compare exactly).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_outbox;
RESET client_min_messages;
\i sql/include/pattern_helpers.sql

-- the user guide's example: c-count > 0 and <= 5, d-count < 10, x-limit = 301.8
SELECT pg_temp.ep('{"detail":{"c-count":[{"numeric":[">",0,"<=",5]}],"d-count":[{"numeric":["<",10]}],"x-limit":[{"numeric":["=",3.018e2]}]}}',
                  '{"detail":{"c-count":5,"d-count":7,"x-limit":301.8}}') AS guide_example;

SELECT pg_temp.ep(p, e) AS result, p AS pattern, e AS event
  FROM (VALUES
    ('{"n":[{"numeric":[">",0,"<=",5]}]}', '{"n":0}'),
    ('{"n":[{"numeric":[">",0,"<=",5]}]}', '{"n":0.000001}'),
    ('{"n":[{"numeric":[">",0,"<=",5]}]}', '{"n":0.0000001}'),     -- beyond 6 decimals, still > 0
    ('{"n":[{"numeric":[">",0,"<=",5]}]}', '{"n":5}'),
    ('{"n":[{"numeric":[">",0,"<=",5]}]}', '{"n":5.0000001}'),
    ('{"n":[{"numeric":[">=",0,"<",5]}]}', '{"n":0}'),
    ('{"n":[{"numeric":[">=",0,"<",5]}]}', '{"n":4.9999999}'),
    ('{"n":[{"numeric":[">=",0,"<",5]}]}', '{"n":5}'),
    ('{"n":[{"numeric":["<",-1.5]}]}', '{"n":-1.5000001}'),
    ('{"n":[{"numeric":["<",-1.5]}]}', '{"n":-1.5}'),
    ('{"n":[{"numeric":["<=",-1.5]}]}', '{"n":-1.5}'),
    ('{"n":[{"numeric":["=",3.5]}]}', '{"n":3.50}'),
    ('{"n":[{"numeric":["=",3.5]}]}', '{"n":3.5000001}'),
    ('{"n":[{"numeric":["=",0]}]}', '{"n":-0}'),
    ('{"n":[{"numeric":[">",0]}]}', '{"n":"5"}'),                  -- numeric strings never match
    ('{"n":[{"numeric":[">",0]}]}', '{"n":true}'),
    ('{"n":[{"numeric":[">",0]}]}', '{"n":[-1,2]}'),
    ('{"n":[{"numeric":[">",0]}]}', '{"n":[-1,-2]}'),
    ('{"n":[{"numeric":[">",4999999999]}]}', '{"n":1e12}'),        -- beyond the line: above every bound
    ('{"n":[{"numeric":["<",-4999999999]}]}', '{"n":-1e12}'),
    ('{"n":[{"numeric":["<",5000000000]}]}', '{"n":1e12}'),
    ('{"n":[{"numeric":[">=",5000000000]}]}', '{"n":5000000000}'),
    ('{"n":[{"numeric":["<=",-5000000000]}]}', '{"n":-5000000000}'),
    ('{"n":[{"numeric":[">",1e-7]}]}', '{"n":0.0000001}'),        -- bound rounds to 0.000000
    ('{"n":[{"numeric":[">",0.0000005]}]}', '{"n":0.0000009}'),   -- bound rounds to 0.000001
    ('{"n":[{"numeric":[">",100]},{"numeric":["<",0]}]}', '{"n":-3}'),
    ('{"n":[{"numeric":[">",100]},{"numeric":["<",0]}]}', '{"n":50}'),
    ('{"n":[{"numeric":[">",100]},3]}', '{"n":3.0}')
  ) AS t(p, e);

-- malformed ranges
SELECT pg_temp.ep(p, '{}') AS result, p AS pattern
  FROM (VALUES
    ('{"detail":{"count":[{"numeric":[">",5,"<",5]}]}}'),
    ('{"n":[{"numeric":[">",6,"<=",5]}]}'),
    ('{"n":[{"numeric":["<",5,">",0]}]}'),
    ('{"n":[{"numeric":[">",1,">",2]}]}'),
    ('{"n":[{"numeric":[">",1,"<",2,"<",3]}]}'),
    ('{"n":[{"numeric":["=",1,"<",3]}]}'),
    ('{"n":[{"numeric":[">","5"]}]}'),
    ('{"n":[{"numeric":[">"]}]}'),
    ('{"n":[{"numeric":[5]}]}'),
    ('{"n":[{"numeric":["!=",5]}]}'),
    ('{"n":[{"numeric":[]}]}'),
    ('{"n":[{"numeric":">5"}]}'),
    ('{"n":[{"numeric":[">",5000000001]}]}'),
    ('{"n":[{"numeric":["<",-6e9]}]}'),
    ('{"n":[{"numeric":[">",1,6]}]}')
  ) AS t(p);
