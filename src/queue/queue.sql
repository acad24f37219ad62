-- queue: SQS-style queues.  The tables are private to the extension; every
-- access goes through the functions below, which check the caller's rights
-- on the queue (see src/queue/queue_acl.c).

CREATE SEQUENCE outbox.queue_id_seq AS integer;
COMMENT ON SEQUENCE outbox.queue_id_seq IS 'Queue numbers (never reused)';

CREATE TABLE outbox.queue (
    queue_id                integer PRIMARY KEY DEFAULT nextval('outbox.queue_id_seq'),
    queue_name              text NOT NULL UNIQUE,
    is_fifo                 boolean NOT NULL,
    is_unlogged             boolean NOT NULL DEFAULT false,
    owner                   name NOT NULL,
    visibility_timeout      integer NOT NULL DEFAULT 30,
    delay_seconds           integer NOT NULL DEFAULT 0,
    retention_seconds       integer NOT NULL DEFAULT 345600,
    maximum_message_size    integer NOT NULL DEFAULT 1048576,
    receive_wait_seconds    integer NOT NULL DEFAULT 0,
    dead_letter_queue       text,
    max_receive_count       integer,
    redrive_allow_policy    jsonb,
    content_based_dedup     boolean NOT NULL DEFAULT false,
    dedup_scope_group       boolean NOT NULL DEFAULT false,
    throughput_per_group    boolean NOT NULL DEFAULT false,
    opaque_attributes       jsonb NOT NULL DEFAULT '{}',
    tags                    jsonb NOT NULL DEFAULT '{}',
    created_at              timestamptz NOT NULL,
    modified_at             timestamptz NOT NULL,
    purged_at               timestamptz
);
COMMENT ON TABLE outbox.queue IS 'Queues and their attributes (use the queue functions, not this table)';

-- Privileges granted on a queue: a bit mask of send (1), receive (2),
-- delete (4), purge (8) and admin (16).  grantee 'PUBLIC' is everyone.
CREATE TABLE outbox.queue_grant (
    queue_id    integer NOT NULL REFERENCES outbox.queue ON DELETE CASCADE,
    grantee     name NOT NULL,
    privileges  integer NOT NULL CHECK (privileges >= 0 AND privileges < 32),
    PRIMARY KEY (queue_id, grantee)
);
COMMENT ON TABLE outbox.queue_grant IS 'Privileges granted on queues (use grant_queue and revoke_queue)';

-- Messages.  msg_id comes from one sequence, so it is unique across queues,
-- orders a FIFO group, and (with the installation secret) makes the MessageId.
-- No CACHE: numbers must be drawn in time order across sessions (queue_cursor.c).
CREATE SEQUENCE outbox.message_id_seq AS bigint;
COMMENT ON SEQUENCE outbox.message_id_seq IS 'Internal message numbers (also FIFO sequence numbers)';

CREATE TABLE outbox.message (
    queue_id            integer NOT NULL,
    msg_id              bigint NOT NULL,
    visible_at          timestamptz NOT NULL,
    enqueued_at         timestamptz NOT NULL,
    sent_at             timestamptz NOT NULL,
    receive_count       integer NOT NULL DEFAULT 0,
    receipt             bigint,
    first_received_at   timestamptz,
    received_at         timestamptz,
    group_id            text,
    dedup_id            text,
    sender              name NOT NULL,
    body                text NOT NULL,
    attributes          jsonb,
    system_attributes   jsonb,
    PRIMARY KEY (queue_id, msg_id)
) WITH (fillfactor = 80);
CREATE INDEX message_group_idx ON outbox.message (queue_id, group_id, msg_id) WHERE group_id IS NOT NULL;
COMMENT ON TABLE outbox.message IS 'Messages of logged queues';

CREATE UNLOGGED TABLE outbox.message_unlogged (LIKE outbox.message INCLUDING ALL) WITH (fillfactor = 80);
COMMENT ON TABLE outbox.message_unlogged IS 'Messages of unlogged queues (lost on crash)';

-- FIFO deduplication: one row per deduplication id (per group with
-- DeduplicationScope = messageGroup) for five minutes.
CREATE TABLE outbox.fifo_dedup (
    queue_id    integer NOT NULL,
    group_key   text NOT NULL,
    dedup_id    text NOT NULL,
    msg_id      bigint NOT NULL,
    expires_at  timestamptz NOT NULL,
    PRIMARY KEY (queue_id, group_key, dedup_id)
);
COMMENT ON TABLE outbox.fifo_dedup IS 'FIFO deduplication window';

