-- topic: SNS-style topics.  Publish fans out to the subscribed queues in the
-- publisher's transaction, to SQL functions through the workers after
-- commit, and to notification channels at commit.  The tables are private;
-- the functions check the caller's rights on the topic (src/topic/topic_acl.c).

CREATE SEQUENCE outbox.topic_id_seq AS integer;
COMMENT ON SEQUENCE outbox.topic_id_seq IS 'Topic numbers (never reused)';

CREATE TABLE outbox.topic (
    topic_id                integer PRIMARY KEY DEFAULT nextval('outbox.topic_id_seq'),
    topic_name              text NOT NULL UNIQUE,
    is_fifo                 boolean NOT NULL,
    owner                   name NOT NULL,
    display_name            text NOT NULL DEFAULT '',
    content_based_dedup     boolean NOT NULL DEFAULT false,
    delivery_policy         jsonb,
    opaque_attributes       jsonb NOT NULL DEFAULT '{}',
    tags                    jsonb NOT NULL DEFAULT '{}',
    created_at              timestamptz NOT NULL
);
COMMENT ON TABLE outbox.topic IS 'Topics and their attributes (use the topic functions, not this table)';

-- Privileges granted on a topic: publish (1), subscribe (2), admin (4).
CREATE TABLE outbox.topic_grant (
    topic_id    integer NOT NULL REFERENCES outbox.topic ON DELETE CASCADE,
    grantee     name NOT NULL,
    privileges  integer NOT NULL CHECK (privileges >= 0 AND privileges < 8),
    PRIMARY KEY (topic_id, grantee)
);
COMMENT ON TABLE outbox.topic_grant IS 'Privileges granted on topics (use grant_topic and revoke_topic)';

CREATE TABLE outbox.subscription (
    subscription_id         uuid PRIMARY KEY,
    topic_id                integer NOT NULL REFERENCES outbox.topic ON DELETE CASCADE,
    protocol                text NOT NULL CHECK (protocol IN ('sqs', 'function', 'notify')),
    endpoint                text NOT NULL,
    function                regprocedure,
    owner                   name NOT NULL,
    filter_policy           jsonb,
    filter_on_body          boolean NOT NULL DEFAULT false,
    raw_message_delivery    boolean NOT NULL DEFAULT false,
    dead_letter_queue       text,
    delivery_policy         jsonb,
    created_at              timestamptz NOT NULL,
    UNIQUE (topic_id, protocol, endpoint)
);
COMMENT ON TABLE outbox.subscription IS 'Subscriptions of topics (use subscribe and unsubscribe)';

-- FIFO topics: deduplication for five minutes, and one row per message
-- group that a publish locks until commit, so sequence numbers of a group
-- follow commit order.
CREATE TABLE outbox.topic_dedup (
    topic_id        integer NOT NULL,
    dedup_id        text NOT NULL,
    message_id      uuid NOT NULL,
    sequence_number bigint NOT NULL,
    expires_at      timestamptz NOT NULL,
    PRIMARY KEY (topic_id, dedup_id)
);
COMMENT ON TABLE outbox.topic_dedup IS 'FIFO topic deduplication window';

CREATE TABLE outbox.topic_fifo_group (
    topic_id    integer NOT NULL,
    group_id    text NOT NULL,
    publishes   bigint NOT NULL DEFAULT 1,
    PRIMARY KEY (topic_id, group_id)
);
COMMENT ON TABLE outbox.topic_fifo_group IS 'FIFO topic message groups (serialises publishes per group)';

CREATE SEQUENCE outbox.topic_sequence_seq AS bigint;
COMMENT ON SEQUENCE outbox.topic_sequence_seq IS 'FIFO topic sequence numbers';

-- Notifications too large for a NOTIFY payload: the channel gets a
-- reference, the payload waits here for an hour (get_notification).
CREATE TABLE outbox.notification (
    message_id      uuid NOT NULL,
    subscription_id uuid NOT NULL,
    payload         text NOT NULL,
    expires_at      timestamptz NOT NULL,
    PRIMARY KEY (message_id, subscription_id)
);
COMMENT ON TABLE outbox.notification IS 'Payloads of notifications larger than a NOTIFY payload';

