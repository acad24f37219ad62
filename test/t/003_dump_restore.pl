# pg_dump / pg_restore keeps queues and their messages: visible, in flight,
# delayed, dead-lettered, unlogged; attributes, grants, deduplication
# windows; message ids; and receipt handles issued before the dump.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('dump');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'pg_outbox'\n");
$node->start;

$node->safe_psql('postgres', q{
	CREATE ROLE dump_reader;
	CREATE DATABASE src;
	CREATE DATABASE dst;
});
$node->safe_psql('src', q{
	CREATE EXTENSION pg_outbox;
	SELECT outbox.create_queue('dump-dlq');
	SELECT outbox.create_queue('dump-q', '{"VisibilityTimeout": 300, "DelaySeconds": 0,
	  "RedrivePolicy": {"deadLetterTargetArn": "dump-dlq", "maxReceiveCount": 5}}', tags => '{"team": "orders"}');
	SELECT outbox.create_queue('dump.fifo', '{"FifoQueue": true}');
	SELECT outbox.create_queue('dump-unlogged', unlogged => true);
	SELECT outbox.grant_queue('dump-q', '{receive,delete}', 'dump_reader');
	SELECT outbox.send_message('dump-q', 'in flight');
	CREATE TABLE handle AS SELECT receipt_handle, message_id FROM outbox.receive_message('dump-q', 1, 300);
	SELECT outbox.send_message('dump-q', 'visible', message_attributes => '{"k": {"DataType": "String", "StringValue": "v"}}');
	SELECT outbox.send_message('dump-q', 'delayed', delay_seconds => 900);
	SELECT outbox.send_message('dump.fifo', 'fifo one', message_group_id => 'g', message_deduplication_id => 'once');
	SELECT outbox.send_message('dump-unlogged', 'unlogged survives a dump');
	SELECT outbox.create_queue('dump-fanout');
	SELECT outbox.create_topic('dump-topic');
	SELECT outbox.subscribe('dump-topic', 'sqs', 'dump-fanout', '{"RawMessageDelivery": true, "FilterPolicy": {"k": ["yes"]}}');
	SELECT outbox.create_event_bus('dump-bus');
	SELECT outbox.put_rule('dump-rule', 'dump-bus', '{"source": ["dump"]}');
	SELECT outbox.put_targets('dump-rule', '[{"Id": "q", "Arn": "arn:aws:sqs:local:000000000000:dump-fanout", "InputPath": "$.detail"}]', 'dump-bus');
	SELECT outbox.put_rule('dump-default', event_pattern => '{"source": ["dump-default"]}');
	SELECT outbox.put_targets('dump-default', '[{"Id": "q", "Arn": "arn:aws:sqs:local:000000000000:dump-fanout", "Input": "\\"default\\""}]');
	SELECT outbox.create_archive('dump-archive', 'dump-bus');
	SELECT count(*) FROM outbox.put_events('[{"Source": "dump", "DetailType": "t", "Detail": "{\\"archived\\": true}", "EventBusName": "dump-bus"}]');
	SELECT count(*) FROM outbox.receive_message('dump-fanout', 10, 0);
	SELECT outbox.purge_queue('dump-fanout');
	SELECT outbox.create_state_machine('dump-machine', '{"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}');
});

my $snapshot = q{
	SELECT q.queue_name, m.msg_id, m.body, m.attributes, m.receive_count, m.group_id,
	       m.visible_at > outbox.clock_now() AS hidden, m.sent_at
	  FROM outbox.message m JOIN outbox.queue q USING (queue_id)
	UNION ALL
	SELECT q.queue_name, m.msg_id, m.body, m.attributes, m.receive_count, m.group_id,
	       m.visible_at > outbox.clock_now(), m.sent_at
	  FROM outbox.message_unlogged m JOIN outbox.queue q USING (queue_id)
	ORDER BY 1, 2};
my $attrs = q{
	SELECT q, outbox.get_queue_attributes(q) - '{CreatedTimestamp,LastModifiedTimestamp,ApproximateNumberOfMessages,ApproximateNumberOfMessagesNotVisible,ApproximateNumberOfMessagesDelayed}'::text[]
	  FROM outbox.list_queues() q ORDER BY 1};
my $before_messages = $node->safe_psql('src', $snapshot);
my $before_attrs = $node->safe_psql('src', $attrs);
my $before_ids = $node->safe_psql('src', "SELECT message_id FROM handle");

