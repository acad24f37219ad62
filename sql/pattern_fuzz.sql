-- A small deterministic dose of test/fuzz/pattern_fuzz.sql (random
-- malformed and deeply nested patterns and events): every call answers
-- or is refused with an expected SQLSTATE.  The long run: test/fuzz/run.sh.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_outbox;
RESET client_min_messages;
\set seed 0.17
SET fz.iterations = 1500;
\i test/fuzz/pattern_fuzz.sql
SELECT count(*) AS calls,
       count(*) FILTER (WHERE kind = 'answered') > 0 AS some_answered,
       count(*) FILTER (WHERE kind = 'refused') > 0 AS some_refused,
       count(*) FILTER (WHERE kind = 'unexpected') AS unexpected
  FROM fz_log;
SELECT sqlstate, message, input FROM fz_log WHERE kind = 'unexpected' LIMIT 10;
