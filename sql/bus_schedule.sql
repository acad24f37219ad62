-- Schedules: rate() and cron() expressions with their next firing times
-- (next_firings), every malformed expression refused with the reason, and
-- scheduled rules firing through the due items (run_due_work and the
-- movable clock stand in for the workers): once per slot, not for a
-- replaced or disabled rule, and once (not per missed slot) after a gap.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_outbox;
RESET client_min_messages;
\i sql/include/queue_helpers.sql
SET timezone = 'UTC';

CREATE FUNCTION pg_temp.firings(e text, n int DEFAULT 5) RETURNS text LANGUAGE sql AS $$
  SELECT string_agg(to_char(f, 'Dy YYYY-MM-DD HH24:MI'), ', ' ORDER BY f)
    FROM outbox.next_firings(e, '2026-11-23 10:07:30+00', n) f $$;

SELECT e AS expression, pg_temp.firings(e) AS next_firings FROM unnest(ARRAY[
  'rate(1 minute)', 'rate(5 minutes)', 'rate(1 hour)', 'rate(12 hours)', 'rate(1 day)', 'rate(7 days)',
  'cron(0 10 * * ? *)', 'cron(15 12 * * ? *)', 'cron(0 18 ? * MON-FRI *)', 'cron(0 8 1 * ? *)',
  'cron(0/10 * ? * MON-FRI *)', 'cron(5/20 9-10 * * ? *)', 'cron(0 0-23/6 * * ? *)',
  'cron(15 10 ? * 6L 2026-2030)', 'cron(0 9 ? * 2#1 *)', 'cron(0 9 ? * 6#5 *)',
  'cron(0 8 L * ? *)', 'cron(0 8 LW * ? *)', 'cron(0 8 1W * ? *)', 'cron(0 8 15W * ? *)', 'cron(0 8 31W * ? *)',
  'cron(0 12 29 2 ? *)', 'cron(0 0 ? JAN,JUL SUN#1 *)', 'cron(30 23 ? * L *)', 'cron(0 6 1,15 * ? 2027)',
  'cron(0 0 ? * sat,sun *)', 'cron(59 23 31 DEC ? *)', 'cron(0 0 1 1 ? 1999)']) e;

-- malformed expressions, each with its reason
SELECT pg_temp.err(format('SELECT outbox.next_firings(%L)', e)) FROM unnest(ARRAY[
  'rate(1 minutes)', 'rate(5 minute)', 'rate(0 minutes)', 'rate(5 seconds)', 'rate(minutes)', 'rate(-5 minutes)',
  'cron(0 9 * * MON-FRI *)', 'cron(0 9 ? * ? *)', 'cron(0 9 * * *)', 'cron(0 9 * * ? * *)',
  'cron(0 24 * * ? *)', 'cron(60 0 * * ? *)', 'cron(0 9 ? * 0 *)', 'cron(0 9 ? * 8 *)', 'cron(0 9 32 * ? *)',
  'cron(0 9 1 13 ? *)', 'cron(0 9 1 * ? 2200)', 'cron(0 9 ? * 2#6 *)', 'cron(0 9 1-5W * ? *)',
  'cron(0 9 5-1 * ? *)', 'cron(0/0 * * * ? *)', 'cron(0 9 1, * ? *)', 'cron(0 9 ? FOO * *)', 'every day', '']) e;

-- a scheduled rule fires its targets with the scheduled event
SELECT outbox.create_queue('ticks') IS NOT NULL;
SELECT outbox.put_rule('every-5', schedule_expression => 'rate(5 minutes)') IS NOT NULL;
SELECT outbox.put_targets('every-5', '[{"Id": "q", "Arn": "arn:aws:sqs:local:000000000000:ticks"}]') ->> 'FailedEntryCount';
SELECT kind, round(extract(epoch FROM due_at - outbox.clock_now()) / 60) AS due_in_minutes FROM outbox.due_item;
SELECT outbox.run_due_work() AS nothing_yet;
SELECT pg_temp.tick(300);
SELECT outbox.run_due_work() AS fired;
SELECT b - 'id' - 'time' AS event FROM (SELECT body::jsonb AS b FROM outbox.receive_message('ticks', 10, 0)) r;
SELECT round(extract(epoch FROM due_at - outbox.clock_now()) / 60) AS next_in_minutes FROM outbox.due_item;
SELECT outbox.run_due_work() AS not_again;

-- a gap of 30 minutes: one firing, not six, and the schedule goes on
SELECT pg_temp.tick(1800);
SELECT outbox.run_due_work() AS fired_once;
SELECT count(*) AS in_queue FROM outbox.receive_message('ticks', 10, 0);
SELECT count(*) AS items FROM outbox.due_item;

