-- Event patterns: cidr (IPv4, IPv6, and exact addresses in any spelling)
-- and exists on leaves, null, empty and object values.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_outbox;
RESET client_min_messages;
\i sql/include/pattern_helpers.sql

SELECT pg_temp.ep(p, e) AS result, p AS pattern, e AS event
  FROM (VALUES
    ('{"ip":[{"cidr":"10.0.0.0/24"}]}', '{"ip":"10.0.0.255"}'),
    ('{"ip":[{"cidr":"10.0.0.0/24"}]}', '{"ip":"10.0.1.0"}'),
    ('{"ip":[{"cidr":"10.0.0.0/24"}]}', '{"ip":"10.0.0.1/24"}'),
    ('{"ip":[{"cidr":"10.0.0.0/24"}]}', '{"ip":"not an ip"}'),
    ('{"ip":[{"cidr":"10.0.0.0/24"}]}', '{"ip":167772161}'),
    ('{"ip":[{"cidr":"10.0.0.77/24"}]}', '{"ip":"10.0.0.1"}'),     -- host bits are ignored
    ('{"ip":[{"cidr":"0.0.0.0/0"}]}', '{"ip":"203.0.113.9"}'),
    ('{"ip":[{"cidr":"0.0.0.0/0"}]}', '{"ip":"::1"}'),             -- families never mix
    ('{"ip":[{"cidr":"192.168.1.1/31"}]}', '{"ip":"192.168.1.0"}'),
    ('{"ip":[{"cidr":"192.168.1.1/31"}]}', '{"ip":"192.168.1.2"}'),
    ('{"ip":[{"cidr":"2001:db8::/32"}]}', '{"ip":"2001:DB8:ffff::1"}'),
    ('{"ip":[{"cidr":"2001:db8::/32"}]}', '{"ip":"2001:db9::1"}'),
    ('{"ip":[{"cidr":"2001:db8::/127"}]}', '{"ip":"2001:db8::1"}'),
    ('{"ip":[{"cidr":"10.0.0.0/8"},{"cidr":"172.16.0.0/12"}]}', '{"ip":["8.8.8.8","172.20.1.1"]}'),
    ('{"ip":["2001:db8::1"]}', '{"ip":"2001:0db8:0000:0000:0000:0000:0000:0001"}'),
    ('{"ip":["10.0.0.1"]}', '{"ip":"10.0.0.1"}')
  ) AS t(p, e);

SELECT pg_temp.ep(p, '{}') AS result, p AS pattern
  FROM (VALUES
    ('{"ip":[{"cidr":"10.0.0.0"}]}'),
    ('{"ip":[{"cidr":"10.0.0.0/8/8"}]}'),
    ('{"ip":[{"cidr":"10.0.0/8"}]}'),
    ('{"ip":[{"cidr":"10.0.0.0/x"}]}'),
    ('{"ip":[{"cidr":"10.0.0.0/-1"}]}'),
    ('{"ip":[{"cidr":"10.0.0.0/32"}]}'),
    ('{"ip":[{"cidr":"::/128"}]}'),
    ('{"ip":[{"cidr":"host.example/8"}]}'),
    ('{"ip":[{"cidr":24}]}')
  ) AS t(p);

-- exists: true needs a leaf value (null and "" are values); false matches
-- absence, an empty array, and an object where a leaf was expected
SELECT pg_temp.ep(p, e) AS result, p AS pattern, e AS event
  FROM (VALUES
    ('{"c":[{"exists":true}]}', '{"c":1}'),
    ('{"c":[{"exists":true}]}', '{"c":null}'),
    ('{"c":[{"exists":true}]}', '{"c":""}'),
    ('{"c":[{"exists":true}]}', '{"c":[]}'),
    ('{"c":[{"exists":true}]}', '{"c":{"c1":100}}'),
    ('{"c":[{"exists":true}]}', '{}'),
    ('{"c":[{"exists":false}]}', '{}'),
    ('{"c":[{"exists":false}]}', '{"c":null}'),
    ('{"c":[{"exists":false}]}', '{"c":[]}'),
    ('{"detail":{"c-count":[{"exists":false}]}}', '{"detail":{"c-count":{"c1":100}}}'),
    ('{"c":[{"exists":false}]}', '{"c":[1]}'),
    ('{"c":[{"exists":false},"x"]}', '{}'),                   -- absent OR "x"
    ('{"c":[{"exists":false},"x"]}', '{"c":"x"}'),
    ('{"c":[{"exists":false},"x"]}', '{"c":"y"}'),
    ('{"c":[{"exists":true},{"exists":false}]}', '{"c":{"d":1}}'),
    ('{"a":["x"],"c":[{"exists":false}]}', '{"a":"x"}'),
    ('{"a":["x"],"c":[{"exists":false}]}', '{"a":"x","c":0}'),
    ('{"replay-name":[{"exists":false}]}', '{"source":"s"}'),
    ('{"replay-name":[{"exists":false}]}', '{"source":"s","replay-name":"r1"}'),
    ('{"c":[{"exists":"true"}]}', '{}'),
    ('{"c":[{"exists":true,"prefix":"a"}]}', '{}')
  ) AS t(p, e);
