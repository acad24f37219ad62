-- bus: EventBridge-style event buses.  put_events matches each event
-- against the bus's enabled rules in the caller's transaction; queue and
-- topic targets are written in that transaction, function and bus targets
-- by the workers after commit.  The tables are private; the functions check
-- the caller's rights on the bus (src/bus/bus_catalog.c).

CREATE SEQUENCE outbox.event_bus_id_seq AS integer;
COMMENT ON SEQUENCE outbox.event_bus_id_seq IS 'Event bus numbers (never reused)';

CREATE TABLE outbox.event_bus (
    bus_id          integer PRIMARY KEY DEFAULT nextval('outbox.event_bus_id_seq'),
    bus_name        text NOT NULL UNIQUE,
    owner           name NOT NULL,
    description     text,
    created_at      timestamptz NOT NULL
);
COMMENT ON TABLE outbox.event_bus IS 'Event buses (use the event bus functions, not this table)';

-- Privileges granted on a bus: put (1), rules (2), admin (4).
CREATE TABLE outbox.bus_grant (
    bus_id      integer NOT NULL REFERENCES outbox.event_bus ON DELETE CASCADE,
    grantee     name NOT NULL,
    privileges  integer NOT NULL CHECK (privileges >= 0 AND privileges < 8),
    PRIMARY KEY (bus_id, grantee)
);
COMMENT ON TABLE outbox.bus_grant IS 'Privileges granted on event buses (use grant_event_bus and revoke_event_bus)';

CREATE SEQUENCE outbox.rule_id_seq AS integer;
COMMENT ON SEQUENCE outbox.rule_id_seq IS 'Rule numbers (never reused)';
CREATE TABLE outbox.rule (
    rule_id             integer PRIMARY KEY DEFAULT nextval('outbox.rule_id_seq'),
    bus_id              integer NOT NULL REFERENCES outbox.event_bus,
    rule_name           text NOT NULL,
    event_pattern       jsonb,
    schedule_expression text,
    schedule_token      uuid,       -- the firing a scheduled rule is waiting for
    schedule_timezone   text,       -- NULL: UTC
    enabled             boolean NOT NULL,
    description         text,
    owner               name NOT NULL,
    created_at          timestamptz NOT NULL,
    UNIQUE (bus_id, rule_name),
    CHECK (event_pattern IS NOT NULL OR schedule_expression IS NOT NULL)
);
COMMENT ON TABLE outbox.rule IS 'Rules of event buses (use put_rule and delete_rule)';

-- A target as put_targets gave it (validated); the kind and endpoint are
-- resolved from its Arn.
CREATE TABLE outbox.rule_target (
    rule_id     integer NOT NULL REFERENCES outbox.rule ON DELETE CASCADE,
    target_id   text NOT NULL,
    definition  jsonb NOT NULL,
    PRIMARY KEY (rule_id, target_id)
);
COMMENT ON TABLE outbox.rule_target IS 'Targets of rules (use put_targets and remove_targets)';

-- Archives keep the events a bus receives (those matching the archive's
-- pattern, all without one), for replays.
CREATE SEQUENCE outbox.archive_id_seq AS integer;
COMMENT ON SEQUENCE outbox.archive_id_seq IS 'Archive numbers (never reused)';
CREATE TABLE outbox.archive (
    archive_id      integer PRIMARY KEY DEFAULT nextval('outbox.archive_id_seq'),
    archive_name    text NOT NULL UNIQUE,
    bus_id          integer NOT NULL REFERENCES outbox.event_bus ON DELETE CASCADE,
    description     text,
    event_pattern   jsonb,
    retention_days  integer NOT NULL DEFAULT 0 CHECK (retention_days >= 0),
    owner           name NOT NULL,
    created_at      timestamptz NOT NULL
);
COMMENT ON TABLE outbox.archive IS 'Event archives (use create_archive and delete_archive)';

CREATE TABLE outbox.archived_event (
    archive_id      integer NOT NULL REFERENCES outbox.archive ON DELETE CASCADE,
    event_time      timestamptz NOT NULL,
    event_id        text NOT NULL,
    event           jsonb NOT NULL,
    archived_at     timestamptz NOT NULL,
    PRIMARY KEY (archive_id, event_time, event_id)
);
COMMENT ON TABLE outbox.archived_event IS 'The events kept by archives';

