# Without shared_preload_libraries (a managed service): the synchronous API
# works, long polling falls back to re-checking, counters are counted, and
# due work is driven by calling outbox.run_queue_maintenance().
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $node = PostgreSQL::Test::Cluster->new('no_preload');
$node->init;
$node->start;

$node->safe_psql('postgres', q{
	CREATE EXTENSION pg_outbox;
	SELECT outbox.create_queue('plain', '{"MessageRetentionPeriod": 60}');
	SELECT outbox.create_queue('plain.fifo', '{"FifoQueue": true, "ContentBasedDeduplication": true}');
});
is($node->safe_psql('postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE backend_type LIKE 'pg_outbox%'"),
	'0', 'no workers without preload');

is($node->safe_psql('postgres', q{
	SELECT count(*) FROM outbox.send_message_bodies('plain', array['a', 'b', 'c'])}), '3', 'send works');
is($node->safe_psql('postgres', q{
	SELECT string_agg(body, ',' ORDER BY body) FROM outbox.receive_message('plain', 10, 30)}),
	'a,b,c', 'receive works');
is($node->safe_psql('postgres', q{
	SELECT outbox.get_queue_attributes('plain', '{ApproximateNumberOfMessagesNotVisible}')}),
	'{"ApproximateNumberOfMessagesNotVisible": "3"}', 'counters are counted');
$node->safe_psql('postgres', "SELECT outbox.send_message('plain.fifo', 'f1', message_group_id => 'g')");
is($node->safe_psql('postgres', "SELECT body FROM outbox.receive_message('plain.fifo', 10)"), 'f1', 'FIFO works');

# a long poll still returns a message that becomes visible while it waits
$node->safe_psql('postgres', "SELECT outbox.send_message('plain', 'later', delay_seconds => 1)");
my $start = time;
is($node->safe_psql('postgres', "SELECT body FROM outbox.receive_message('plain', 1, 30, 10)"),
	'later', 'long polling works without shared memory');
cmp_ok(time - $start, '<', 5, 'and returns soon after the message is visible');

# due work by hand: the clock moves only in the calling session here
is($node->safe_psql('postgres', q{
	SELECT outbox.advance_clock('61 s') IS NOT NULL;
	SELECT outbox.run_queue_maintenance() >= 3;
	SELECT count(*) FROM outbox.message m JOIN outbox.queue q USING (queue_id) WHERE q.queue_name = 'plain'}),
	"t\nt\n0", 'run_queue_maintenance removes expired messages');

$node->stop;
done_testing();