my $dump = $node->basedir . '/src.dump';
$node->command_ok([ 'pg_dump', '-Fc', '-d', $node->connstr('src'), '-f', $dump ], 'pg_dump');
$node->command_ok([ 'pg_restore', '-d', $node->connstr('dst'), $dump ], 'pg_restore into a fresh database');

is($node->safe_psql('dst', $snapshot), $before_messages, 'every message is restored as it was');
is($node->safe_psql('dst', $attrs), $before_attrs, 'queues and attributes are restored');
is($node->safe_psql('dst', "SELECT tags FROM outbox.queue WHERE queue_name = 'dump-q'"), '{"team": "orders"}', 'tags are restored');

# message ids stay the same (they derive from the restored installation secret)
my $restored_id = $node->safe_psql('dst', q{
	SELECT message_id FROM outbox.receive_message('dump-q', 10, 0) WHERE body = 'visible'});
my $src_id = $node->safe_psql('src', q{
	SELECT message_id FROM outbox.receive_message('dump-q', 10, 0) WHERE body = 'visible'});
isnt($restored_id, '', 'the visible message is there');
is($restored_id, $src_id, 'message ids survive the restore');

# in flight stays in flight, delayed stays delayed
is($node->safe_psql('dst', "SELECT string_agg(body, ',' ORDER BY body) FROM outbox.receive_message('dump-q', 10, 0)"),
	'visible', 'only the visible message is receivable after the restore');

# a receipt handle issued before the dump still works
my $handle = $node->safe_psql('src', "SELECT receipt_handle FROM handle");
$node->safe_psql('dst', "SELECT outbox.delete_message('dump-q', '$handle')");
is($node->safe_psql('dst', q{
	SELECT count(*) FROM outbox.message m JOIN outbox.queue USING (queue_id)
	 WHERE queue_name = 'dump-q' AND body = 'in flight'}), '0', 'a handle from before the dump deletes its message');

# the FIFO deduplication window continues
is($node->safe_psql('dst', q{
	SELECT count(*) FROM outbox.send_message('dump.fifo', 'fifo again', message_group_id => 'g', message_deduplication_id => 'once')
	 WHERE sequence_number = (SELECT sequence_number FROM outbox.receive_message('dump.fifo', 1, 0))}), '1',
	'deduplication continues after the restore');

# grants survive
is($node->safe_psql('dst', q{
	SET ROLE dump_reader;
	SELECT count(*) >= 0 FROM outbox.receive_message('dump-q', 1, 0)}), 't', 'grants are restored');

# the unlogged queue's messages were dumped too
is($node->safe_psql('dst', "SELECT body FROM outbox.receive_message('dump-unlogged', 1, 0)"),
	'unlogged survives a dump', 'unlogged queues are dumped with their messages');

# topics, buses (rules, targets, archives) and state machines come back and work
$node->safe_psql('dst', q{
	SELECT outbox.publish('dump-topic', 'filtered out', message_attributes => '{"k": {"DataType": "String", "StringValue": "no"}}');
	SELECT outbox.publish('dump-topic', 'published', message_attributes => '{"k": {"DataType": "String", "StringValue": "yes"}}');
	SELECT * FROM outbox.put_events('[{"Source": "dump", "DetailType": "t", "Detail": "{\\"routed\\": 1}", "EventBusName": "dump-bus"},
	                                  {"Source": "dump-default", "DetailType": "t", "Detail": "{}"}]');
});
is($node->safe_psql('dst', "SELECT string_agg(body, ',' ORDER BY body) FROM outbox.receive_message('dump-fanout', 10, 0)"),
	'"default",published,{"routed": 1}', 'subscriptions, rules and targets are restored and route');
is($node->safe_psql('dst', "SELECT outbox.describe_archive('dump-archive') ->> 'EventCount'"), '2',
	'the archive kept its event and archives new ones');
is($node->safe_psql('dst', "SELECT count(*) FROM outbox.list_event_buses()"), '2', 'one default bus and the custom one');
is($node->safe_psql('dst', "SELECT outbox.describe_state_machine('dump-machine') ->> 'type'"), 'STANDARD',
	'state machines are restored');

# new messages get new numbers after the restored ones
is($node->safe_psql('dst', q{
	SELECT (SELECT max(msg_id) FROM outbox.message) < nextval('outbox.message_id_seq')}), 't',
	'the message sequence continues after the restored messages');

$node->stop;
done_testing();
