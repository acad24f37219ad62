-- Queues: create (idempotent), attributes (bounds, get, set), list, delete.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_outbox;
RESET client_min_messages;
\i sql/include/queue_helpers.sql

-- defaults
SELECT outbox.create_queue('attr-q');
SELECT key, value FROM jsonb_each(outbox.get_queue_attributes('attr-q'))
 WHERE key NOT IN ('CreatedTimestamp', 'LastModifiedTimestamp') ORDER BY key;
SELECT (outbox.get_queue_attributes('attr-q') ->> 'CreatedTimestamp')::bigint
       BETWEEN extract(epoch FROM outbox.clock_now())::bigint - 60 AND extract(epoch FROM outbox.clock_now())::bigint + 60 AS created_is_epoch_seconds;

-- every settable attribute, as strings (AWS) or as JSON numbers
SELECT outbox.create_queue('attr-full', '{"VisibilityTimeout": "45", "DelaySeconds": 5,
  "MessageRetentionPeriod": 120, "MaximumMessageSize": 2048, "ReceiveMessageWaitTimeSeconds": "3",
  "Policy": {"Version": "2012-10-17"}, "KmsMasterKeyId": "alias/aws/sqs", "SqsManagedSseEnabled": "false",
  "KmsDataKeyReusePeriodSeconds": 300}');
SELECT outbox.get_queue_attributes('attr-full', '{VisibilityTimeout,DelaySeconds,MessageRetentionPeriod,MaximumMessageSize,ReceiveMessageWaitTimeSeconds,Policy,KmsMasterKeyId,SqsManagedSseEnabled,KmsDataKeyReusePeriodSeconds}');

-- idempotent create: same attributes, fewer attributes, none
SELECT outbox.create_queue('attr-full', '{"VisibilityTimeout": 45}');
SELECT outbox.create_queue('attr-full');
-- different attributes: an error, and nothing changes
SELECT outbox.create_queue('attr-full', '{"VisibilityTimeout": 46}');
SELECT pg_temp.err($$SELECT outbox.create_queue('attr-full', '{"DelaySeconds": 0}')$$);
SELECT outbox.get_queue_attributes('attr-full', '{VisibilityTimeout,DelaySeconds}');
-- asking for an unlogged queue under the name of a logged one is a conflict too
SELECT pg_temp.err($$SELECT outbox.create_queue('attr-full', unlogged => true)$$);

-- bounds: the lowest and highest value of each are accepted ...
SELECT outbox.create_queue('attr-lo', '{"VisibilityTimeout": 0, "DelaySeconds": 0, "MessageRetentionPeriod": 60,
  "MaximumMessageSize": 1024, "ReceiveMessageWaitTimeSeconds": 0}') IS NOT NULL AS ok;
SELECT outbox.create_queue('attr-hi', '{"VisibilityTimeout": 43200, "DelaySeconds": 900, "MessageRetentionPeriod": 1209600,
  "MaximumMessageSize": 1048576, "ReceiveMessageWaitTimeSeconds": 20}') IS NOT NULL AS ok;
-- ... and one past them is refused with 22023, naming the attribute and the range
SELECT a AS attributes, pg_temp.err(format('SELECT outbox.create_queue(%L, %L)', 'attr-bad', a)) AS result
  FROM (VALUES ('{"VisibilityTimeout": -1}'), ('{"VisibilityTimeout": 43201}'), ('{"DelaySeconds": 901}'),
               ('{"MessageRetentionPeriod": 59}'), ('{"MessageRetentionPeriod": 1209601}'),
               ('{"MaximumMessageSize": 1023}'), ('{"MaximumMessageSize": 1048577}'),
               ('{"ReceiveMessageWaitTimeSeconds": 21}'), ('{"VisibilityTimeout": "soon"}'),
               ('{"VisibilityTimeout": 1.5}'), ('{"KmsDataKeyReusePeriodSeconds": 59}'),
               ('{"SqsManagedSseEnabled": "maybe"}'), ('{"Visibility": 10}'), ('{"QueueArn": "x"}'),
               ('[1, 2]'), ('{"ContentBasedDeduplication": true}'), ('{"DeduplicationScope": "queue"}'),
               ('{"FifoThroughputLimit": "perQueue"}'),
               ('{"RedrivePolicy": {"maxReceiveCount": 3}}'),
               ('{"RedrivePolicy": {"deadLetterTargetArn": "nowhere", "maxReceiveCount": 3}}'),
               ('{"RedriveAllowPolicy": {"redrivePermission": "some"}}')) AS v(a);
