-- core: objects every room uses.  The schema "outbox" is created by
-- CREATE EXTENSION (schema = outbox in the control file).

COMMENT ON SCHEMA outbox IS 'pg_outbox: SQS, SNS, EventBridge and Step Functions semantics inside PostgreSQL';

-- Everyone may call the API; the functions check rights per queue (and the
-- tables stay private to the extension owner).
GRANT USAGE ON SCHEMA outbox TO PUBLIC;

-- Per-installation settings that must survive dump/restore.
CREATE TABLE outbox.installation (
    singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    secret      bytea NOT NULL DEFAULT (decode(md5(random()::text || clock_timestamp()::text), 'hex')
                                        || decode(md5(random()::text || clock_timestamp()::text), 'hex')),
    created_at  timestamptz NOT NULL DEFAULT now()
);
REVOKE ALL ON outbox.installation FROM PUBLIC;
COMMENT ON TABLE outbox.installation IS
  'One row (made on first use, so a restore keeps the dumped one): the secret that signs receipt handles and seeds message ids of this installation';
SELECT pg_catalog.pg_extension_config_dump('outbox.installation', '');

CREATE FUNCTION outbox.clock_now() RETURNS timestamptz
    AS 'MODULE_PATHNAME', 'outbox_clock_now' LANGUAGE C VOLATILE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION outbox.clock_now() IS
  'The time every pg_outbox timer reads: the real time plus any offset set by advance_clock';

CREATE FUNCTION outbox.advance_clock(by interval) RETURNS timestamptz
    AS 'MODULE_PATHNAME', 'outbox_advance_clock' LANGUAGE C VOLATILE STRICT;
REVOKE ALL ON FUNCTION outbox.advance_clock(interval) FROM PUBLIC;
COMMENT ON FUNCTION outbox.advance_clock(interval) IS
  'Test helper (superuser): move the pg_outbox clock forward, so timers expire without sleeping';

-- Statement trigger that tells every backend's caches that a metadata table
-- changed (see src/core/cache.c).
CREATE FUNCTION outbox._invalidate_cache() RETURNS trigger
    AS 'MODULE_PATHNAME', 'outbox_invalidate_cache' LANGUAGE C;
REVOKE ALL ON FUNCTION outbox._invalidate_cache() FROM PUBLIC;
COMMENT ON FUNCTION outbox._invalidate_cache() IS
  'Internal: statement trigger invalidating the per-backend metadata caches';
