-- SNS filter policies: MessageAttributes scope (typed attributes) and
-- MessageBody scope, the SNS-only rules and limits.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_outbox;
RESET client_min_messages;
\i sql/include/pattern_helpers.sql

-- the SNS developer guide's example message attributes
CREATE TEMP TABLE msg(m text);
INSERT INTO msg SELECT pg_temp.attrs('customer_interests', 'String.Array', '["soccer", "rugby", "hockey"]',
                                     'store', 'String', 'example_corp',
                                     'event', 'String', 'order_placed',
                                     'price_usd', 'Number', '210.75',
                                     'encrypted', 'Binary', 'AAEC');
SELECT pg_temp.fp(p, m) AS result, p AS policy
  FROM msg, (VALUES
    ('{"store":["example_corp"],"event":[{"anything-but":"order_cancelled"}],"customer_interests":["rugby","football","baseball"],"price_usd":[{"numeric":[">=",100]}]}'),
    ('{"customer_interests":["rugby"]}'),                  -- any element of a String.Array
    ('{"customer_interests":["golf"]}'),
    ('{"customer_interests":[{"prefix":"hock"}]}'),
    ('{"price_usd":[210.75]}'),                            -- Number attributes are numbers
    ('{"price_usd":["210.75"]}'),
    ('{"price_usd":[{"numeric":[">",210,"<",211]}]}'),
    ('{"store":[{"suffix":"_corp"}]}'),
    ('{"store":[{"equals-ignore-case":"EXAMPLE_CORP"}]}'),
    ('{"store":[{"anything-but":{"prefix":"example"}}]}'),
    ('{"store":[{"exists":true}]}'),
    ('{"coupon":[{"exists":false}]}'),
    ('{"coupon":[{"anything-but":"x"}]}'),                 -- absent: only exists:false matches
    ('{"encrypted":[{"exists":true}]}'),                   -- Binary attributes are ignored
    ('{"encrypted":["AAEC"]}'),
    ('{"encrypted":[{"exists":false}]}'),
    ('{"$or":[{"store":["other"]},{"event":["order_placed"]}]}'),
    ('{"store":[{"cidr":"10.0.0.0/8"}]}')
  ) AS t(p);

-- SQS-style attribute shapes work too; a message without attributes matches
-- only policies made of exists:false
SELECT pg_temp.fp(p, m) AS result, p AS policy, m AS message
  FROM (VALUES
    ('{"color":["red"]}', '{"color":{"DataType":"String","StringValue":"red"}}'),
    ('{"n":[{"numeric":["=",5]}]}', '{"n":{"DataType":"Number.int","StringValue":"5.00"}}'),
    ('{"n":[{"numeric":["=",5]}]}', '{"n":{"DataType":"Number","StringValue":"five"}}'),
    ('{"color":["red"]}', '{"color":{"DataType":"String.custom","StringValue":"red"}}'),
    ('{"color":["red"]}', '{}'),
    ('{"color":[{"exists":false}]}', '{}'),
    ('{"color":[{"exists":false}],"size":[{"exists":false}]}', '{}'),
    ('{"a":["x"]}', '{"a":{"Type":"String.Array","Value":"not json"}}'),
    ('{"a":[1]}', '{"a":{"Type":"String.Array","Value":"[1, \"x\", true, null]"}}'),
    ('{"a":[true]}', '{"a":{"Type":"String.Array","Value":"[1, \"x\", true, null]"}}'),
    ('{"ip":[{"cidr":"10.1.0.0/16"}]}', '{"ip":{"Type":"String","Value":"10.1.2.3"}}')
  ) AS t(p, m);

-- MessageBody scope: nested policies against the JSON body
SELECT pg_temp.fp(p, m, 'MessageBody') AS result, p AS policy, m AS body
  FROM (VALUES
    ('{"order":{"status":["placed"],"total":[{"numeric":[">",100]}]}}', '{"order":{"status":"placed","total":250}}'),
    ('{"order":{"status":["placed"]}}', '{"order":{"status":"shipped"}}'),
    ('{"note":[null]}', '{"note":null}'),
    ('{"order":{"lines":{"sku":["a"],"qty":[2]}}}', '{"order":{"lines":[{"sku":"a","qty":1},{"sku":"b","qty":2}]}}'),
    ('{"a":[{"exists":false}]}', '"just text"'),           -- a body that is not an object
    ('{"a":[{"exists":false}]}', '[1,2]'),
    ('{"a":["x"]}', '{"a":"x"}')
  ) AS t(p, m);

-- what SNS refuses
SELECT pg_temp.fp(p, '{}', s) AS result, s AS scope, p AS policy
  FROM (VALUES
    ('{"a":[{"wildcard":"x*"}]}', 'MessageBody'),
    ('{"a":[{"prefix":{"equals-ignore-case":"x"}}]}', 'MessageAttributes'),
    ('{"a":[{"anything-but":{"equals-ignore-case":"x"}}]}', 'MessageAttributes'),
    ('{"a":[{"anything-but":{"wildcard":"x*"}}]}', 'MessageBody'),
    ('{"a":[null]}', 'MessageAttributes'),
    ('{"a":{"b":["x"]}}', 'MessageAttributes'),
    ('{"a":[{"numeric":[">",1000000001]}]}', 'MessageAttributes'),
    ('{"a":[{"numeric":["<",-1e9]}]}', 'MessageAttributes'),
    ('{"a":["1"],"b":["1"],"c":["1"],"d":["1"],"e":["1"],"f":["1"]}', 'MessageAttributes'),
    ('{"a":["1"],"b":["1"],"c":["1"],"d":["1"],"e":{"f":["1"],"g":["1"]}}', 'MessageBody'),
    ('{"a":["1","2","3","4","5"],"b":["1","2","3","4","5"],"c":["1","2","3","4","5","6"]}', 'MessageAttributes'),
    ('{"a":["1","2","3","4","5"],"b":["1","2","3","4","5"],"c":["1","2","3","4","5","6","7"]}', 'MessageAttributes'),
    ('{"$or":[{"a":["1","2","3","4","5","6","7","8","9","10"]},{"b":["1","2","3","4","5","6","7","8","9","10"]}],"c":["1","2","3","4","5","6","7","8"]}', 'MessageAttributes'),
    ('{"a":["x"]}', 'Body'),
    ('[]', 'MessageAttributes')
  ) AS t(p, s);
SELECT outbox.test_filter_policy('{"a":["x"]}', '[]');
SELECT outbox.test_filter_policy('{"a":["x"]}', '{}', NULL);
