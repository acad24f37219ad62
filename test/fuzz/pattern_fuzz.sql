-- Random-input test for the pattern engine: malformed, deeply nested and
-- hostile patterns, policies and events.  Checks that every call either
-- answers or fails with an expected SQLSTATE (22023 invalid pattern, 54000
-- work cap, 54001 stack depth), never anything else, and reports the
-- slowest call.  Set :iterations and :seed before \i-ing this file; the
-- regression suite runs a small deterministic dose, test/fuzz/run.sh a
-- large random one.
SELECT setseed(:seed);

CREATE FUNCTION pg_temp.fz_pick(VARIADIC a text[]) RETURNS text LANGUAGE sql VOLATILE AS
$$ SELECT a[1 + floor(random() * array_length(a, 1))::int] $$;

CREATE FUNCTION pg_temp.fz_scalar() RETURNS text LANGUAGE sql VOLATILE AS $$
  SELECT pg_temp.fz_pick('"a"', '""', '"*"', '"a**b"', '"\\"', '"\\*x"', '"10.0.0.0/8"', '"::/0"',
    '"1.2.3.4"', '"2001:db8::/200"', '"é"', '"ΣΑΣ"', '"x\ty"', '0', '-0', '5e9', '5.0000001e9',
    '1e308', '-1e-308', '123456789012345678901234567890', '0.0000005', 'true', 'false', 'null',
    '">"', '">="', '"<"', '"="', '"!="') $$;

CREATE FUNCTION pg_temp.fz_key() RETURNS text LANGUAGE sql VOLATILE AS $$
  SELECT to_json(pg_temp.fz_pick('a', 'b', 'detail', '$or', 'prefix', 'suffix', 'anything-but',
    'numeric', 'exists', 'cidr', 'wildcard', 'equals-ignore-case', '', 'a.b', 'x y', 'é'))::text $$;

-- a random JSON value; depth bounds the recursion
CREATE FUNCTION pg_temp.fz_json(depth int) RETURNS text LANGUAGE plpgsql VOLATILE AS $$
DECLARE r float8 := random(); parts text[] := '{}';
BEGIN
  IF depth <= 0 OR r < 0.35 THEN RETURN pg_temp.fz_scalar(); END IF;
  IF r < 0.65 THEN
    FOR i IN 1 .. floor(random() * 4)::int LOOP
      parts := parts || pg_temp.fz_json(depth - 1);
    END LOOP;
    RETURN '[' || array_to_string(parts, ',') || ']';
  END IF;
  FOR i IN 1 .. floor(random() * 4)::int LOOP
    parts := parts || (pg_temp.fz_key() || ':' || pg_temp.fz_json(depth - 1));
  END LOOP;
  RETURN '{' || array_to_string(parts, ',') || '}';
END $$;

-- a pattern that follows the grammar, with random operands (so many are
-- valid and reach the matcher)
CREATE FUNCTION pg_temp.fz_matcher() RETURNS text LANGUAGE sql VOLATILE AS $$
  SELECT CASE floor(random() * 12)::int
    WHEN 0 THEN pg_temp.fz_scalar()
    WHEN 1 THEN '{"prefix":' || pg_temp.fz_scalar() || '}'
    WHEN 2 THEN '{"suffix":{"equals-ignore-case":' || pg_temp.fz_scalar() || '}}'
    WHEN 3 THEN '{"equals-ignore-case":' || pg_temp.fz_scalar() || '}'
    WHEN 4 THEN '{"wildcard":' || pg_temp.fz_scalar() || '}'
    WHEN 5 THEN '{"anything-but":' || pg_temp.fz_pick('["a","b"]', '[1,2]', '{"prefix":"a"}', '{"wildcard":"*a*"}', '{"equals-ignore-case":["A"]}', pg_temp.fz_scalar()) || '}'
    WHEN 6 THEN '{"numeric":[">",' || pg_temp.fz_scalar() || ',"<=",' || pg_temp.fz_scalar() || ']}'
    WHEN 7 THEN '{"numeric":["=",' || pg_temp.fz_scalar() || ']}'
    WHEN 8 THEN '{"exists":' || pg_temp.fz_pick('true', 'false') || '}'
    WHEN 9 THEN '{"cidr":' || pg_temp.fz_scalar() || '}'
    WHEN 10 THEN '{"prefix":{"equals-ignore-case":' || pg_temp.fz_scalar() || '}}'
    ELSE '"' || pg_temp.fz_pick('a', 'b', '10.0.0.1') || '"'
  END $$;

