-- Helpers shared by the pattern suites (\i from each; not a suite itself).
-- ep(pattern, event) / fp(policy, message[, scope]): 'match', 'no match', or
-- the error as "SQLSTATE: message".
CREATE FUNCTION pg_temp.ep(p text, e text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  RETURN CASE WHEN outbox.test_event_pattern(p::jsonb, e::jsonb) THEN 'match' ELSE 'no match' END;
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
CREATE FUNCTION pg_temp.fp(p text, m text, scope text DEFAULT 'MessageAttributes')
RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  RETURN CASE WHEN outbox.test_filter_policy(p::jsonb, m::jsonb, scope) THEN 'match' ELSE 'no match' END;
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
-- attrs(name, type, value, ...): SNS-typed message attributes, for fp()
CREATE FUNCTION pg_temp.attrs(VARIADIC kv text[]) RETURNS text LANGUAGE sql AS $$
  SELECT coalesce(jsonb_object_agg(kv[i], jsonb_build_object('Type', kv[i + 1], 'Value', kv[i + 2])), '{}')::text
    FROM generate_series(1, coalesce(array_length(kv, 1), 0), 3) AS i $$;
