-- Helpers for the topic suites (\i after queue_helpers.sql; not a suite).
-- take(queue): receive everything, delete it, and show each body with the
-- values that differ from run to run (ids, times) masked.
CREATE FUNCTION pg_temp.mask(s text) RETURNS text LANGUAGE sql AS $$
  SELECT regexp_replace(regexp_replace(s,
           '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}', '<uuid>', 'g'),
           '"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z"', '"<time>"', 'g') $$;
CREATE FUNCTION pg_temp.take(q text) RETURNS TABLE (body text, attributes jsonb, group_id text)
LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
  FOR r IN SELECT * FROM outbox.receive_message(q, 100) LOOP
    PERFORM outbox.delete_message(q, r.receipt_handle);
    body := pg_temp.mask(r.body); attributes := r.message_attributes; group_id := r.message_group_id;
    RETURN NEXT;
  END LOOP;
END $$;
GRANT EXECUTE ON FUNCTION pg_temp.mask(text), pg_temp.take(text) TO PUBLIC;
