-- Helpers shared by the state machine execution suites (\i from each; not a suite).
-- err(sql): the statement's SQLSTATE and message, or 'ok'; drive(): run due
-- work until none is left; tick(seconds): move the clock; arn(machine, name);
-- outcome(machine, name): status, output, error and cause; types(machine,
-- name[, since]): the history's event types after event "since".
CREATE FUNCTION pg_temp.err(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN EXECUTE sql; RETURN 'ok'; EXCEPTION WHEN OTHERS THEN RETURN SQLSTATE || ': ' || SQLERRM; END $$;
CREATE FUNCTION pg_temp.drive() RETURNS void LANGUAGE plpgsql AS $$
BEGIN FOR i IN 1..50 LOOP EXIT WHEN outbox.run_due_work() = 0; END LOOP; END $$;
CREATE FUNCTION pg_temp.tick(s numeric) RETURNS void LANGUAGE sql AS $$
  SELECT outbox.advance_clock(make_interval(secs => s)) $$;
CREATE FUNCTION pg_temp.arn(machine text, name text) RETURNS text LANGUAGE sql AS $$
  SELECT 'arn:aws:states:local:000000000000:execution:' || machine || ':' || name $$;
CREATE FUNCTION pg_temp.outcome(machine text, name text) RETURNS jsonb LANGUAGE sql AS $$
  SELECT jsonb_object_agg(k, v) FROM jsonb_each(outbox.describe_execution(pg_temp.arn(machine, name))) e(k, v)
   WHERE k IN ('status', 'output', 'error', 'cause') $$;
CREATE FUNCTION pg_temp.types(machine text, name text, since int DEFAULT 0) RETURNS text LANGUAGE sql AS $$
  SELECT string_agg(type, ' ' ORDER BY id) FROM outbox.get_execution_history(pg_temp.arn(machine, name)) WHERE id > since $$;
