-- worker: function invocations, event source mappings, due items, and the
-- views of the background runtime.

-- Per-function settings (Lambda's function configuration and event invoke
-- configuration in one row).
CREATE TABLE outbox.function_config (
    function                    regprocedure PRIMARY KEY,
    timeout_seconds             integer NOT NULL DEFAULT 3 CHECK (timeout_seconds BETWEEN 1 AND 900),
    maximum_retry_attempts      integer NOT NULL DEFAULT 2 CHECK (maximum_retry_attempts BETWEEN 0 AND 2),
    maximum_event_age_seconds   integer NOT NULL DEFAULT 21600
                                CHECK (maximum_event_age_seconds BETWEEN 60 AND 21600),
    on_success                  text,       -- destination queue name
    on_failure                  text,
    reserved_concurrency        integer CHECK (reserved_concurrency BETWEEN 0 AND 1000),
    last_modified               timestamptz NOT NULL
);
COMMENT ON TABLE outbox.function_config IS
  'Timeout, asynchronous retries, destinations and concurrency per function (put_function_config)';

-- Due items: work a worker runs at or after due_at, each in a transaction
-- of its own, as run_as.  Asynchronous invocations are items of kind
-- ''invoke''; other rooms add kinds of their own.
CREATE SEQUENCE outbox.due_item_id_seq AS bigint;
COMMENT ON SEQUENCE outbox.due_item_id_seq IS 'Due item numbers';

CREATE TABLE outbox.due_item (
    item_id         bigint PRIMARY KEY DEFAULT nextval('outbox.due_item_id_seq'),
    kind            text NOT NULL,
    due_at          timestamptz NOT NULL,
    run_as          regrole NOT NULL,
    function        regprocedure,
    payload         jsonb,
    request_id      uuid NOT NULL,
    attempts        integer NOT NULL DEFAULT 0,
    enqueued_at     timestamptz NOT NULL,
    last_error      text
);
CREATE INDEX due_item_due_idx ON outbox.due_item (due_at);
COMMENT ON TABLE outbox.due_item IS 'Deferred work: asynchronous invocations and timers, run by the workers';

CREATE TABLE outbox.event_source_mapping (
    uuid                            uuid PRIMARY KEY,
    queue_name                      text NOT NULL,
    function                        regprocedure NOT NULL,
    batch_size                      integer NOT NULL CHECK (batch_size BETWEEN 1 AND 10000),
    maximum_batching_window_seconds integer NOT NULL CHECK (maximum_batching_window_seconds BETWEEN 0 AND 300),
    report_batch_item_failures      boolean NOT NULL,
    enabled                         boolean NOT NULL,
    run_as                          regrole NOT NULL,
    last_modified                   timestamptz NOT NULL,
    last_processing_result          text,
    UNIQUE (queue_name, function)
);
COMMENT ON TABLE outbox.event_source_mapping IS
  'Queues whose messages the workers pass to a function in batches (create_event_source_mapping)';