-- the hint names the attribute to use
SELECT outbox.create_queue('attr-bad', '{"Visibility": 10}');
-- beyond AWS: a larger MaximumMessageSize once the server limit allows it
SET pg_outbox.max_message_size = '4MB';
SELECT outbox.create_queue('attr-big', '{"MaximumMessageSize": 4194304}') IS NOT NULL AS ok;
RESET pg_outbox.max_message_size;
SELECT pg_temp.err($$SELECT outbox.create_queue('attr-big2', '{"MaximumMessageSize": 4194304}')$$);
-- none of the refused queues exists
SELECT outbox.list_queues('attr-bad');

-- names: 1-80 of [A-Za-z0-9_-], ".fifo" only for FIFO queues
SELECT left(n, 20) AS name, length(n) AS length, pg_temp.err(format('SELECT outbox.create_queue(%L, %L)', n, a)) AS result
  FROM (VALUES ('', '{}'), (repeat('n', 81), '{}'), ('has space', '{}'), ('dot.ted', '{}'), ('tab	name', '{}'),
               ('plain.fifo', '{}'), ('nofifo', '{"FifoQueue": true}'), ('x.fifo.fifo', '{"FifoQueue": true}'),
               (repeat('n', 80), '{}')) AS v(n, a);
SELECT outbox.create_queue('plain.fifo');
SELECT pg_temp.err($$SELECT outbox.create_queue(NULL)$$);
SELECT pg_temp.err($$SELECT outbox.get_queue_attributes('no-such-queue')$$);
SELECT pg_temp.err($$SELECT outbox.get_queue_attributes('attr-q', '{NoSuchAttribute}')$$);

-- set_queue_attributes
SELECT outbox.set_queue_attributes('attr-q', '{"VisibilityTimeout": 10, "DelaySeconds": "2"}');
SELECT outbox.get_queue_attributes('attr-q', '{VisibilityTimeout,DelaySeconds,MessageRetentionPeriod}');
SELECT a AS attributes, pg_temp.err(format('SELECT outbox.set_queue_attributes(%L, %L)', 'attr-q', a)) AS result
  FROM (VALUES ('{"FifoQueue": false}'), ('{"VisibilityTimeout": 99999}'), ('{"ApproximateNumberOfMessages": 3}'),
               ('{"ContentBasedDeduplication": true}'), ('{"DelaySeconds": 1, "VisibilityTimeout": -5}')) AS v(a);
-- a refused change changes nothing, not even the attributes given beside the bad one
SELECT outbox.get_queue_attributes('attr-q', '{VisibilityTimeout,DelaySeconds}');
SELECT pg_temp.err($$SELECT outbox.set_queue_attributes('no-such-queue', '{}')$$);

-- list_queues: name order, prefix (case-sensitive), max_results
SELECT outbox.list_queues('attr-');
SELECT outbox.list_queues('ATTR-');
SELECT outbox.list_queues('attr-', 2);
SELECT pg_temp.err($$SELECT outbox.list_queues('attr-', 0)$$);
SELECT pg_temp.err($$SELECT outbox.list_queues('attr-', 1001)$$);

-- delete
SELECT outbox.delete_queue('attr-lo');
SELECT pg_temp.err($$SELECT outbox.delete_queue('attr-lo')$$);
SELECT outbox.list_queues('attr-lo');
SELECT outbox.delete_queue(q) FROM outbox.list_queues('attr-') AS q;
SELECT outbox.delete_queue(repeat('n', 80));
SELECT outbox.delete_queue('plain.fifo');
SELECT count(*) AS queues_left FROM outbox.list_queues();
