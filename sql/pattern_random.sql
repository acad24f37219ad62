-- Differential test: 400 generated patterns compiled into one automaton
-- must match exactly what each pattern matches on its own, over 400
-- generated events.  The generator (setseed) is deterministic, so the
-- totals below are stable; any disagreement is listed.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_outbox;
RESET client_min_messages;
SELECT setseed(0.42);

CREATE FUNCTION pg_temp.pick(VARIADIC a text[]) RETURNS text LANGUAGE sql VOLATILE AS
$$ SELECT a[1 + floor(random() * array_length(a, 1))::int] $$;

-- one leaf matcher
CREATE FUNCTION pg_temp.matcher() RETURNS text LANGUAGE sql VOLATILE AS $$
  SELECT CASE floor(random() * 13)::int
    WHEN 0 THEN to_json(pg_temp.pick('a', 'b', 'c', 'ab', 'abc', 'B'))::text
    WHEN 1 THEN pg_temp.pick('1', '2', '2.0', '3', '-1', '10')
    WHEN 2 THEN format('{"prefix":%s}', to_json(pg_temp.pick('a', 'ab', 'b', '')))
    WHEN 3 THEN format('{"suffix":%s}', to_json(pg_temp.pick('c', 'bc', 'b')))
    WHEN 4 THEN format('{"equals-ignore-case":%s}', to_json(pg_temp.pick('AB', 'b', 'Abc')))
    WHEN 5 THEN format('{"anything-but":%s}', pg_temp.pick('"a"', '["a","b"]', '1', '[1,2]', '{"prefix":"a"}', '{"suffix":"c"}'))
    WHEN 6 THEN format('{"numeric":%s}', pg_temp.pick('[">",1]', '[">=",2]', '["<",3]', '[">",0,"<=",2]', '["=",2]', '[">=",-1,"<",10]'))
    WHEN 7 THEN format('{"exists":%s}', pg_temp.pick('true', 'false'))
    WHEN 8 THEN format('{"wildcard":%s}', to_json(pg_temp.pick('a*', '*c', 'a*c', '*b*')))
    WHEN 9 THEN format('{"cidr":%s}', to_json(pg_temp.pick('10.0.0.0/8', '10.1.0.0/16', '::/0')))
    WHEN 10 THEN 'null'
    WHEN 11 THEN pg_temp.pick('true', 'false')
    ELSE format('{"prefix":{"equals-ignore-case":%s}}', to_json(pg_temp.pick('A', 'Ab')))
  END $$;

CREATE FUNCTION pg_temp.leaf() RETURNS text LANGUAGE sql VOLATILE AS $$
  SELECT '[' || string_agg(pg_temp.matcher(), ',') || ']' FROM generate_series(1, 1 + floor(random() * 2)::int) $$;

-- a pattern over a fixed vocabulary of paths, sometimes with $or
CREATE FUNCTION pg_temp.pattern() RETURNS text LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  top text[] := '{}'; detail text[] := '{}'; items text[] := '{}';
  k text;
BEGIN
  FOREACH k IN ARRAY ARRAY['source', 'kind', 'ip'] LOOP
    IF random() < 0.35 THEN top := top || format('%s:%s', to_json(k), pg_temp.leaf()); END IF;
  END LOOP;
  FOREACH k IN ARRAY ARRAY['a', 'b', 'n'] LOOP
    IF random() < 0.35 THEN detail := detail || format('%s:%s', to_json(k), pg_temp.leaf()); END IF;
  END LOOP;
  FOREACH k IN ARRAY ARRAY['sku', 'qty'] LOOP
    IF random() < 0.3 THEN items := items || format('%s:%s', to_json(k), pg_temp.leaf()); END IF;
  END LOOP;
  IF cardinality(items) > 0 THEN detail := detail || ('"items":{' || array_to_string(items, ',') || '}'); END IF;
  IF random() < 0.2 THEN
    detail := detail || format('"$or":[{"a":%s},{"b":%s}]', pg_temp.leaf(), pg_temp.leaf());
  END IF;
  IF cardinality(detail) > 0 THEN top := top || ('"detail":{' || array_to_string(detail, ',') || '}'); END IF;
  IF cardinality(top) = 0 THEN top := ARRAY[format('"source":%s', pg_temp.leaf())]; END IF;
  RETURN '{' || array_to_string(top, ',') || '}';
END $$;

CREATE FUNCTION pg_temp.value() RETURNS text LANGUAGE sql VOLATILE AS $$
  SELECT pg_temp.pick('"a"', '"ab"', '"abc"', '"AB"', '"b"', '"bc"', '""', '1', '2', '2.00', '-1', '0.5', '10',
                      'null', 'true', 'false', '"10.1.2.3"', '"10.2.0.1"', '"::1"', '["a","c"]', '[1,3]', '[]', '{"x":1}') $$;

CREATE FUNCTION pg_temp.event() RETURNS text LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  top text[] := '{}'; detail text[] := '{}'; items text[] := '{}';
  k text;
BEGIN
  FOREACH k IN ARRAY ARRAY['source', 'kind', 'ip'] LOOP
    IF random() < 0.7 THEN top := top || format('%s:%s', to_json(k), pg_temp.value()); END IF;
  END LOOP;
  FOREACH k IN ARRAY ARRAY['a', 'b', 'n'] LOOP
    IF random() < 0.7 THEN detail := detail || format('%s:%s', to_json(k), pg_temp.value()); END IF;
  END LOOP;
  FOR i IN 1 .. floor(random() * 3)::int LOOP
    items := items || format('{"sku":%s,"qty":%s}', pg_temp.value(), pg_temp.value());
  END LOOP;
  detail := detail || ('"items":[' || array_to_string(items, ',') || ']');
  top := top || ('"detail":{' || array_to_string(detail, ',') || '}');
  RETURN '{' || array_to_string(top, ',') || '}';
END $$;

-- invalid generated patterns (e.g. an empty anything-but never happens,
-- but a range may not) are dropped
CREATE FUNCTION pg_temp.valid(p text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN PERFORM outbox.test_event_pattern(p::jsonb, '{}'); RETURN true;
EXCEPTION WHEN invalid_parameter_value THEN RETURN false; END $$;

CREATE TEMP TABLE pats AS SELECT g AS id, pg_temp.pattern()::jsonb AS p FROM generate_series(1, 400) AS g;
DELETE FROM pats WHERE NOT pg_temp.valid(p::text);
CREATE TEMP TABLE evs AS SELECT g AS id, pg_temp.event()::jsonb AS e FROM generate_series(1, 400) AS g;
CREATE TEMP TABLE arr AS SELECT array_agg(p ORDER BY id) AS a FROM pats;

CREATE TEMP TABLE results AS
SELECT evs.id, outbox.match_event_patterns(arr.a, evs.e) AS together,
       outbox.match_event_patterns(arr.a, evs.e, separately => true) AS alone
  FROM evs, arr;

SELECT (SELECT count(*) FROM pats) AS patterns,
       count(*) AS events,
       sum(cardinality(together)) AS matches,
       count(*) FILTER (WHERE cardinality(together) > 0) AS events_matching_something,
       count(*) FILTER (WHERE together IS DISTINCT FROM alone) AS disagreements
  FROM results;
SELECT r.id, e.e, r.together, r.alone FROM results r JOIN evs e USING (id)
 WHERE r.together IS DISTINCT FROM r.alone LIMIT 5;