REVOKE ALL ON outbox.function_config, outbox.due_item, outbox.event_source_mapping,
    outbox.due_item_id_seq FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('outbox.due_item_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('outbox.function_config', '');
SELECT pg_catalog.pg_extension_config_dump('outbox.due_item', '');
SELECT pg_catalog.pg_extension_config_dump('outbox.event_source_mapping', '');

-- Mapping changes reach every backend's cache and wake the workers.
CREATE TRIGGER event_source_mapping_invalidate
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON outbox.event_source_mapping
    FOR EACH STATEMENT EXECUTE FUNCTION outbox._invalidate_cache();

-- ---- functions (our Lambda)

CREATE FUNCTION outbox.invoke(function regprocedure, payload jsonb DEFAULT '{}',
                              invocation_type text DEFAULT 'RequestResponse')
    RETURNS jsonb AS 'MODULE_PATHNAME', 'outbox_invoke' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION outbox.invoke(regprocedure, jsonb, text) IS
  'Invoke: RequestResponse calls the function now and returns its result; Event queues it for a worker after commit (retries, destinations) and returns {"StatusCode": 202, "RequestId": ...}';

CREATE FUNCTION outbox.put_function_config(function regprocedure,
        timeout_seconds integer DEFAULT NULL, maximum_retry_attempts integer DEFAULT NULL,
        maximum_event_age_seconds integer DEFAULT NULL, on_success text DEFAULT NULL,
        on_failure text DEFAULT NULL, reserved_concurrency integer DEFAULT NULL)
    RETURNS jsonb AS 'MODULE_PATHNAME', 'outbox_put_function_config' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION outbox.put_function_config(regprocedure, integer, integer, integer, text, text, integer) IS
  'Set a function''s timeout, asynchronous retries and event age, success/failure destination queues and reserved concurrency (arguments left NULL keep their value; '''' clears a destination)';

CREATE FUNCTION outbox.get_function_config(function regprocedure)
    RETURNS jsonb AS 'MODULE_PATHNAME', 'outbox_get_function_config' LANGUAGE C STABLE;
COMMENT ON FUNCTION outbox.get_function_config(regprocedure) IS 'The settings of a function (defaults when never set)';

CREATE FUNCTION outbox.delete_function_config(function regprocedure)
    RETURNS void AS 'MODULE_PATHNAME', 'outbox_delete_function_config' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION outbox.delete_function_config(regprocedure) IS 'Return a function to the default settings';

-- ---- event source mappings

CREATE FUNCTION outbox.create_event_source_mapping(queue_name text, function regprocedure,
        batch_size integer DEFAULT 10, maximum_batching_window_seconds integer DEFAULT 0,
        function_response_types text[] DEFAULT '{}', enabled boolean DEFAULT true)
    RETURNS jsonb AS 'MODULE_PATHNAME', 'outbox_create_event_source_mapping' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION outbox.create_event_source_mapping(text, regprocedure, integer, integer, text[], boolean) IS
  'CreateEventSourceMapping: workers receive from the queue in batches and call the function with {"Records": [...]}; function_response_types => ''{ReportBatchItemFailures}'' for partial batch failures';

CREATE FUNCTION outbox.update_event_source_mapping(uuid uuid, batch_size integer DEFAULT NULL,
        maximum_batching_window_seconds integer DEFAULT NULL, function_response_types text[] DEFAULT NULL,
        enabled boolean DEFAULT NULL)
    RETURNS jsonb AS 'MODULE_PATHNAME', 'outbox_update_event_source_mapping' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION outbox.update_event_source_mapping(uuid, integer, integer, text[], boolean) IS
  'UpdateEventSourceMapping: change batching, response types or enable/disable (NULL keeps a value)';

CREATE FUNCTION outbox.delete_event_source_mapping(uuid uuid)
    RETURNS jsonb AS 'MODULE_PATHNAME', 'outbox_delete_event_source_mapping' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION outbox.delete_event_source_mapping(uuid) IS 'DeleteEventSourceMapping';

CREATE FUNCTION outbox.get_event_source_mapping(uuid uuid)
    RETURNS jsonb AS 'MODULE_PATHNAME', 'outbox_get_event_source_mapping' LANGUAGE C STABLE;
COMMENT ON FUNCTION outbox.get_event_source_mapping(uuid) IS 'GetEventSourceMapping';

CREATE FUNCTION outbox.list_event_source_mappings(queue_name text DEFAULT NULL, function regprocedure DEFAULT NULL)
    RETURNS SETOF jsonb AS 'MODULE_PATHNAME', 'outbox_list_event_source_mappings' LANGUAGE C STABLE;
COMMENT ON FUNCTION outbox.list_event_source_mappings(text, regprocedure) IS
  'ListEventSourceMappings: the mappings the caller can see (its own, or all for a superuser)';

-- ---- running due work

CREATE FUNCTION outbox.run_due_work(max_items integer DEFAULT 100, max_seconds double precision DEFAULT 1.0)
    RETURNS integer AS 'MODULE_PATHNAME', 'outbox_run_due_work' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION outbox.run_due_work(integer, double precision) IS
  'Run due items and event source mapping batches in this session (for servers without shared_preload_libraries, and tests); returns how many ran';
REVOKE ALL ON FUNCTION outbox.run_due_work(integer, double precision) FROM PUBLIC;

-- ---- observability

CREATE FUNCTION outbox.worker_status(OUT database name, OUT pid integer, OUT worker_type text,
        OUT state text, OUT current_item text, OUT state_since timestamptz,
        OUT items_run bigint, OUT items_failed bigint, OUT items_retried bigint)
    RETURNS SETOF record AS 'MODULE_PATHNAME', 'outbox_worker_status' LANGUAGE C VOLATILE;

COMMENT ON FUNCTION outbox.worker_status() IS 'The rows of outbox.workers';

CREATE VIEW outbox.workers AS SELECT * FROM outbox.worker_status();
COMMENT ON VIEW outbox.workers IS
  'The launcher, schedulers and workers of every database, what each is doing, and the items each database ran, failed and retried';

CREATE FUNCTION outbox.due_work_summary(OUT kind text, OUT due_now bigint, OUT scheduled bigint,
        OUT oldest_due_age interval)
    RETURNS SETOF record LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $$
      SELECT kind, count(*) FILTER (WHERE due_at <= outbox.clock_now()),
             count(*) FILTER (WHERE due_at > outbox.clock_now()),
             outbox.clock_now() - min(due_at) FILTER (WHERE due_at <= outbox.clock_now())
        FROM outbox.due_item GROUP BY kind ORDER BY kind
    $$;

COMMENT ON FUNCTION outbox.due_work_summary() IS 'The rows of outbox.due_work';

CREATE VIEW outbox.due_work AS SELECT * FROM outbox.due_work_summary();
COMMENT ON VIEW outbox.due_work IS
  'Due items by kind: how many are due now, how many are scheduled later, and how late the oldest due one is';