-- disabled: nothing fires; enabled again: the rate counts from then
SELECT outbox.disable_rule('every-5');
SELECT pg_temp.tick(600);
SELECT outbox.run_due_work() AS ran;
SELECT count(*) AS in_queue FROM outbox.receive_message('ticks', 10, 0);
SELECT outbox.enable_rule('every-5');
SELECT round(extract(epoch FROM due_at - outbox.clock_now()) / 60) AS due_in_minutes FROM outbox.due_item;
-- replaced with another schedule: the old firing is void
SELECT outbox.put_rule('every-5', schedule_expression => 'rate(1 hour)') IS NOT NULL;
SELECT pg_temp.tick(300);
SELECT outbox.run_due_work() AS ran;
SELECT count(*) AS in_queue FROM outbox.receive_message('ticks', 10, 0);
SELECT round(extract(epoch FROM due_at - outbox.clock_now()) / 60) AS next_in_minutes FROM outbox.due_item;
SELECT pg_temp.tick(3300);
SELECT outbox.run_due_work() AS fired;
SELECT count(*) AS in_queue FROM outbox.receive_message('ticks', 10, 0);

-- a rule with a pattern and a schedule fires on both
SELECT outbox.put_rule('every-5', event_pattern => '{"source": ["tick"]}', schedule_expression => 'rate(1 hour)') IS NOT NULL;
SELECT count(*) FROM outbox.put_events('[{"Source": "tick", "DetailType": "t", "Detail": "{}"}]');
SELECT body::jsonb ->> 'source' AS source FROM outbox.receive_message('ticks', 10, 0);

-- bad rules: schedules only on the default bus, and only valid ones
SELECT outbox.create_event_bus('other') IS NOT NULL;
SELECT pg_temp.err($$SELECT outbox.put_rule('s', 'other', schedule_expression => 'rate(1 hour)')$$);
SELECT pg_temp.err($$SELECT outbox.put_rule('s', schedule_expression => 'rate(1 hours)')$$);
SELECT pg_temp.err($$SELECT outbox.put_rule('s', schedule_expression => 'cron(0 9 * * ? *')$$);
SELECT count(*) AS rules FROM outbox.list_rules() WHERE name = 's';

-- deleting the rule voids its firing
SELECT outbox.remove_targets('every-5', '{q}') ->> 'FailedEntryCount', outbox.delete_rule('every-5');
SELECT pg_temp.tick(3600);
SELECT outbox.run_due_work() AS ran;
SELECT count(*) AS items FROM outbox.due_item;
SELECT outbox.delete_event_bus('other'), outbox.delete_queue('ticks');

-- time zones: cron reads the rule's schedule_timezone (UTC by default)
SELECT to_char(f AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS utc, to_char(f AT TIME ZONE 'Europe/Paris', 'HH24:MI') AS paris
  FROM outbox.next_firings('cron(30 2 * * ? *)', '2027-03-26 00:00+00', 4, 'Europe/Paris') f;
SELECT to_char(f AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS utc
  FROM outbox.next_firings('cron(30 2 * * ? *)', '2027-10-30 00:00+00', 3, 'Europe/Paris') f;
SELECT to_char(f AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS utc
  FROM outbox.next_firings('cron(0 9 ? * MON-FRI *)', '2026-11-23 00:00+00', 2, 'America/New_York') f;
SELECT pg_temp.err($$SELECT outbox.next_firings('cron(0 9 * * ? *)', now(), 1, 'Mars/Olympus')$$);
SELECT outbox.create_queue('tz-ticks') IS NOT NULL;
SELECT outbox.put_rule('paris-9am', schedule_expression => 'cron(0 9 * * ? *)', schedule_timezone => 'Europe/Paris') IS NOT NULL;
SELECT outbox.describe_rule('paris-9am') ->> 'ScheduleExpressionTimezone' AS timezone;
SELECT to_char(due_at AT TIME ZONE 'Europe/Paris', 'HH24:MI') AS due_paris FROM outbox.due_item WHERE kind = 'schedule';
SELECT pg_temp.err($$SELECT outbox.put_rule('bad-tz', schedule_expression => 'cron(0 9 * * ? *)', schedule_timezone => 'Nowhere')$$);
SELECT pg_temp.err($$SELECT outbox.put_rule('bad-tz', event_pattern => '{"source": ["x"]}', schedule_timezone => 'Europe/Paris')$$);
SELECT outbox.delete_rule('paris-9am'), outbox.delete_queue('tz-ticks');
SELECT outbox.run_due_work(1000, 5) >= 0 AS drained;