CREATE FUNCTION pg_temp.fz_pattern(depth int) RETURNS text LANGUAGE plpgsql VOLATILE AS $$
DECLARE parts text[] := '{}'; r float8; m text[];
BEGIN
  FOR i IN 1 .. 1 + floor(random() * 3)::int LOOP
    r := random();
    IF depth > 0 AND r < 0.2 THEN
      parts := parts || (pg_temp.fz_pick('"a"', '"b"', '"detail"') || ':' || pg_temp.fz_pattern(depth - 1));
    ELSIF depth > 0 AND r < 0.3 THEN
      parts := parts || ('"$or":[' || pg_temp.fz_pattern(depth - 1) || ',' || pg_temp.fz_pattern(depth - 1) || ']');
    ELSE
      m := '{}';
      FOR j IN 1 .. 1 + floor(random() * 3)::int LOOP m := m || pg_temp.fz_matcher(); END LOOP;
      parts := parts || (pg_temp.fz_pick('"a"', '"b"', '"c"', '"n"') || ':[' || array_to_string(m, ',') || ']');
    END IF;
  END LOOP;
  RETURN '{' || array_to_string(parts, ',') || '}';
END $$;

-- a chain nested n deep: {"a":{"a":...[leaf]...}} or [[[...]]]
CREATE FUNCTION pg_temp.fz_deep(n int, leaf text, arrays boolean) RETURNS text LANGUAGE sql AS $$
  SELECT CASE WHEN arrays THEN repeat('[', n) || leaf || repeat(']', n)
              ELSE repeat('{"a":', n) || leaf || repeat('}', n) END $$;

CREATE TEMP TABLE fz_log(kind text, sqlstate text, message text, input text);

DO $$
DECLARE
  p text; e text; t0 timestamptz; slow interval := '0'; d interval;
  iterations int := current_setting('fz.iterations')::int;
BEGIN
  FOR i IN 1 .. iterations LOOP
    p := CASE WHEN random() < 0.05 THEN pg_temp.fz_deep(1 + floor(random() * 3000)::int, '["x"]', false)
              WHEN random() < 0.6 THEN pg_temp.fz_pattern(1 + floor(random() * 3)::int)
              ELSE pg_temp.fz_json(1 + floor(random() * 6)::int) END;
    e := CASE WHEN random() < 0.05 THEN '{"a":' || pg_temp.fz_deep(1 + floor(random() * 3000)::int, '"x"', random() < 0.5) || '}'
              WHEN random() < 0.05 THEN '{"a":[' || (SELECT string_agg('{"a":[{"a":"x","b":1}]}', ',') FROM generate_series(1, 60)) || ']}'
              WHEN random() < 0.5 THEN '{"a":' || pg_temp.fz_json(3) || ',"b":' || pg_temp.fz_json(2)
                   || ',"c":' || pg_temp.fz_scalar() || ',"n":' || pg_temp.fz_scalar()
                   || ',"detail":{"a":' || pg_temp.fz_json(2) || ',"b":' || pg_temp.fz_scalar() || '}}'
              ELSE pg_temp.fz_json(1 + floor(random() * 6)::int) END;
    t0 := clock_timestamp();
    BEGIN
      CASE floor(random() * 3)::int
        WHEN 0 THEN PERFORM outbox.test_event_pattern(p::jsonb, e::jsonb);
        WHEN 1 THEN PERFORM outbox.test_filter_policy(p::jsonb, e::jsonb, 'MessageBody');
        ELSE PERFORM outbox.test_filter_policy(p::jsonb, e::jsonb);
      END CASE;
      INSERT INTO fz_log VALUES ('answered', NULL, NULL, NULL);
    EXCEPTION
      WHEN invalid_parameter_value OR invalid_text_representation OR program_limit_exceeded
           OR statement_too_complex THEN
        INSERT INTO fz_log VALUES ('refused', SQLSTATE, NULL, NULL);
      WHEN OTHERS THEN
        INSERT INTO fz_log VALUES ('unexpected', SQLSTATE, SQLERRM, left(p, 200) || ' | ' || left(e, 200));
    END;
    d := clock_timestamp() - t0;
    IF d > slow THEN slow := d; END IF;
  END LOOP;
  RAISE LOG 'pattern fuzz: % iterations, slowest call %', iterations, slow;
  PERFORM set_config('fz.slowest', slow::text, false);
END $$;
