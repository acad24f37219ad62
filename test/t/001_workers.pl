# The background workers: the launcher starts a scheduler per database that
# has pg_outbox, restarts it (throttled) when it exits, the scheduler leaves
# a database whose extension is dropped, and due work happens without calls.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('workers');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_outbox'
pg_outbox.launcher_interval = '200ms'
pg_outbox.restart_interval = '1s'
pg_outbox.maintenance_interval = '200ms'
});
$node->start;

sub schedulers
{
	my ($db) = @_;
	return $node->safe_psql('postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_outbox scheduler' AND datname = '$db'");
}

ok($node->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'pg_outbox launcher'"),
	'the launcher runs');

# a database without the extension gets no lasting scheduler
$node->safe_psql('postgres', 'CREATE DATABASE app');
sleep(2);
is(schedulers('app'), '0', 'no scheduler where the extension is not installed');

# CREATE EXTENSION is noticed
$node->safe_psql('app', 'CREATE EXTENSION pg_outbox');
ok($node->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'pg_outbox scheduler' AND datname = 'app'"),
	'a scheduler starts after CREATE EXTENSION');

# retention happens by itself
$node->safe_psql('app', q{
	SELECT outbox.create_queue('short', '{"MessageRetentionPeriod": 60}');
	SELECT outbox.send_message('short', 'expires');
	SELECT outbox.advance_clock('61 s');
});
ok($node->poll_query_until('app',
		"SELECT count(*) = 0 FROM outbox.message m JOIN outbox.queue q USING (queue_id) WHERE q.queue_name = 'short'"),
	'the scheduler removes expired messages without being asked');

# a scheduler that exits is restarted by the launcher, as a new process
my $pid = $node->safe_psql('postgres',
	"SELECT pid FROM pg_stat_activity WHERE backend_type = 'pg_outbox scheduler' AND datname = 'app'");
$node->safe_psql('postgres', "SELECT pg_terminate_backend($pid)");
ok($node->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'pg_outbox scheduler' AND datname = 'app' AND pid <> $pid"),
	'a terminated scheduler is restarted');
is(schedulers('app'), '1', 'exactly one scheduler per database');

# the launcher itself comes back too, and does not start a second scheduler
my $launcher = $node->safe_psql('postgres',
	"SELECT pid FROM pg_stat_activity WHERE backend_type = 'pg_outbox launcher'");
$node->safe_psql('postgres', "SELECT pg_terminate_backend($launcher)");
ok($node->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'pg_outbox launcher' AND pid <> $launcher"),
	'the launcher is restarted by the postmaster');
sleep(1);
is(schedulers('app'), '1', 'a restarted launcher finds the running scheduler');

# DROP EXTENSION: the scheduler leaves
$node->safe_psql('app', 'DROP EXTENSION pg_outbox');
ok($node->poll_query_until('postgres',
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'pg_outbox scheduler' AND datname = 'app'"),
	'the scheduler exits after DROP EXTENSION');

# pg_outbox.databases limits the databases served
$node->safe_psql('app', 'CREATE EXTENSION pg_outbox');
$node->safe_psql('postgres', "ALTER SYSTEM SET pg_outbox.databases = 'postgres'");
$node->reload;
$pid = $node->safe_psql('postgres',
	"SELECT coalesce(max(pid), 0) FROM pg_stat_activity WHERE backend_type = 'pg_outbox scheduler' AND datname = 'app'");
$node->safe_psql('postgres', "SELECT pg_terminate_backend($pid)") if $pid;
sleep(3);
is(schedulers('app'), '0', 'a database not listed in pg_outbox.databases is not served');

# the workers stop with the server
$node->stop('fast');
pass('the server stops with its workers');

done_testing();