-- FIFO send serialisation: a send locks its group's row until commit, so
-- within a group message numbers follow commit order.
CREATE TABLE outbox.fifo_group (
    queue_id    integer NOT NULL,
    group_id    text NOT NULL,
    sends       bigint NOT NULL DEFAULT 1,
    PRIMARY KEY (queue_id, group_id)
);
COMMENT ON TABLE outbox.fifo_group IS 'FIFO message groups (serialises sends per group)';

-- ReceiveRequestAttemptId replays (FIFO), kept five minutes.
CREATE TABLE outbox.receive_attempt (
    queue_id    integer NOT NULL,
    attempt_id  text NOT NULL,
    receipts    bigint[] NOT NULL,
    msg_ids     bigint[] NOT NULL,
    expires_at  timestamptz NOT NULL,
    PRIMARY KEY (queue_id, attempt_id)
);
COMMENT ON TABLE outbox.receive_attempt IS 'FIFO receive request attempts, for retried receives';

CREATE TABLE outbox.message_move_task (
    task_handle         uuid PRIMARY KEY,
    source_queue        text NOT NULL,
    destination_queue   text,
    max_per_second      integer,
    status              text NOT NULL CHECK (status IN ('RUNNING', 'COMPLETED', 'CANCELLING', 'CANCELLED', 'FAILED')),
    moved               bigint NOT NULL DEFAULT 0,
    to_move             bigint NOT NULL,
    last_msg_id         bigint NOT NULL,
    next_msg_id         bigint NOT NULL DEFAULT 0,
    failure_reason      text,
    started_at          timestamptz NOT NULL,
    finished_at         timestamptz,
    owner               name NOT NULL
);
COMMENT ON TABLE outbox.message_move_task IS 'Dead-letter redrive tasks (start_message_move_task)';

REVOKE ALL ON outbox.queue, outbox.queue_grant, outbox.message, outbox.message_unlogged,
    outbox.fifo_dedup, outbox.fifo_group, outbox.receive_attempt, outbox.message_move_task,
    outbox.message_id_seq, outbox.queue_id_seq FROM PUBLIC;

CREATE TRIGGER queue_invalidate AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON outbox.queue
    FOR EACH STATEMENT EXECUTE FUNCTION outbox._invalidate_cache();
CREATE TRIGGER queue_grant_invalidate AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON outbox.queue_grant
    FOR EACH STATEMENT EXECUTE FUNCTION outbox._invalidate_cache();