CREATE TABLE outbox.replay (
    replay_name         text PRIMARY KEY,
    archive_id          integer NOT NULL REFERENCES outbox.archive ON DELETE CASCADE,
    description         text,
    event_start_time    timestamptz NOT NULL,
    event_end_time      timestamptz NOT NULL,
    filter_rules        text[],
    state               text NOT NULL CHECK (state IN ('STARTING', 'RUNNING', 'CANCELLING', 'COMPLETED', 'CANCELLED', 'FAILED')),
    state_reason        text,
    events_replayed     bigint NOT NULL DEFAULT 0,
    cursor_time         timestamptz,
    cursor_id           text,
    event_last_replayed_time timestamptz,
    replay_start_time   timestamptz NOT NULL,
    replay_end_time     timestamptz,
    owner               name NOT NULL
);
COMMENT ON TABLE outbox.replay IS 'Replays of archived events (use start_replay, describe_replay, cancel_replay)';

CREATE TRIGGER archive_invalidate AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON outbox.archive
    FOR EACH STATEMENT EXECUTE FUNCTION outbox._invalidate_cache();

REVOKE ALL ON outbox.event_bus, outbox.bus_grant, outbox.rule, outbox.rule_target,
    outbox.archive, outbox.archived_event, outbox.replay,
    outbox.event_bus_id_seq, outbox.rule_id_seq, outbox.archive_id_seq FROM PUBLIC;

CREATE TRIGGER event_bus_invalidate AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON outbox.event_bus
    FOR EACH STATEMENT EXECUTE FUNCTION outbox._invalidate_cache();
CREATE TRIGGER bus_grant_invalidate AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON outbox.bus_grant
    FOR EACH STATEMENT EXECUTE FUNCTION outbox._invalidate_cache();
CREATE TRIGGER rule_invalidate AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON outbox.rule
    FOR EACH STATEMENT EXECUTE FUNCTION outbox._invalidate_cache();
CREATE TRIGGER rule_target_invalidate AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON outbox.rule_target
    FOR EACH STATEMENT EXECUTE FUNCTION outbox._invalidate_cache();

-- The default bus (always bus 1): every role may put events on it and keep
-- rules there.  pg_dump leaves it and its grants to CREATE EXTENSION.
INSERT INTO outbox.event_bus (bus_name, owner, description, created_at)
    VALUES ('default', current_user, 'The default event bus', now());
INSERT INTO outbox.bus_grant (bus_id, grantee, privileges)
    SELECT bus_id, 'PUBLIC', 3 FROM outbox.event_bus WHERE bus_name = 'default';

