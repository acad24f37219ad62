# Long polling: a receiver waiting in receive_message is woken by a sender's
# commit (not by polling), is not woken by a send that rolls back, and does
# not hold back the xmin horizon while it waits.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(time);

my $node = PostgreSQL::Test::Cluster->new('longpoll');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'pg_outbox'\n");
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION pg_outbox;
	SELECT outbox.create_queue('lp');
});

# start a receiver that waits up to $wait seconds
sub start_receiver
{
	my ($wait, $out) = @_;
	my $err = '';
	return IPC::Run::start(
		[ 'psql', '-XAtq', '-d', $node->connstr('postgres'), '-c',
		  "SELECT coalesce(string_agg(body, ','), '(none)') FROM outbox.receive_message('lp', 1, 30, $wait)" ],
		'>', $out, '2>', \$err);
}

my $waiting = q{
	SELECT count(*) = 1 FROM pg_stat_activity
	 WHERE query LIKE '%receive_message(''lp''%' AND pid <> pg_backend_pid()
	   AND state = 'active' AND wait_event_type = 'Extension'};

# woken by a commit
my $out = '';
my $h = start_receiver(20, \$out);
ok($node->poll_query_until('postgres', $waiting), 'the receiver is waiting');
is($node->safe_psql('postgres', q{
	SELECT backend_xmin IS NULL FROM pg_stat_activity
	 WHERE query LIKE '%receive_message(''lp''%' AND pid <> pg_backend_pid()}),
	't', 'a waiting receiver holds no xmin');
my $sent = time;
$node->safe_psql('postgres', "SELECT outbox.send_message('lp', 'wake up')");
$h->finish;
my $latency = time - $sent;
chomp $out;
is($out, 'wake up', 'the receiver got the message');
cmp_ok($latency, '<', 5, "woken by the commit, not at the end of its wait (took ${latency}s)");

# not woken by a rollback: it waits its full time and gets nothing
$out = '';
my $start = time;
$h = start_receiver(2, \$out);
ok($node->poll_query_until('postgres', $waiting), 'the receiver is waiting again');
$node->safe_psql('postgres', "BEGIN; SELECT outbox.send_message('lp', 'never'); ROLLBACK;");
$h->finish;
chomp $out;
is($out, '(none)', 'a rolled-back send delivers nothing');
cmp_ok(time - $start, '>=', 1.9, 'and the receiver waited its full time');

# a commit inside a longer transaction wakes the receiver only at commit
$out = '';
$h = start_receiver(20, \$out);
ok($node->poll_query_until('postgres', $waiting), 'waiting for a transaction');
my $tx = $node->background_psql('postgres');
$tx->query_safe("BEGIN");
$tx->query_safe("SELECT outbox.send_message('lp', 'at commit')");
sleep(1);
ok(!$h->pumpable || $out eq '', 'nothing is delivered before the commit');
$tx->query_safe("COMMIT");
$h->finish;
chomp $out;
is($out, 'at commit', 'delivered after the commit');
$tx->quit;

# a delayed message wakes the receiver when it becomes visible
$out = '';
$node->safe_psql('postgres', "SELECT outbox.send_message('lp', 'delayed', delay_seconds => 2)");
$start = time;
$h = start_receiver(10, \$out);
$h->finish;
chomp $out;
is($out, 'delayed', 'a delayed message is delivered when its delay ends');
cmp_ok(time - $start, '<', 6, 'without waiting for the end of the long poll');

# fifty idle long polls cost no CPU
my @idle;
foreach (1 .. 50)
{
	my $o = '';
	push @idle, IPC::Run::start(
		[ 'psql', '-XAtq', '-d', $node->connstr('postgres'), '-c',
		  "SELECT count(*) FROM outbox.receive_message('lp', 1, 30, 15)" ], '>', \$o, '2>', \my $e);
}
ok($node->poll_query_until('postgres', q{
	SELECT count(*) = 50 FROM pg_stat_activity
	 WHERE query LIKE '%receive_message(''lp''%' AND pid <> pg_backend_pid() AND wait_event_type = 'Extension'}),
	'fifty receivers are waiting');
my @pids = split /\n/, $node->safe_psql('postgres', q{
	SELECT pid FROM pg_stat_activity WHERE query LIKE '%receive_message(''lp''%' AND pid <> pg_backend_pid()});
sub cpu_ticks
{
	my $sum = 0;
	foreach my $pid (@pids)
	{
		open(my $fh, '<', "/proc/$pid/stat") or next;
		my @f = split / /, <$fh>;
		close $fh;
		$sum += $f[13] + $f[14];
	}
	return $sum;
}
my $t0 = cpu_ticks();
sleep(3);
my $used = cpu_ticks() - $t0;
cmp_ok($used, '<=', 5, "fifty idle long polls used $used CPU ticks in 3 s");
$_->kill_kill for @idle;

# REPEATABLE READ cannot long-poll
my ($ret, $stdout, $stderr) = $node->psql('postgres', q{
	BEGIN ISOLATION LEVEL REPEATABLE READ;
	SELECT outbox.receive_message('lp', 1, 30, 1);});
like($stderr, qr/long polling is not possible in a REPEATABLE READ transaction/, 'REPEATABLE READ gets a clear error');

$node->stop;
done_testing();
