-- Queue creation, idempotency, attributes (get/set/list/delete) and the
-- bounds of every settable attribute.  Errors show as "SQLSTATE: message"
-- through pg_temp.err, which also lets the test go on; one error of each
-- kind is shown raw as well, with its detail and hint.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_outbox;
RESET client_min_messages;
CREATE FUNCTION pg_temp.err(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE sql;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
-- the settable attributes of a queue (timestamps and counters left out)
CREATE FUNCTION pg_temp.attrs(q text) RETURNS jsonb LANGUAGE sql AS $$
  SELECT outbox.get_queue_attributes(q) - 'CreatedTimestamp' - 'LastModifiedTimestamp' - 'QueueArn' $$;

-- defaults (AWS's), as get_queue_attributes shows them
SELECT outbox.create_queue('qc-default') LIKE 'arn:%:qc-default' AS arn;
SELECT jsonb_pretty(pg_temp.attrs('qc-default'));
SELECT a ->> 'QueueArn' = outbox.create_queue('qc-default') AS same_arn,
       (a ->> 'CreatedTimestamp')::bigint = (a ->> 'LastModifiedTimestamp')::bigint AS unmodified,
       (a ->> 'CreatedTimestamp')::bigint BETWEEN extract(epoch FROM outbox.clock_now())::bigint - 5
                                             AND extract(epoch FROM outbox.clock_now())::bigint AS created_in_seconds
  FROM outbox.get_queue_attributes('qc-default') AS a;

-- idempotency: same attributes, a subset, or none at all return the queue
SELECT outbox.create_queue('qc-idem', '{"VisibilityTimeout": "45", "DelaySeconds": 5}') LIKE '%:qc-idem' AS created;
SELECT outbox.create_queue('qc-idem', '{"VisibilityTimeout": 45, "DelaySeconds": "5"}') LIKE '%:qc-idem' AS same;
SELECT outbox.create_queue('qc-idem', '{"DelaySeconds": 5}') LIKE '%:qc-idem' AS subset;
SELECT outbox.create_queue('qc-idem') LIKE '%:qc-idem' AS no_attributes;
-- an attribute left at its default may be given explicitly
SELECT outbox.create_queue('qc-idem', '{"MessageRetentionPeriod": 345600}') LIKE '%:qc-idem' AS default_given;
-- a different value is an error (QueueNameExists), and changes nothing
SELECT outbox.create_queue('qc-idem', '{"VisibilityTimeout": 46}');
SELECT pg_temp.err($$SELECT outbox.create_queue('qc-idem', '{"MessageRetentionPeriod": 60}')$$);
SELECT pg_temp.err($$SELECT outbox.create_queue('qc-idem', '{"FifoQueue": "true"}')$$);
SELECT pg_temp.attrs('qc-idem') ->> 'VisibilityTimeout' AS vt, pg_temp.attrs('qc-idem') ->> 'MessageRetentionPeriod' AS retention;
-- "unlogged" is compared only when given, like the attributes
SELECT outbox.create_queue('qc-unlogged', unlogged => true) LIKE '%:qc-unlogged' AS created;
SELECT outbox.create_queue('qc-unlogged') LIKE '%:qc-unlogged' AS not_given;
SELECT outbox.create_queue('qc-unlogged', '{}', NULL) LIKE '%:qc-unlogged' AS null_is_not_given;
SELECT outbox.create_queue('qc-unlogged', unlogged => true) LIKE '%:qc-unlogged' AS same;
SELECT pg_temp.err($$SELECT outbox.create_queue('qc-unlogged', unlogged => false)$$) AS logged_asked;
SELECT pg_temp.err($$SELECT outbox.create_queue('qc-idem', unlogged => true)$$) AS unlogged_asked;
SELECT count(*) AS sent FROM outbox.send_message_bodies('qc-unlogged', array['u1', 'u2']);
SELECT body FROM outbox.receive_message('qc-unlogged', 10, 0) ORDER BY body;
SELECT (SELECT count(*) FROM outbox.message_unlogged) >= 2 AS in_unlogged_table;
-- queue names are case-sensitive: another queue
SELECT outbox.create_queue('QC-IDEM', '{"VisibilityTimeout": 46}') LIKE '%:QC-IDEM' AS other_case;

-- every settable attribute at both bounds, then one past each bound
CREATE TEMP TABLE bounds (attr text, lo bigint, hi bigint);
INSERT INTO bounds VALUES ('DelaySeconds', 0, 900), ('MaximumMessageSize', 1024, 1048576),
  ('MessageRetentionPeriod', 60, 1209600), ('ReceiveMessageWaitTimeSeconds', 0, 20),
  ('VisibilityTimeout', 0, 43200), ('KmsDataKeyReusePeriodSeconds', 60, 86400);
SELECT attr,
       pg_temp.err(format('SELECT outbox.create_queue(%L, %L)', 'qc-lo-' || attr, jsonb_build_object(attr, lo))) AS at_low,
       pg_temp.err(format('SELECT outbox.create_queue(%L, %L)', 'qc-hi-' || attr, jsonb_build_object(attr, hi))) AS at_high
  FROM bounds ORDER BY attr;
SELECT attr, outbox.get_queue_attributes('qc-lo-' || attr, array[attr]) AS low,
       outbox.get_queue_attributes('qc-hi-' || attr, array[attr]) AS high
  FROM bounds ORDER BY attr;
SELECT attr,
       pg_temp.err(format('SELECT outbox.create_queue(%L, %L)', 'qc-x-' || attr, jsonb_build_object(attr, lo - 1))) AS below,
       pg_temp.err(format('SELECT outbox.create_queue(%L, %L)', 'qc-x-' || attr, jsonb_build_object(attr, hi + 1))) AS above
  FROM bounds ORDER BY attr;
-- the same bounds through set_queue_attributes, which changes nothing on error
SELECT attr,
       pg_temp.err(format('SELECT outbox.set_queue_attributes(%L, %L)', 'qc-default', jsonb_build_object(attr, lo - 1))) AS below,
       pg_temp.err(format('SELECT outbox.set_queue_attributes(%L, %L)', 'qc-default', jsonb_build_object(attr, hi + 1))) AS above
  FROM bounds ORDER BY attr;
SELECT pg_temp.attrs('qc-default') = pg_temp.attrs('qc-lo-KmsDataKeyReusePeriodSeconds') - 'KmsDataKeyReusePeriodSeconds' AS unchanged;
SELECT count(*) AS queues_made_by_failures FROM outbox.list_queues('qc-x-');
-- no queue exists after a failed create
SELECT outbox.create_queue('qc-raw', '{"VisibilityTimeout": 43201}');
SELECT pg_temp.err($$SELECT outbox.get_queue_attributes('qc-raw')$$);
-- not integers
SELECT pg_temp.err($$SELECT outbox.create_queue('qc-x', '{"DelaySeconds": "ten"}')$$);
SELECT pg_temp.err($$SELECT outbox.create_queue('qc-x', '{"DelaySeconds": 1.5}')$$);
SELECT pg_temp.err($$SELECT outbox.create_queue('qc-x', '{"DelaySeconds": true}')$$);
SELECT pg_temp.err($$SELECT outbox.create_queue('qc-x', '{"DelaySeconds": "99999999999999999999"}')$$);
-- booleans, enumerations, unknown and read-only attributes
SELECT pg_temp.err($$SELECT outbox.create_queue('qc-x.fifo', '{"FifoQueue": "yes"}')$$);
SELECT pg_temp.err($$SELECT outbox.create_queue('qc-x.fifo', '{"FifoQueue": true, "ContentBasedDeduplication": 1}')$$);
SELECT pg_temp.err($$SELECT outbox.create_queue('qc-x.fifo', '{"FifoQueue": true, "DeduplicationScope": "group"}')$$);
SELECT pg_temp.err($$SELECT outbox.create_queue('qc-x.fifo', '{"FifoQueue": true, "FifoThroughputLimit": "perGroup"}')$$);
SELECT pg_temp.err($$SELECT outbox.create_queue('qc-x.fifo', '{"FifoQueue": true, "FifoThroughputLimit": "perMessageGroupId"}')$$);
SELECT pg_temp.err($$SELECT outbox.create_queue('qc-x', '{"Visibilitytimeout": 10}')$$);
SELECT pg_temp.err($$SELECT outbox.create_queue('qc-x', '{"QueueArn": "arn:aws:sqs:x:1:qc-x"}')$$);
SELECT pg_temp.err($$SELECT outbox.create_queue('qc-x', '{"ApproximateNumberOfMessages": 1}')$$);
SELECT pg_temp.err($$SELECT outbox.create_queue('qc-x', '[1]')$$);
-- FIFO-only attributes on a standard queue (InvalidAttributeName)
SELECT pg_temp.err($$SELECT outbox.create_queue('qc-x', '{"ContentBasedDeduplication": true}')$$);
SELECT pg_temp.err($$SELECT outbox.create_queue('qc-x', '{"DeduplicationScope": "queue"}')$$);
SELECT pg_temp.err($$SELECT outbox.create_queue('qc-x', '{"FifoThroughputLimit": "perQueue"}')$$);
SELECT pg_temp.err($$SELECT outbox.create_queue('qc-x', '{"FifoQueue": "false", "ContentBasedDeduplication": "false"}')$$);
-- FifoQueue false on a standard queue is just the default
SELECT outbox.create_queue('qc-std', '{"FifoQueue": "false"}') LIKE '%:qc-std' AS created;
SELECT count(*) AS failures_left_queues FROM outbox.list_queues('qc-x');

-- names: 1 to 80 of [A-Za-z0-9_-]; ".fifo" only (and always) on FIFO queues; the suffix counts
SELECT outbox.create_queue(repeat('n', 80)) LIKE '%:' || repeat('n', 80) AS eighty;
SELECT pg_temp.err(format('SELECT outbox.create_queue(%L)', repeat('n', 81))) AS eighty_one;
SELECT outbox.create_queue(repeat('f', 75) || '.fifo', '{"FifoQueue": true}') LIKE '%.fifo' AS fifo_eighty;
SELECT pg_temp.err(format('SELECT outbox.create_queue(%L, %L)', repeat('f', 76) || '.fifo', '{"FifoQueue": true}')) AS fifo_eighty_one;
SELECT pg_temp.err($$SELECT outbox.create_queue('')$$) AS empty;
SELECT pg_temp.err($$SELECT outbox.create_queue('has space')$$) AS space;
SELECT pg_temp.err($$SELECT outbox.create_queue('dotted.name')$$) AS dot;
SELECT pg_temp.err($$SELECT outbox.create_queue('ünïcode')$$) AS non_ascii;
SELECT pg_temp.err($$SELECT outbox.create_queue('qc-plain.fifo')$$) AS fifo_name_standard;
SELECT pg_temp.err($$SELECT outbox.create_queue('qc-nofifo', '{"FifoQueue": true}')$$) AS fifo_without_suffix;
SELECT pg_temp.err($$SELECT outbox.create_queue(NULL)$$) AS null_name;
SELECT outbox.create_queue('bad/name');

-- FIFO attributes
SELECT outbox.create_queue('qc-f.fifo', '{"FifoQueue": "true", "ContentBasedDeduplication": "true",
  "DeduplicationScope": "messageGroup", "FifoThroughputLimit": "perMessageGroupId"}') LIKE '%:qc-f.fifo' AS created;
SELECT jsonb_pretty(pg_temp.attrs('qc-f.fifo'));
-- perMessageGroupId needs DeduplicationScope messageGroup, also when set later
SELECT pg_temp.err($$SELECT outbox.set_queue_attributes('qc-f.fifo', '{"DeduplicationScope": "queue"}')$$);
SELECT outbox.set_queue_attributes('qc-f.fifo', '{"DeduplicationScope": "queue", "FifoThroughputLimit": "perQueue"}');
SELECT pg_temp.attrs('qc-f.fifo') ->> 'DeduplicationScope' AS scope, pg_temp.attrs('qc-f.fifo') ->> 'FifoThroughputLimit' AS lim;
-- the type is fixed at creation
SELECT outbox.set_queue_attributes('qc-f.fifo', '{"FifoQueue": "false"}');
SELECT pg_temp.err($$SELECT outbox.set_queue_attributes('qc-default', '{"FifoQueue": true}')$$);
SELECT pg_temp.err($$SELECT outbox.set_queue_attributes('qc-default', '{"ContentBasedDeduplication": true}')$$);

-- set_queue_attributes changes what it is given, and LastModifiedTimestamp
SELECT outbox.advance_clock('2 seconds') IS NOT NULL AS clock_moved;
SELECT outbox.set_queue_attributes('qc-default', '{"VisibilityTimeout": 60, "DelaySeconds": "3",
  "MaximumMessageSize": 2048, "MessageRetentionPeriod": 120, "ReceiveMessageWaitTimeSeconds": 20}');
SELECT jsonb_pretty(outbox.get_queue_attributes('qc-default', '{VisibilityTimeout,DelaySeconds,MaximumMessageSize,MessageRetentionPeriod,ReceiveMessageWaitTimeSeconds}'));
SELECT (a ->> 'LastModifiedTimestamp')::bigint > (a ->> 'CreatedTimestamp')::bigint AS modified_later
  FROM outbox.get_queue_attributes('qc-default') AS a;
-- a failing set in the middle of several attributes changes none of them
SELECT pg_temp.err($$SELECT outbox.set_queue_attributes('qc-default', '{"VisibilityTimeout": 10, "DelaySeconds": 901}')$$);
SELECT outbox.get_queue_attributes('qc-default', '{VisibilityTimeout,DelaySeconds}');
-- an empty object changes nothing and is fine
SELECT outbox.set_queue_attributes('qc-default', '{}');
-- opaque attributes are kept and shown (accepted, not enforced)
SELECT outbox.set_queue_attributes('qc-default', '{"Policy": "{\"Version\": \"2012-10-17\"}", "SqsManagedSseEnabled": "true"}');
SELECT outbox.get_queue_attributes('qc-default', '{Policy,SqsManagedSseEnabled}');

-- get_queue_attributes by name; All; unknown names; unset attributes are absent
SELECT outbox.get_queue_attributes('qc-default', '{VisibilityTimeout}');
SELECT outbox.get_queue_attributes('qc-default', '{ApproximateNumberOfMessages,ApproximateNumberOfMessagesNotVisible,ApproximateNumberOfMessagesDelayed}');
SELECT outbox.get_queue_attributes('qc-default', '{RedrivePolicy,RedriveAllowPolicy}') AS unset;
SELECT outbox.get_queue_attributes('qc-default', '{All}') ? 'RedrivePolicy' AS all_has_redrive;
SELECT jsonb_object_keys(outbox.get_queue_attributes('qc-default', '{All}')) AS key ORDER BY 1;
SELECT outbox.get_queue_attributes('qc-default', '{NoSuchAttribute}');
SELECT pg_temp.err($$SELECT outbox.get_queue_attributes('qc-default', NULL)$$);
SELECT pg_temp.err($$SELECT outbox.get_queue_attributes('qc-missing')$$);

-- list_queues: name order, prefix (case-sensitive, LIKE characters are literal), max_results
SELECT outbox.list_queues('qc-');
SELECT outbox.list_queues('QC');
SELECT outbox.list_queues('qc-lo-', 2);
SELECT count(*) AS percent_is_literal FROM outbox.list_queues('qc%');
SELECT count(*) AS underscore_is_literal FROM outbox.list_queues('qc_');
SELECT outbox.list_queues('qc-', 0);
SELECT pg_temp.err($$SELECT outbox.list_queues('qc-', 1001)$$);
SELECT count(*) = (SELECT count(*) FROM outbox.queue) AS superuser_sees_all, count(*) >= 19 AS at_least_ours FROM outbox.list_queues();

-- delete_queue removes the queue and its messages; the name is free again
SELECT count(*) AS sent FROM outbox.send_message_bodies('qc-std', array['a', 'b']);
SELECT outbox.delete_queue('qc-std');
SELECT pg_temp.err($$SELECT outbox.get_queue_attributes('qc-std')$$);
SELECT pg_temp.err($$SELECT outbox.send_message('qc-std', 'c')$$);
SELECT pg_temp.err($$SELECT outbox.delete_queue('qc-std')$$);
SELECT outbox.create_queue('qc-std') LIKE '%:qc-std' AS recreated;
SELECT count(*) AS no_old_messages FROM outbox.receive_message('qc-std', 10);
SELECT outbox.delete_queue('qc-std');
-- inside a transaction that rolls back, nothing happens
BEGIN;
SELECT outbox.delete_queue('qc-idem');
ROLLBACK;
SELECT outbox.get_queue_attributes('qc-idem', '{VisibilityTimeout}');
BEGIN;
SELECT outbox.create_queue('qc-rolled-back') LIKE '%:qc-rolled-back' AS created;
ROLLBACK;
SELECT count(*) AS rolled_back FROM outbox.list_queues('qc-rolled-back');

-- clean up
SELECT count(outbox.delete_queue(q)) AS deleted FROM outbox.list_queues('qc-') AS q;
SELECT count(outbox.delete_queue(q)) AS deleted FROM outbox.list_queues('QC-') AS q;
SELECT count(outbox.delete_queue(q)) AS deleted FROM outbox.list_queues('nnnn') AS q;
SELECT count(outbox.delete_queue(q)) AS deleted FROM outbox.list_queues('ffff') AS q;

-- one statement sees what an earlier call in it created
SELECT outbox.create_queue('qc-same') = outbox.create_queue('qc-same') AS idempotent_in_one_statement;
SELECT outbox.create_queue('qc-same2') IS NOT NULL AND (outbox.get_queue_attributes('qc-same2') ->> 'QueueArn') IS NOT NULL AS seen_at_once;
SELECT outbox.delete_queue('qc-same'), outbox.delete_queue('qc-same2');