SELECT pg_catalog.pg_extension_config_dump('outbox.event_bus', 'WHERE bus_name <> ''default''');
SELECT pg_catalog.pg_extension_config_dump('outbox.bus_grant', 'WHERE bus_id <> 1');
SELECT pg_catalog.pg_extension_config_dump('outbox.rule', '');
SELECT pg_catalog.pg_extension_config_dump('outbox.rule_target', '');
SELECT pg_catalog.pg_extension_config_dump('outbox.event_bus_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('outbox.rule_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('outbox.archive', '');
SELECT pg_catalog.pg_extension_config_dump('outbox.archived_event', '');
SELECT pg_catalog.pg_extension_config_dump('outbox.replay', '');
SELECT pg_catalog.pg_extension_config_dump('outbox.archive_id_seq', '');

CREATE TYPE outbox.put_events_result AS (
    event_id        text,
    error_code      text,
    error_message   text
);
COMMENT ON TYPE outbox.put_events_result IS
  'One entry of put_events, in the order of the request: the EventId, or ErrorCode and ErrorMessage';

-- ---- buses

CREATE FUNCTION outbox.create_event_bus(name text, description text DEFAULT NULL)
    RETURNS text AS 'MODULE_PATHNAME', 'outbox_create_event_bus' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION outbox.create_event_bus(text, text) IS 'CreateEventBus: returns the bus ARN';

CREATE FUNCTION outbox.delete_event_bus(name text)
    RETURNS void AS 'MODULE_PATHNAME', 'outbox_delete_event_bus' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION outbox.delete_event_bus(text) IS
  'DeleteEventBus: refused for the default bus and while the bus has rules';

CREATE FUNCTION outbox.list_event_buses(OUT name text, OUT arn text, OUT owner name,
        OUT description text, OUT rules integer)
    RETURNS SETOF record AS 'MODULE_PATHNAME', 'outbox_list_event_buses' LANGUAGE C STABLE;
COMMENT ON FUNCTION outbox.list_event_buses() IS 'ListEventBuses: the buses the caller holds any right on';

CREATE FUNCTION outbox.grant_event_bus(name text, privileges text[], grantee text)
    RETURNS void AS 'MODULE_PATHNAME', 'outbox_grant_event_bus' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION outbox.grant_event_bus(text, text[], text) IS
  'Grant put, rules, admin or all on an event bus to a role (or PUBLIC)';

CREATE FUNCTION outbox.revoke_event_bus(name text, privileges text[], grantee text)
    RETURNS void AS 'MODULE_PATHNAME', 'outbox_revoke_event_bus' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION outbox.revoke_event_bus(text, text[], text) IS 'Revoke privileges on an event bus';

-- ---- rules

CREATE FUNCTION outbox.put_rule(name text, event_bus_name text DEFAULT 'default',
        event_pattern jsonb DEFAULT NULL, schedule_expression text DEFAULT NULL,
        state text DEFAULT 'ENABLED', description text DEFAULT NULL, schedule_timezone text DEFAULT NULL)
    RETURNS text AS 'MODULE_PATHNAME', 'outbox_put_rule' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION outbox.put_rule(text, text, jsonb, text, text, text, text) IS
  'PutRule: create or replace a rule (what is omitted is cleared, as in AWS; targets are kept); returns the rule ARN';

CREATE FUNCTION outbox.enable_rule(name text, event_bus_name text DEFAULT 'default')
    RETURNS void AS 'MODULE_PATHNAME', 'outbox_enable_rule' LANGUAGE C VOLATILE;
CREATE FUNCTION outbox.disable_rule(name text, event_bus_name text DEFAULT 'default')
    RETURNS void AS 'MODULE_PATHNAME', 'outbox_disable_rule' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION outbox.enable_rule(text, text) IS 'EnableRule';
COMMENT ON FUNCTION outbox.disable_rule(text, text) IS 'DisableRule: the rule matches nothing until enabled';

CREATE FUNCTION outbox.delete_rule(name text, event_bus_name text DEFAULT 'default')
    RETURNS void AS 'MODULE_PATHNAME', 'outbox_delete_rule' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION outbox.delete_rule(text, text) IS
  'DeleteRule: refused while the rule has targets; a rule that does not exist is not an error';

CREATE FUNCTION outbox.describe_rule(name text, event_bus_name text DEFAULT 'default')
    RETURNS jsonb AS 'MODULE_PATHNAME', 'outbox_describe_rule' LANGUAGE C STABLE;
COMMENT ON FUNCTION outbox.describe_rule(text, text) IS 'DescribeRule';

CREATE FUNCTION outbox.list_rules(event_bus_name text DEFAULT 'default', name_prefix text DEFAULT NULL,
        OUT name text, OUT arn text, OUT event_pattern jsonb, OUT schedule_expression text,
        OUT state text, OUT description text, OUT owner name, OUT targets integer)
    RETURNS SETOF record AS 'MODULE_PATHNAME', 'outbox_list_rules' LANGUAGE C STABLE;
COMMENT ON FUNCTION outbox.list_rules(text, text) IS 'ListRules';

-- ---- targets

CREATE FUNCTION outbox.put_targets(rule text, targets jsonb, event_bus_name text DEFAULT 'default')
    RETURNS jsonb AS 'MODULE_PATHNAME', 'outbox_put_targets' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION outbox.put_targets(text, jsonb, text) IS
  'PutTargets: add or replace (by Id) up to 10 targets; returns {"FailedEntryCount", "FailedEntries"}';

CREATE FUNCTION outbox.remove_targets(rule text, ids text[], event_bus_name text DEFAULT 'default')
    RETURNS jsonb AS 'MODULE_PATHNAME', 'outbox_remove_targets' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION outbox.remove_targets(text, text[], text) IS
  'RemoveTargets: returns {"FailedEntryCount", "FailedEntries"}';

CREATE FUNCTION outbox.list_targets_by_rule(rule text, event_bus_name text DEFAULT 'default',
        OUT id text, OUT arn text, OUT target jsonb)
    RETURNS SETOF record AS 'MODULE_PATHNAME', 'outbox_list_targets_by_rule' LANGUAGE C STABLE;
COMMENT ON FUNCTION outbox.list_targets_by_rule(text, text) IS 'ListTargetsByRule: each target as put_targets took it';

-- ---- schedules

CREATE FUNCTION outbox.next_firings(schedule_expression text, after timestamptz DEFAULT outbox.clock_now(),
        count integer DEFAULT 10, schedule_timezone text DEFAULT NULL)
    RETURNS SETOF timestamptz AS 'MODULE_PATHNAME', 'outbox_next_firings' LANGUAGE C STABLE;
COMMENT ON FUNCTION outbox.next_firings(text, timestamptz, integer, text) IS
  'The next firing times of a rate() or cron() schedule expression after a time (a rate counts from that time; cron reads the time zone, UTC by default)';

-- ---- archives and replays

CREATE FUNCTION outbox.create_archive(archive_name text, event_source_arn text, description text DEFAULT NULL,
        event_pattern jsonb DEFAULT NULL, retention_days integer DEFAULT 0)
    RETURNS text AS 'MODULE_PATHNAME', 'outbox_create_archive' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION outbox.create_archive(text, text, text, jsonb, integer) IS
  'CreateArchive: keep the events of a bus (matching the pattern, if given) for retention_days (0: forever); returns the archive ARN';

CREATE FUNCTION outbox.describe_archive(archive_name text)
    RETURNS jsonb AS 'MODULE_PATHNAME', 'outbox_describe_archive' LANGUAGE C STABLE;
COMMENT ON FUNCTION outbox.describe_archive(text) IS 'DescribeArchive, with EventCount and SizeBytes';

CREATE FUNCTION outbox.delete_archive(archive_name text)
    RETURNS void AS 'MODULE_PATHNAME', 'outbox_delete_archive' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION outbox.delete_archive(text) IS 'DeleteArchive: with its events and replays';

CREATE FUNCTION outbox.start_replay(replay_name text, event_source_arn text, event_start_time timestamptz,
        event_end_time timestamptz, destination jsonb DEFAULT NULL, description text DEFAULT NULL)
    RETURNS text AS 'MODULE_PATHNAME', 'outbox_start_replay' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION outbox.start_replay(text, text, timestamptz, timestamptz, jsonb, text) IS
  'StartReplay: re-send the archived events of [start, end) to the bus''s rules (or {"FilterArns": [...]}) after commit; returns the replay ARN';

CREATE FUNCTION outbox.describe_replay(replay_name text)
    RETURNS jsonb AS 'MODULE_PATHNAME', 'outbox_describe_replay' LANGUAGE C STABLE;
COMMENT ON FUNCTION outbox.describe_replay(text) IS 'DescribeReplay: state and progress';

CREATE FUNCTION outbox.cancel_replay(replay_name text)
    RETURNS text AS 'MODULE_PATHNAME', 'outbox_cancel_replay' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION outbox.cancel_replay(text) IS 'CancelReplay: a running replay stops after its current batch';

CREATE FUNCTION outbox.run_bus_maintenance()
    RETURNS bigint AS 'MODULE_PATHNAME', 'outbox_run_bus_maintenance' LANGUAGE C VOLATILE;
REVOKE ALL ON FUNCTION outbox.run_bus_maintenance() FROM PUBLIC;
COMMENT ON FUNCTION outbox.run_bus_maintenance() IS
  'Forget archived events past their archive''s retention (the workers run it with queue maintenance)';

-- ---- events

CREATE FUNCTION outbox.put_events(entries jsonb)
    RETURNS SETOF outbox.put_events_result AS 'MODULE_PATHNAME', 'outbox_put_events' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION outbox.put_events(jsonb) IS
  'PutEvents: 1 to 10 entries; each gets its EventId or an ErrorCode, in order; the good ones are routed in this transaction';
