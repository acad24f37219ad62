-- Archives and replays: an archive keeps the committed events a bus
-- receives (those its pattern matches); a replay sends the events of a time
-- window to the bus's rules again (or only the FilterArns rules), marked
-- with replay-name, with progress in describe_replay; retention forgets old
-- events.  run_due_work and the movable clock stand in for the workers.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_outbox;
RESET client_min_messages;
\i sql/include/queue_helpers.sql
SET timezone = 'UTC';
-- got(queue): what arrived since the last look, as replay:detail-type ("-" for live events)
CREATE FUNCTION pg_temp.got(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r record; seen text[] := '{}';
BEGIN
  FOR r IN SELECT * FROM outbox.receive_message(q, 100) LOOP
    seen := seen || (coalesce(r.body::jsonb ->> 'replay-name', '-') || ':' || (r.body::jsonb ->> 'detail-type'));
    PERFORM outbox.delete_message(q, r.receipt_handle);
  END LOOP;
  RETURN coalesce((SELECT string_agg(x, ' ' ORDER BY x) FROM unnest(seen) x), '');
END $$;

SELECT outbox.create_queue('arch-all') IS NOT NULL AND outbox.create_queue('arch-live') IS NOT NULL;
SELECT outbox.put_rule('arch-all', event_pattern => '{"source": ["shop"]}') IS NOT NULL;
SELECT outbox.put_targets('arch-all', '[{"Id": "q", "Arn": "arn:aws:sqs:local:000000000000:arch-all"}]') ->> 'FailedEntryCount';
-- a rule that ignores replayed events
SELECT outbox.put_rule('arch-live', event_pattern => '{"source": ["shop"], "replay-name": [{"exists": false}]}') IS NOT NULL;
SELECT outbox.put_targets('arch-live', '[{"Id": "q", "Arn": "arn:aws:sqs:local:000000000000:arch-live"}]') ->> 'FailedEntryCount';

SELECT outbox.create_archive('shop', 'default', 'shop events', '{"source": ["shop"]}', 30);
SELECT outbox.create_archive('everything', 'arn:aws:events:local:000000000000:event-bus/default');
SELECT count(*) FROM outbox.put_events('[
  {"Source": "shop", "DetailType": "mon", "Detail": "{}", "Time": "2026-11-16T09:00:00Z"},
  {"Source": "shop", "DetailType": "tue", "Detail": "{}", "Time": "2026-11-17T09:00:00Z"},
  {"Source": "shop", "DetailType": "wed", "Detail": "{}", "Time": "2026-11-18T09:00:00Z"},
  {"Source": "crm", "DetailType": "crm", "Detail": "{}", "Time": "2026-11-17T10:00:00Z"}]');
BEGIN;
SELECT count(*) FROM outbox.put_events('[{"Source": "shop", "DetailType": "rolled-back", "Detail": "{}", "Time": "2026-11-17T12:00:00Z"}]');
ROLLBACK;
SELECT a ->> 'ArchiveName' AS archive, a ->> 'EventCount' AS events, a ->> 'RetentionDays' AS retention, a -> 'EventPattern' AS pattern
  FROM (SELECT outbox.describe_archive(n) AS a FROM unnest('{shop,everything}'::text[]) n) d;
SELECT pg_temp.got('arch-all') AS all_live, pg_temp.got('arch-live') AS live;

-- replay Tuesday and Wednesday to every rule
SELECT outbox.start_replay('tue-wed', 'shop', '2026-11-17', '2026-11-19');
SELECT r ->> 'State' AS state, r ->> 'EventsReplayed' AS replayed FROM outbox.describe_replay('tue-wed') r;
SELECT outbox.run_due_work() AS ran;
SELECT r ->> 'State' AS state, r ->> 'EventsReplayed' AS replayed, r ? 'ReplayEndTime' AS ended, r ->> 'EventSourceArn' AS source
  FROM outbox.describe_replay('tue-wed') r;
SELECT pg_temp.got('arch-all') AS all_rules, pg_temp.got('arch-live') AS live_only;
SELECT outbox.describe_archive('shop') ->> 'EventCount' AS not_archived_again;

-- replay to chosen rules only
SELECT outbox.start_replay('mon-live', 'shop', '2026-11-16', '2026-11-17',
       '{"Arn": "arn:aws:events:local:000000000000:event-bus/default", "FilterArns": ["arn:aws:events:local:000000000000:rule/arch-all"]}');
SELECT outbox.run_due_work() AS ran;
SELECT pg_temp.got('arch-all') AS filtered, pg_temp.got('arch-live') AS live;

-- cancelling: before it runs, it ends CANCELLED; a finished replay cannot be cancelled
SELECT outbox.start_replay('cancelled', 'shop', '2026-11-01', '2026-12-01');
SELECT outbox.cancel_replay('cancelled');
SELECT outbox.run_due_work() AS ran;
SELECT outbox.describe_replay('cancelled') ->> 'State' AS state;
SELECT pg_temp.got('arch-all') AS nothing;
SELECT pg_temp.err($$SELECT outbox.cancel_replay('tue-wed')$$);

-- bad input
SELECT pg_temp.err($$SELECT outbox.create_archive('shop', 'default')$$);
SELECT pg_temp.err($$SELECT outbox.create_archive('bad name', 'default')$$);
SELECT pg_temp.err($$SELECT outbox.create_archive(repeat('a', 49), 'default')$$);
SELECT pg_temp.err($$SELECT outbox.create_archive('a', 'nope')$$);
SELECT pg_temp.err($$SELECT outbox.create_archive('a', 'default', event_pattern => '{"source": "x"}')$$);
SELECT pg_temp.err($$SELECT outbox.create_archive('a', 'default', retention_days => -1)$$);
SELECT pg_temp.err($$SELECT outbox.start_replay('tue-wed', 'shop', '2026-11-17', '2026-11-19')$$);
SELECT pg_temp.err($$SELECT outbox.start_replay('r', 'shop', '2026-11-19', '2026-11-17')$$);
SELECT pg_temp.err($$SELECT outbox.start_replay('r', 'nope', '2026-11-17', '2026-11-19')$$);
SELECT pg_temp.err($$SELECT outbox.start_replay('r', 'shop', '2026-11-17', '2026-11-19', '{"Arn": "arn:aws:events:local:000000000000:event-bus/other"}')$$);
SELECT pg_temp.err($$SELECT outbox.start_replay('r', 'shop', '2026-11-17', '2026-11-19', '{"FilterArns": ["arn:aws:events:local:000000000000:rule/nope"]}')$$);
SELECT pg_temp.err($$SELECT outbox.start_replay('r', 'shop', NULL, '2026-11-19')$$);
SELECT pg_temp.err($$SELECT outbox.describe_replay('nope')$$);
SELECT pg_temp.err($$SELECT outbox.describe_archive('nope')$$);

-- retention: events archived more than 30 days ago are forgotten
SELECT pg_temp.tick(31 * 86400);
SELECT outbox.run_bus_maintenance() AS forgotten;
SELECT outbox.describe_archive('shop') ->> 'EventCount' AS shop, outbox.describe_archive('everything') ->> 'EventCount' AS kept_forever;

SELECT outbox.delete_archive('shop'), outbox.delete_archive('everything');
SELECT pg_temp.err($$SELECT outbox.describe_replay('tue-wed')$$);
SELECT outbox.remove_targets(n, '{q}') ->> 'FailedEntryCount', outbox.delete_rule(n) FROM unnest('{arch-all,arch-live}'::text[]) n;
SELECT outbox.delete_queue('arch-all'), outbox.delete_queue('arch-live');