REVOKE ALL ON outbox.topic, outbox.topic_grant, outbox.subscription, outbox.topic_dedup,
    outbox.topic_fifo_group, outbox.notification, outbox.topic_id_seq,
    outbox.topic_sequence_seq FROM PUBLIC;

CREATE TRIGGER topic_invalidate AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON outbox.topic
    FOR EACH STATEMENT EXECUTE FUNCTION outbox._invalidate_cache();
CREATE TRIGGER topic_grant_invalidate AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON outbox.topic_grant
    FOR EACH STATEMENT EXECUTE FUNCTION outbox._invalidate_cache();
CREATE TRIGGER subscription_invalidate AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON outbox.subscription
    FOR EACH STATEMENT EXECUTE FUNCTION outbox._invalidate_cache();

SELECT pg_catalog.pg_extension_config_dump('outbox.topic', '');
SELECT pg_catalog.pg_extension_config_dump('outbox.topic_grant', '');
SELECT pg_catalog.pg_extension_config_dump('outbox.subscription', '');
SELECT pg_catalog.pg_extension_config_dump('outbox.topic_dedup', '');
SELECT pg_catalog.pg_extension_config_dump('outbox.topic_fifo_group', '');
SELECT pg_catalog.pg_extension_config_dump('outbox.notification', '');
SELECT pg_catalog.pg_extension_config_dump('outbox.topic_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('outbox.topic_sequence_seq', '');

CREATE TYPE outbox.publish_batch_result AS (
    id              text,
    message_id      uuid,
    sequence_number text,
    code            text,
    message         text,
    sender_fault    boolean
);
COMMENT ON TYPE outbox.publish_batch_result IS
  'One entry of publish_batch: MessageId and SequenceNumber when it succeeded, Code and Message when it failed';

-- ---- topics

CREATE FUNCTION outbox.create_topic(topic_name text, attributes jsonb DEFAULT '{}', tags jsonb DEFAULT '{}')
    RETURNS text AS 'MODULE_PATHNAME', 'outbox_create_topic' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION outbox.create_topic(text, jsonb, jsonb) IS
  'CreateTopic: create a topic (idempotent when the given attributes match); returns the topic ARN';

CREATE FUNCTION outbox.delete_topic(topic_name text)
    RETURNS void AS 'MODULE_PATHNAME', 'outbox_delete_topic' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION outbox.delete_topic(text) IS
  'DeleteTopic: delete a topic and its subscriptions (a topic that does not exist is not an error)';

CREATE FUNCTION outbox.list_topics(OUT topic_name text, OUT topic_arn text, OUT fifo boolean,
                                   OUT subscriptions integer)
    RETURNS SETOF record AS 'MODULE_PATHNAME', 'outbox_list_topics' LANGUAGE C STABLE;
COMMENT ON FUNCTION outbox.list_topics() IS 'ListTopics: the topics the caller holds any right on';

CREATE FUNCTION outbox.get_topic_attributes(topic_name text)
    RETURNS jsonb AS 'MODULE_PATHNAME', 'outbox_get_topic_attributes' LANGUAGE C STABLE;
COMMENT ON FUNCTION outbox.get_topic_attributes(text) IS 'GetTopicAttributes';

CREATE FUNCTION outbox.set_topic_attributes(topic_name text, attributes jsonb)
    RETURNS void AS 'MODULE_PATHNAME', 'outbox_set_topic_attributes' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION outbox.set_topic_attributes(text, jsonb) IS
  'SetTopicAttributes: change any settable attributes at once (FifoTopic is fixed at creation)';

CREATE FUNCTION outbox.grant_topic(topic_name text, privileges text[], grantee text)
    RETURNS void AS 'MODULE_PATHNAME', 'outbox_grant_topic' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION outbox.grant_topic(text, text[], text) IS
  'Grant publish, subscribe, admin or all on a topic to a role (or PUBLIC)';

CREATE FUNCTION outbox.revoke_topic(topic_name text, privileges text[], grantee text)
    RETURNS void AS 'MODULE_PATHNAME', 'outbox_revoke_topic' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION outbox.revoke_topic(text, text[], text) IS 'Revoke privileges on a topic';

-- ---- subscriptions

CREATE FUNCTION outbox.subscribe(topic_name text, protocol text, endpoint text, attributes jsonb DEFAULT '{}')
    RETURNS text AS 'MODULE_PATHNAME', 'outbox_subscribe' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION outbox.subscribe(text, text, text, jsonb) IS
  'Subscribe: protocol sqs (a queue), function (a SQL function taking jsonb) or notify (a channel); returns the subscription ARN';

CREATE FUNCTION outbox.unsubscribe(subscription_arn text)
    RETURNS void AS 'MODULE_PATHNAME', 'outbox_unsubscribe' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION outbox.unsubscribe(text) IS 'Unsubscribe: by subscription ARN or id';

CREATE FUNCTION outbox.list_subscriptions(OUT subscription_arn text, OUT topic_arn text,
        OUT protocol text, OUT endpoint text, OUT owner name)
    RETURNS SETOF record AS 'MODULE_PATHNAME', 'outbox_list_subscriptions' LANGUAGE C STABLE;
COMMENT ON FUNCTION outbox.list_subscriptions() IS
  'ListSubscriptions: subscriptions of the topics the caller holds any right on, and the caller''s own';

CREATE FUNCTION outbox.list_subscriptions_by_topic(topic_name text, OUT subscription_arn text,
        OUT topic_arn text, OUT protocol text, OUT endpoint text, OUT owner name)
    RETURNS SETOF record AS 'MODULE_PATHNAME', 'outbox_list_subscriptions_by_topic' LANGUAGE C STABLE;
COMMENT ON FUNCTION outbox.list_subscriptions_by_topic(text) IS 'ListSubscriptionsByTopic';

CREATE FUNCTION outbox.get_subscription_attributes(subscription_arn text)
    RETURNS jsonb AS 'MODULE_PATHNAME', 'outbox_get_subscription_attributes' LANGUAGE C STABLE;
COMMENT ON FUNCTION outbox.get_subscription_attributes(text) IS 'GetSubscriptionAttributes';

CREATE FUNCTION outbox.set_subscription_attributes(subscription_arn text, attributes jsonb)
    RETURNS void AS 'MODULE_PATHNAME', 'outbox_set_subscription_attributes' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION outbox.set_subscription_attributes(text, jsonb) IS
  'SetSubscriptionAttributes: FilterPolicy, FilterPolicyScope, RawMessageDelivery, RedrivePolicy, DeliveryPolicy';

-- ---- publishing

CREATE FUNCTION outbox.publish(topic_name text, message text, subject text DEFAULT NULL,
        message_attributes jsonb DEFAULT NULL, message_group_id text DEFAULT NULL,
        message_deduplication_id text DEFAULT NULL, message_structure text DEFAULT NULL)
    RETURNS uuid AS 'MODULE_PATHNAME', 'outbox_publish' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION outbox.publish(text, text, text, jsonb, text, text, text) IS
  'Publish: fan the message out to the matching subscriptions in this transaction; returns the MessageId';

CREATE FUNCTION outbox.publish_batch(topic_name text, entries jsonb)
    RETURNS SETOF outbox.publish_batch_result AS 'MODULE_PATHNAME', 'outbox_publish_batch' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION outbox.publish_batch(text, jsonb) IS
  'PublishBatch: 1 to 10 entries; a bad entry fails alone (code, message), the others are published';

CREATE FUNCTION outbox.get_notification(subscription_arn text, message_id uuid)
    RETURNS text AS 'MODULE_PATHNAME', 'outbox_get_notification' LANGUAGE C STABLE;
COMMENT ON FUNCTION outbox.get_notification(text, uuid) IS
  'The payload of a notification too large for NOTIFY (the channel received a reference); kept one hour';

CREATE FUNCTION outbox.run_topic_maintenance()
    RETURNS bigint AS 'MODULE_PATHNAME', 'outbox_run_topic_maintenance' LANGUAGE C VOLATILE;
REVOKE ALL ON FUNCTION outbox.run_topic_maintenance() FROM PUBLIC;
COMMENT ON FUNCTION outbox.run_topic_maintenance() IS
  'Forget expired FIFO deduplication ids and large notifications (the workers run it with queue maintenance)';