-- pg_dump keeps queues and their messages (unlogged ones too, as they were).
SELECT pg_catalog.pg_extension_config_dump('outbox.queue', '');
SELECT pg_catalog.pg_extension_config_dump('outbox.queue_grant', '');
SELECT pg_catalog.pg_extension_config_dump('outbox.message', '');
SELECT pg_catalog.pg_extension_config_dump('outbox.message_unlogged', '');
SELECT pg_catalog.pg_extension_config_dump('outbox.fifo_dedup', '');
SELECT pg_catalog.pg_extension_config_dump('outbox.fifo_group', '');
SELECT pg_catalog.pg_extension_config_dump('outbox.message_move_task', '');
SELECT pg_catalog.pg_extension_config_dump('outbox.receive_attempt', '');
SELECT pg_catalog.pg_extension_config_dump('outbox.message_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('outbox.queue_id_seq', '');

-- Result types

CREATE TYPE outbox.sent_message AS (
    message_id                  uuid,
    sequence_number             text,
    md5_of_message_body         text,
    md5_of_message_attributes   text
);
COMMENT ON TYPE outbox.sent_message IS 'Result of send_message: MessageId, SequenceNumber (FIFO) and MD5 digests';

CREATE TYPE outbox.batch_result_entry AS (
    id                          text,
    message_id                  uuid,
    sequence_number             text,
    md5_of_message_body         text,
    md5_of_message_attributes   text
);
COMMENT ON TYPE outbox.batch_result_entry IS 'One entry of a send_message_batch result';

CREATE TYPE outbox.received_message AS (
    message_id                  uuid,
    receipt_handle              text,
    body                        text,
    md5_of_body                 text,
    message_attributes          jsonb,
    md5_of_message_attributes   text,
    attributes                  jsonb,
    sent_at                     timestamptz,
    receive_count               integer,
    message_group_id            text,
    sequence_number             text
);
COMMENT ON TYPE outbox.received_message IS
  'A received message: body, attributes, system attributes (as SQS names them) and typed copies of the common ones';

CREATE TYPE outbox.message_move_task_info AS (
    task_handle                         uuid,
    status                              text,
    source_arn                          text,
    destination_arn                     text,
    max_number_of_messages_per_second   integer,
    approximate_number_of_messages_moved bigint,
    approximate_number_of_messages_to_move bigint,
    failure_reason                      text,
    started_timestamp                   timestamptz
);
COMMENT ON TYPE outbox.message_move_task_info IS 'A dead-letter redrive task, as list_message_move_tasks shows it';

-- Queue management

-- unlogged NULL (the default) means "not given": false for a new queue, and
-- not compared with an existing one (CreateQueue compares only what is given).
CREATE FUNCTION outbox.create_queue(queue_name text, attributes jsonb DEFAULT '{}', unlogged boolean DEFAULT NULL, tags jsonb DEFAULT '{}')
    RETURNS text AS 'MODULE_PATHNAME', 'outbox_create_queue' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION outbox.create_queue(text, jsonb, boolean, jsonb) IS
  'CreateQueue: create a queue (idempotent when the given attributes match); returns the queue ARN';

CREATE FUNCTION outbox.delete_queue(queue_name text)
    RETURNS void AS 'MODULE_PATHNAME', 'outbox_delete_queue' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION outbox.delete_queue(text) IS 'DeleteQueue: delete a queue and all its messages';

CREATE FUNCTION outbox.get_queue_attributes(queue_name text, attribute_names text[] DEFAULT '{All}')
    RETURNS jsonb AS 'MODULE_PATHNAME', 'outbox_get_queue_attributes' LANGUAGE C STABLE;
COMMENT ON FUNCTION outbox.get_queue_attributes(text, text[]) IS
  'GetQueueAttributes: attributes and Approximate* counters of a queue';

CREATE FUNCTION outbox.set_queue_attributes(queue_name text, attributes jsonb)
    RETURNS void AS 'MODULE_PATHNAME', 'outbox_set_queue_attributes' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION outbox.set_queue_attributes(text, jsonb) IS 'SetQueueAttributes: change attributes of a queue';

CREATE FUNCTION outbox.list_queues(queue_name_prefix text DEFAULT NULL, max_results integer DEFAULT 1000)
    RETURNS SETOF text AS 'MODULE_PATHNAME', 'outbox_list_queues' LANGUAGE C STABLE;
COMMENT ON FUNCTION outbox.list_queues(text, integer) IS
  'ListQueues: names of the queues the caller has any privilege on, in name order';

CREATE FUNCTION outbox.list_dead_letter_source_queues(queue_name text)
    RETURNS SETOF text AS 'MODULE_PATHNAME', 'outbox_list_dead_letter_source_queues' LANGUAGE C STABLE;
COMMENT ON FUNCTION outbox.list_dead_letter_source_queues(text) IS
  'ListDeadLetterSourceQueues: queues whose RedrivePolicy names this queue';

CREATE FUNCTION outbox.purge_queue(queue_name text)
    RETURNS bigint AS 'MODULE_PATHNAME', 'outbox_purge_queue' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION outbox.purge_queue(text) IS
  'PurgeQueue: delete every message sent before the call; returns how many';

-- Messages

CREATE FUNCTION outbox.send_message(queue_name text, message_body text,
        delay_seconds integer DEFAULT NULL, message_attributes jsonb DEFAULT NULL,
        message_group_id text DEFAULT NULL, message_deduplication_id text DEFAULT NULL,
        message_system_attributes jsonb DEFAULT NULL)
    RETURNS outbox.sent_message AS 'MODULE_PATHNAME', 'outbox_send_message' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION outbox.send_message(text, text, integer, jsonb, text, text, jsonb) IS
  'SendMessage: send a message; it becomes visible when the calling transaction commits';

CREATE FUNCTION outbox.send_message(queue_name text, message_body jsonb,
        delay_seconds integer DEFAULT NULL, message_attributes jsonb DEFAULT NULL,
        message_group_id text DEFAULT NULL, message_deduplication_id text DEFAULT NULL,
        message_system_attributes jsonb DEFAULT NULL)
    RETURNS outbox.sent_message AS 'MODULE_PATHNAME', 'outbox_send_message' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION outbox.send_message(text, jsonb, integer, jsonb, text, text, jsonb) IS
  'SendMessage with a jsonb body (sent as its JSON text)';

CREATE FUNCTION outbox.send_message_batch(queue_name text, entries jsonb)
    RETURNS SETOF outbox.batch_result_entry AS 'MODULE_PATHNAME', 'outbox_send_message_batch' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION outbox.send_message_batch(text, jsonb) IS
  'SendMessageBatch: send an array of entries {Id, MessageBody, DelaySeconds, MessageAttributes, MessageGroupId, MessageDeduplicationId}; all or nothing';

-- Not an overload of send_message_batch: a JSON literal would be ambiguous.
CREATE FUNCTION outbox.send_message_bodies(queue_name text, message_bodies text[], message_group_id text DEFAULT NULL)
    RETURNS SETOF outbox.batch_result_entry AS 'MODULE_PATHNAME', 'outbox_send_message_bodies' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION outbox.send_message_bodies(text, text[], text) IS
  'Send an array of bodies in one statement (ids are the array positions); all or nothing';

CREATE FUNCTION outbox.receive_message(queue_name text, max_number_of_messages integer DEFAULT 1,
        visibility_timeout integer DEFAULT NULL, wait_time_seconds integer DEFAULT NULL,
        receive_request_attempt_id text DEFAULT NULL)
    RETURNS SETOF outbox.received_message AS 'MODULE_PATHNAME', 'outbox_receive_message' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION outbox.receive_message(text, integer, integer, integer, text) IS
  'ReceiveMessage: receive up to max_number_of_messages, hiding them for the visibility timeout; long-polls when wait_time_seconds > 0';

CREATE FUNCTION outbox.delete_message(queue_name text, receipt_handle text)
    RETURNS void AS 'MODULE_PATHNAME', 'outbox_delete_message' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION outbox.delete_message(text, text) IS 'DeleteMessage: delete a received message by its receipt handle';

CREATE FUNCTION outbox.delete_message_batch(queue_name text, receipt_handles text[])
    RETURNS integer AS 'MODULE_PATHNAME', 'outbox_delete_message_batch' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION outbox.delete_message_batch(text, text[]) IS
  'DeleteMessageBatch: delete received messages by receipt handle; returns how many were deleted';

CREATE FUNCTION outbox.change_message_visibility(queue_name text, receipt_handle text, visibility_timeout integer)
    RETURNS void AS 'MODULE_PATHNAME', 'outbox_change_message_visibility' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION outbox.change_message_visibility(text, text, integer) IS
  'ChangeMessageVisibility: hide an in-flight message for visibility_timeout seconds from now (0 = visible again)';

CREATE FUNCTION outbox.change_message_visibility_batch(queue_name text, receipt_handles text[], visibility_timeout integer)
    RETURNS void AS 'MODULE_PATHNAME', 'outbox_change_message_visibility_batch' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION outbox.change_message_visibility_batch(text, text[], integer) IS
  'ChangeMessageVisibilityBatch: change the visibility timeout of several in-flight messages';

-- Rights

CREATE FUNCTION outbox.grant_queue(queue_name text, privileges text[], grantee text)
    RETURNS void AS 'MODULE_PATHNAME', 'outbox_grant_queue' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION outbox.grant_queue(text, text[], text) IS
  'Grant send, receive, delete, purge, admin (or all) on a queue to a role or PUBLIC';

CREATE FUNCTION outbox.revoke_queue(queue_name text, privileges text[], grantee text)
    RETURNS void AS 'MODULE_PATHNAME', 'outbox_revoke_queue' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION outbox.revoke_queue(text, text[], text) IS
  'Revoke privileges on a queue from a role or PUBLIC';

-- Dead-letter redrive

CREATE FUNCTION outbox.start_message_move_task(source_arn text, destination_arn text DEFAULT NULL,
        max_number_of_messages_per_second integer DEFAULT NULL)
    RETURNS uuid AS 'MODULE_PATHNAME', 'outbox_start_message_move_task' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION outbox.start_message_move_task(text, text, integer) IS
  'StartMessageMoveTask: move the messages of a dead-letter queue back to their sources (or to destination_arn)';

CREATE FUNCTION outbox.list_message_move_tasks(source_arn text, max_results integer DEFAULT 1)
    RETURNS SETOF outbox.message_move_task_info AS 'MODULE_PATHNAME', 'outbox_list_message_move_tasks' LANGUAGE C STABLE;
COMMENT ON FUNCTION outbox.list_message_move_tasks(text, integer) IS
  'ListMessageMoveTasks: the most recent redrive tasks of a dead-letter queue';

CREATE FUNCTION outbox.cancel_message_move_task(task_handle uuid)
    RETURNS bigint AS 'MODULE_PATHNAME', 'outbox_cancel_message_move_task' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION outbox.cancel_message_move_task(uuid) IS
  'CancelMessageMoveTask: stop a running redrive task; returns how many messages it moved';

-- Maintenance (called by the background worker, or by hand without preload)

CREATE FUNCTION outbox.run_queue_maintenance(max_seconds double precision DEFAULT 1.0)
    RETURNS bigint AS 'MODULE_PATHNAME', 'outbox_run_queue_maintenance' LANGUAGE C VOLATILE;
REVOKE ALL ON FUNCTION outbox.run_queue_maintenance(double precision) FROM PUBLIC;
COMMENT ON FUNCTION outbox.run_queue_maintenance(double precision) IS
  'Remove messages past retention and expired deduplication entries, and advance redrive tasks; returns rows processed';
