# Scheduled rules run by the workers: each firing happens once, also across
# a crash-restart, and the firings missed while the server was down are
# made up by a single firing.  The pg_outbox clock (advance_clock) stands in
# for waiting minutes.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('schedules');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_outbox'
pg_outbox.launcher_interval = '200ms'
pg_outbox.restart_interval = '1s'
pg_outbox.maintenance_interval = '200ms'
});
$node->start;

$node->safe_psql('postgres', q{
	CREATE EXTENSION pg_outbox;
	SELECT outbox.create_queue('ticks');
	SELECT outbox.put_rule('every-minute', schedule_expression => 'rate(1 minute)');
	SELECT outbox.put_targets('every-minute', '[{"Id": "q", "Arn": "arn:aws:sqs:local:000000000000:ticks"}]');
});
# rows, not receives: the clock offset (and so visibility) does not survive the restart
my $count = "SELECT count(*) FROM outbox.message JOIN outbox.queue USING (queue_id) WHERE queue_name = 'ticks'";

ok($node->poll_query_until('postgres', "SELECT count(*) = 1 FROM outbox.workers WHERE worker_type = 'scheduler'"),
	'the scheduler runs');
is($node->safe_psql('postgres', $count), '0', 'nothing fires before the first minute');

$node->safe_psql('postgres', "SELECT outbox.advance_clock('61 seconds')");
ok($node->poll_query_until('postgres', "SELECT ($count) = 1"), 'the rule fires after a minute');
sleep 2;
is($node->safe_psql('postgres', $count), '1', 'and only once');
is($node->safe_psql('postgres', "SELECT count(*) FROM outbox.due_item WHERE kind = 'schedule'"), '1',
	'its next firing is scheduled');

# a crash: the clock offset is gone, the next firing is still there
$node->stop('immediate');
$node->start;
is($node->safe_psql('postgres', $count), '1', 'after a crash-restart the firing is still counted once');
is($node->safe_psql('postgres', "SELECT count(*) FROM outbox.due_item WHERE kind = 'schedule'"), '1',
	'and the next firing survived');

# ten minutes of downtime, as far as the schedule can tell: one firing
$node->safe_psql('postgres', "SELECT outbox.advance_clock('10 minutes')");
ok($node->poll_query_until('postgres', "SELECT ($count) = 2"), 'the missed firings are made up by one firing');
sleep 2;
is($node->safe_psql('postgres', $count), '2', 'not one per missed minute');
is($node->safe_psql('postgres',
	"SELECT due_at > outbox.clock_now() AND due_at <= outbox.clock_now() + interval '1 minute' FROM outbox.due_item WHERE kind = 'schedule'"),
	't', 'and the schedule goes on within the next minute');

# disabled: the pending firing is void
$node->safe_psql('postgres', "SELECT outbox.disable_rule('every-minute'); SELECT outbox.advance_clock('2 minutes')");
ok($node->poll_query_until('postgres', "SELECT count(*) = 0 FROM outbox.due_item WHERE kind = 'schedule'"),
	'a disabled rule\'s firing is dropped');
is($node->safe_psql('postgres', $count), '2', 'without firing');

$node->stop;
done_testing();
