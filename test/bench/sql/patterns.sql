-- Pattern-engine benchmark (test/bench/patterns.sh): 100,000 generated
-- events of about 1 KB matched against generated rule sets through the
-- compiled set (outbox.match_event_patterns, the structure buses use) and
-- one rule after another (separately => true, the naive baseline).
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_outbox;
SELECT setseed(0.5);

CREATE TABLE bench_events(id int PRIMARY KEY, body jsonb NOT NULL);
INSERT INTO bench_events
SELECT g, jsonb_build_object(
  'version', '0', 'id', md5(g::text)::uuid::text,
  'detail-type', (ARRAY['Order Placed', 'Order Shipped', 'Order Cancelled', 'Payment Captured',
                        'Payment Failed', 'Refund Issued', 'Customer Created', 'Customer Updated',
                        'Cart Abandoned', 'Inventory Low'])[1 + g % 10],
  'source', 'com.example.' || (ARRAY['orders', 'payments', 'customers', 'inventory', 'shipping'])[1 + (g / 10) % 5],
  'account', '123456789012',
  'time', to_char(timestamp '2026-01-01' + g * interval '17 seconds', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
  'region', (ARRAY['us-east-1', 'eu-west-1', 'ap-south-1'])[1 + g % 3],
  'resources', jsonb_build_array('arn:aws:example:us-east-1:123456789012:order/' || g),
  'detail', jsonb_build_object(
     'orderId', g,
     'status', (ARRAY['NEW', 'PAID', 'SHIPPED', 'CANCELLED'])[1 + (g / 7) % 4],
     'total', round((random() * 1000)::numeric, 2),
     'currency', (ARRAY['USD', 'EUR', 'gbp'])[1 + g % 3],
     'customer', jsonb_build_object(
        'id', 'C' || lpad((g % 5000)::text, 6, '0'),
        'tier', (ARRAY['gold', 'silver', 'bronze'])[1 + g % 3],
        'country', (ARRAY['US', 'FR', 'DE', 'IN', 'BR', 'JP', 'GB', 'ES', 'IT', 'CA'])[1 + g % 10],
        'email', 'user' || g || '@example.com'),
     'items', (SELECT jsonb_agg(jsonb_build_object(
                 'sku', 'SKU-' || lpad(((g * 7 + i) % 2000)::text, 5, '0'),
                 'qty', 1 + (g + i) % 5,
                 'price', round((random() * 100)::numeric, 2)))
                 FROM generate_series(1, 1 + g % 4) AS i),
     'clientIp', '10.' || (g % 256) || '.' || ((g / 256) % 256) || '.' || (g % 200),
     'tags', jsonb_build_array('t' || (g % 17), 't' || (g % 23)),
     'shipping', jsonb_build_object('method', (ARRAY['ground', 'air', 'pickup'])[1 + g % 3],
                                    'address', jsonb_build_object('street', g || ' Main Street',
                                                                  'city', 'City ' || (g % 300),
                                                                  'zip', lpad((g % 99999)::text, 5, '0'))),
     'notes', repeat('lorem ipsum dolor ', 12)))
  FROM generate_series(1, 100000) AS g;
VACUUM ANALYZE bench_events;

-- rules: every rule names a source; then one selective, indexable
-- condition; a third of them add a broad one (anything-but, wildcard,
-- exists, equals-ignore-case), as real rules do
CREATE FUNCTION rule(k int, mixed boolean) RETURNS jsonb LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  src text := 'com.example.' || (ARRAY['orders', 'payments', 'customers', 'inventory', 'shipping'])[1 + floor(random() * 5)::int];
  cust text := 'C' || lpad(floor(random() * 5000)::text, 6, '0');
  lo int := floor(random() * 100000);
  r jsonb;
  op int := CASE WHEN mixed THEN floor(random() * 8)::int ELSE floor(random() * 3)::int END;
BEGIN
  r := CASE op
    WHEN 0 THEN jsonb_build_object('detail', jsonb_build_object('customer', jsonb_build_object('id', jsonb_build_array(cust))))
    WHEN 1 THEN jsonb_build_object('resources', jsonb_build_array(jsonb_build_object('prefix',
                  'arn:aws:example:us-east-1:123456789012:order/' || floor(random() * 10000)::int)))
    WHEN 2 THEN jsonb_build_object('detail-type', jsonb_build_array(jsonb_build_object('prefix', 'Order')),
                  'detail', jsonb_build_object('customer', jsonb_build_object('email',
                  jsonb_build_array(jsonb_build_object('prefix', 'user' || floor(random() * 100000)::int || '@')))))
    WHEN 3 THEN jsonb_build_object('detail', jsonb_build_object('orderId', jsonb_build_array(jsonb_build_object('numeric',
                  jsonb_build_array('>=', lo, '<', lo + 20)))))
    WHEN 4 THEN jsonb_build_object('detail', jsonb_build_object('items', jsonb_build_object('sku', jsonb_build_array(
                  jsonb_build_object('suffix', lpad(floor(random() * 2000)::text, 5, '0'))))))
    WHEN 5 THEN jsonb_build_object('detail', jsonb_build_object('clientIp', jsonb_build_array(jsonb_build_object('cidr',
                  '10.' || floor(random() * 256)::int || '.' || floor(random() * 256)::int || '.0/24'))))
    WHEN 6 THEN jsonb_build_object('detail', jsonb_build_object('customer', jsonb_build_object('id', jsonb_build_array(
                  jsonb_build_object('equals-ignore-case', lower(cust))))))
    ELSE jsonb_build_object('detail', jsonb_build_object('shipping', jsonb_build_object('address', jsonb_build_object('zip',
                  jsonb_build_array(lpad(floor(random() * 99999)::text, 5, '0'))))))
  END;
  r := r || jsonb_build_object('source', jsonb_build_array(src));
  IF mixed AND random() < 0.33 THEN
    r := jsonb_set(r, '{detail}', coalesce(r -> 'detail', '{}') || CASE floor(random() * 4)::int
      WHEN 0 THEN jsonb_build_object('status', jsonb_build_array(jsonb_build_object('anything-but', jsonb_build_array('CANCELLED'))))
      WHEN 1 THEN jsonb_build_object('notes', jsonb_build_array(jsonb_build_object('wildcard', '*ipsum*')))
      WHEN 2 THEN jsonb_build_object('total', jsonb_build_array(jsonb_build_object('exists', true)))
      ELSE jsonb_build_object('currency', jsonb_build_array(jsonb_build_object('equals-ignore-case', 'usd')))
    END);
  END IF;
  RETURN r;
END $$;

CREATE TABLE bench_rules(kind text, n int, rules jsonb[]);
INSERT INTO bench_rules SELECT 'exact/prefix', 100, array_agg(rule(g, false)) FROM generate_series(1, 100) AS g;
INSERT INTO bench_rules SELECT 'mixed', n, (SELECT array_agg(rule(g, true)) FROM generate_series(1, n) AS g)
  FROM unnest(ARRAY[10, 100, 1000, 10000]) AS n;

-- one timed pass: seconds and matches over the first `events` events
CREATE FUNCTION run_pass(rules jsonb[], events int, separately boolean,
                         OUT seconds float8, OUT matches bigint) LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz := clock_timestamp();
BEGIN
  SELECT sum(cardinality(outbox.match_event_patterns(rules, body, separately))) INTO matches
    FROM bench_events WHERE id <= events;
  seconds := extract(epoch FROM clock_timestamp() - t0);
END $$;

CREATE TABLE results(kind text, n int, events int, seconds float8, matches bigint,
                     compile_s float8, naive_events int, naive_s float8, overhead_s float8);

DO $$
DECLARE
  r record; p record; c record; nv record; o record;
  naive_events int;
BEGIN
  -- the cost of the scan and the call itself: an empty rule set
  SELECT * INTO o FROM run_pass('{}'::jsonb[], 100000, false);
  FOR r IN SELECT * FROM bench_rules ORDER BY kind DESC, n LOOP
    SELECT * INTO c FROM run_pass(r.rules, 1, false);               -- compile + one event
    PERFORM run_pass(r.rules, 100000, false);                        -- warm
    SELECT * INTO p FROM run_pass(r.rules, 100000, false);
    naive_events := greatest(200, least(100000, 20000000 / r.n));
    SELECT * INTO nv FROM run_pass(r.rules, naive_events, true);
    INSERT INTO results VALUES (r.kind, r.n, 100000, p.seconds, p.matches, c.seconds,
                                naive_events, nv.seconds, o.seconds);
  END LOOP;
END $$;

\pset footer off
\pset format aligned
\pset tuples_only off
SELECT kind, n AS rules,
       round((events / seconds)::numeric) AS events_per_s,
       round((seconds * 1e6 / events)::numeric, 2) AS us_per_event,
       round(((seconds - overhead_s) * 1e6 / events)::numeric, 2) AS matcher_us_per_event,
       round(matches::numeric / events, 2) AS matches_per_event,
       round((compile_s * 1000)::numeric, 1) AS compile_ms,
       round((naive_s * 1e6 / naive_events)::numeric, 2) AS naive_us_per_event,
       round(((naive_s / naive_events) / (seconds / events))::numeric, 1) AS speedup_vs_naive
  FROM results ORDER BY kind DESC, n;
SELECT round((max(seconds) FILTER (WHERE kind = 'mixed' AND n = 10000) /
              max(seconds) FILTER (WHERE kind = 'mixed' AND n = 10))::numeric, 2) AS cost_10000_vs_10_rules,
       round((max(seconds - overhead_s) FILTER (WHERE kind = 'mixed' AND n = 10000) /
              max(seconds - overhead_s) FILTER (WHERE kind = 'mixed' AND n = 10))::numeric, 2) AS matcher_cost_10000_vs_10,
       round((100000 / max(overhead_s))::numeric) AS empty_set_events_per_s,
       (SELECT round(avg(length(body::text))) FROM bench_events) AS avg_event_bytes
  FROM results;
