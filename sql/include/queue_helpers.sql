-- Helpers shared by the queue suites (\i from each; not a suite itself).
-- err(sql): run one statement; show its SQLSTATE and message (receipt handles,
-- which differ from run to run, as <handle>; the batch entry an error's
-- context names, in brackets), or 'ok'.
CREATE FUNCTION pg_temp.err(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE ctx text;
BEGIN
  EXECUTE sql;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS ctx = PG_EXCEPTION_CONTEXT;
  RETURN regexp_replace(SQLSTATE || ': ' || SQLERRM, '[0-9a-f]{56}', '<handle>')
         || coalesce(' [' || substring(ctx from 'batch entry "[^"]*"') || ']', '');
END $$;
GRANT EXECUTE ON FUNCTION pg_temp.err(text) TO PUBLIC;
-- depth(queue): the counters as visible/in flight/delayed
CREATE FUNCTION pg_temp.depth(q text) RETURNS text LANGUAGE sql AS $$
  SELECT format('%s/%s/%s', a ->> 'ApproximateNumberOfMessages', a ->> 'ApproximateNumberOfMessagesNotVisible',
                a ->> 'ApproximateNumberOfMessagesDelayed')
    FROM outbox.get_queue_attributes(q) AS a $$;
-- tick(seconds): move the pg_outbox clock forward
CREATE FUNCTION pg_temp.tick(s int) RETURNS void LANGUAGE sql AS $$
  SELECT outbox.advance_clock(make_interval(secs => s)) $$;
