-- Event patterns: prefix, suffix, equals-ignore-case (with Unicode case
-- folding) and wildcard.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_outbox;
RESET client_min_messages;
\i sql/include/pattern_helpers.sql

SELECT pg_temp.ep(p, e) AS result, p AS pattern, e AS event
  FROM (VALUES
    ('{"time":[{"prefix":"2017-10-02"}]}', '{"time":"2017-10-02T18:43:48Z"}'),
    ('{"time":[{"prefix":"2017-10-02"}]}', '{"time":"2017-10-03T18:43:48Z"}'),
    ('{"r":[{"prefix":"us-"}]}', '{"r":"us-"}'),                -- the whole string is a prefix
    ('{"r":[{"prefix":"us-"}]}', '{"r":"US-east"}'),
    ('{"r":[{"prefix":""}]}', '{"r":"anything"}'),
    ('{"r":[{"prefix":""}]}', '{"r":5}'),                      -- strings only
    ('{"r":[{"prefix":"5"}]}', '{"r":55}'),
    ('{"r":[{"prefix":"us-"},{"prefix":"eu-"}]}', '{"r":"eu-west-1"}'),
    ('{"r":[{"prefix":"eu-"},{"prefix":"eu-west"}]}', '{"r":"eu-west-1"}'),
    ('{"r":[{"prefix":"é"}]}', '{"r":"été"}'),
    ('{"f":[{"suffix":".png"}]}', '{"f":"image.png"}'),
    ('{"f":[{"suffix":".png"}]}', '{"f":"image.PNG"}'),
    ('{"f":[{"suffix":".png"}]}', '{"f":"png"}'),
    ('{"f":[{"suffix":".png"},{"suffix":".jpg"}]}', '{"f":["a.gif","b.jpg"]}'),
    ('{"f":[{"prefix":{"equals-ignore-case":"EventBridge"}}]}', '{"f":"eventbridge rocks"}'),
    ('{"f":[{"prefix":{"equals-ignore-case":"EventBridge"}}]}', '{"f":"event-bridge"}'),
    ('{"f":[{"suffix":{"equals-ignore-case":".PNG"}}]}', '{"f":"photo.png"}'),
    ('{"f":[{"suffix":{"equals-ignore-case":".PNG"}}]}', '{"f":"photo.pNg"}'),
    ('{"f":[{"suffix":{"equals-ignore-case":".PNG"}}]}', '{"f":"photo.gif"}')
  ) AS t(p, e);

-- equals-ignore-case folds Unicode case, not just ASCII
SELECT pg_temp.ep(p, e) AS result, p AS pattern, e AS event
  FROM (VALUES
    ('{"n":[{"equals-ignore-case":"alice"}]}', '{"n":"ALICE"}'),
    ('{"n":[{"equals-ignore-case":"alice"}]}', '{"n":"Alice"}'),
    ('{"n":[{"equals-ignore-case":"alice"}]}', '{"n":"alic"}'),
    ('{"n":[{"equals-ignore-case":"ÉCOLE"}]}', '{"n":"école"}'),
    ('{"n":[{"equals-ignore-case":"straße"}]}', '{"n":"STRAẞE"}'),
    ('{"n":[{"equals-ignore-case":"ΣΊΣΥΦΟΣ"}]}', '{"n":"σίσυφος"}'),   -- final sigma
    ('{"n":[{"equals-ignore-case":"привет"}]}', '{"n":"ПРИВЕТ"}'),
    ('{"n":[{"equals-ignore-case":"5"}]}', '{"n":5}'),
    ('{"n":[{"equals-ignore-case":"true"}]}', '{"n":true}')
  ) AS t(p, e);

-- wildcard: * is any run, \* a star, \\ a backslash
SELECT pg_temp.ep(p, e) AS result, p AS pattern, e AS event
  FROM (VALUES
    ('{"k":[{"wildcard":"dir/*.png"}]}', '{"k":"dir/a.png"}'),
    ('{"k":[{"wildcard":"dir/*.png"}]}', '{"k":"dir/sub/a.png"}'),
    ('{"k":[{"wildcard":"dir/*.png"}]}', '{"k":"dir/.png"}'),
    ('{"k":[{"wildcard":"dir/*.png"}]}', '{"k":"dir/a.png.bak"}'),
    ('{"k":[{"wildcard":"*"}]}', '{"k":""}'),
    ('{"k":[{"wildcard":"*"}]}', '{"k":7}'),
    ('{"k":[{"wildcard":"a*b*c"}]}', '{"k":"abc"}'),
    ('{"k":[{"wildcard":"a*b*c"}]}', '{"k":"a-b-b-c"}'),
    ('{"k":[{"wildcard":"a*b*c"}]}', '{"k":"a-c-b"}'),
    ('{"k":[{"wildcard":"*ab"}]}', '{"k":"aab"}'),
    ('{"k":[{"wildcard":"a\\*b"}]}', '{"k":"a*b"}'),
    ('{"k":[{"wildcard":"a\\*b"}]}', '{"k":"axb"}'),
    ('{"k":[{"wildcard":"a\\\\b"}]}', '{"k":"a\\b"}'),
    ('{"k":[{"wildcard":"no-star"}]}', '{"k":"no-star"}'),
    ('{"k":[{"wildcard":"*.é"}]}', '{"k":"x.é"}'),
    ('{"k":[{"wildcard":"a**b"}]}', '{"k":"ab"}'),
    ('{"k":[{"wildcard":"a\\b"}]}', '{"k":"ab"}'),
    ('{"k":[{"wildcard":"ab\\"}]}', '{"k":"ab"}')
  ) AS t(p, e);

-- a pathological wildcard is still fast: many stars against a long value
SELECT pg_temp.ep('{"k":[{"wildcard":"' || repeat('a*', 300) || 'b"}]}',
                  '{"k":"' || repeat('a', 5000) || '"}') AS long_wildcard;
