# The command-line client: every subcommand, its errors and exit codes, and
# the consume loop (failures, heartbeat, SIGTERM mid-batch, a server
# restart) with nothing lost or run twice.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

my $cli = "$ENV{TOP}/src/cli/pg_outbox";
my $node = PostgreSQL::Test::Cluster->new('cli');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_outbox'
pg_outbox.databases = 'none'
pg_outbox.purge_interval = 0
});
$node->start;
$node->safe_psql('postgres', q{CREATE EXTENSION pg_outbox;
	SELECT outbox.create_queue('jobs');
	SELECT outbox.create_queue('jobs.fifo', '{"FifoQueue": "true", "ContentBasedDeduplication": "true"}');});
my $connstr = $node->connstr('postgres');
my @c = ($cli, '-d', $connstr);
my $tmp = PostgreSQL::Test::Utils::tempdir;

sub depth
{
	my ($q) = @_;
	return $node->safe_psql('postgres', qq{SELECT a ->> 'ApproximateNumberOfMessages' || '/' || (a ->> 'ApproximateNumberOfMessagesNotVisible') FROM outbox.get_queue_attributes('$q') AS a});
}

# send, receive, delete, purge, queues
command_like([@c, 'send', 'jobs', 'hello'], qr/^[0-9a-f-]{36}$/, 'send prints the MessageId');
command_like([@c, '--json', 'send', 'jobs', 'two', '--attr', 'color=red', '--attr-number', 'n=7'],
	qr/^\{"MessageId":"[0-9a-f-]{36}","MD5OfMessageBody":"[0-9a-f]{32}"\}$/, 'send --json');
{
	my ($stdout, $stderr);
	IPC::Run::run([@c, 'send', 'jobs'], '<', \"from stdin\n", '>', \$stdout, '2>', \$stderr);
	like($stdout, qr/^[0-9a-f-]{36}$/, 'send reads the body from stdin');
}
command_like([@c, 'send', 'jobs.fifo', 'f1', '--group', 'g'], qr/^[0-9a-f-]{36} \d+$/,
	'send to a FIFO queue prints the sequence number too');
command_like([@c, 'queues'], qr/^queue\s+visible\s+in_flight\s+delayed\s+type\njobs\s+3\s+0\s+0\s+standard\njobs\.fifo\s+1\s+0\s+0\s+fifo$/,
	'queues shows the depth of each queue');
my ($out) = run_command([@c, '--json', 'receive', 'jobs', '--max', '10', '--visibility', '60']);
my @lines = split /\n/, $out;
is(scalar(@lines), 3, 'receive --json prints one line per message');
like($lines[1], qr/"Body":"two".*"MessageAttributes":\{"n":\{"DataType":"Number","StringValue":"7"\},"color":\{"DataType":"String","StringValue":"red"\}\}/,
	'with body and attributes');
my @handles = map { /"ReceiptHandle":"([0-9a-f]+)"/ ? $1 : () } @lines;
command_like([@c, 'delete', 'jobs', @handles[0, 1]], qr/^deleted 2$/, 'delete by receipt handle');
is(depth('jobs'), '0/1', 'one message left in flight');
command_like([@c, 'purge', 'jobs'], qr/^purged 1$/, 'purge');

# errors: SQLSTATE and exit codes
command_fails_like([@c, 'send', 'nope', 'x'], qr/ERROR 42704: queue "nope" does not exist/, 'an unknown queue');
is(system(@c, 'send', 'nope', 'x') >> 8, 1, 'a server error exits 1');
command_fails_like([@c, 'receive', 'jobs', '--max', 'lots'], qr/invalid value "lots" for --max/, 'a bad option value');
is(system(@c, 'receive', 'jobs', '--max', 'lots') >> 8, 2, 'bad usage exits 2');
command_fails_like([$cli, '-d', 'host=/nonexistent port=1', 'queues'], qr/could not connect/, 'a bad connection string');
is(system($cli, '-d', 'host=/nonexistent port=1', 'queues') >> 8, 3, 'no connection exits 3');
command_fails_like([@c, 'frobnicate'], qr/unknown command "frobnicate"/, 'an unknown command');
command_like([@c, 'consume', '--help'], qr/Usage: pg_outbox consume QUEUE/, 'every command has --help');
command_fails_like([@c, 'send', 'jobs', 'x', '--attr', 'novalue'], qr/invalid attribute "novalue"/, 'a bad attribute');

# consume: success deletes, failure leaves the message (and --backoff hides it)
$node->safe_psql('postgres', q{SELECT outbox.send_message_bodies('jobs', array_agg('m' || g)) FROM generate_series(1, 50) AS g});
my $log = "$tmp/consumed";
command_ok([@c, 'consume', 'jobs', '--concurrency', '4', '--wait', '0', '--exit-when-empty', '--',
	'sh', '-c', "printf '%s %s\\n' \"\$(cat)\" \"\$OUTBOX_RECEIVE_COUNT\" >> $log"], 'consume drains the queue');
my $got = slurp_file($log);
is(scalar(() = $got =~ /^m\d+ 1$/mg), 50, 'each of the 50 messages ran once, on its first receive');
is(depth('jobs'), '0/0', 'and was deleted');
$node->safe_psql('postgres', q{SELECT outbox.send_message('jobs', 'poison')});
command_ok([@c, 'consume', 'jobs', '--wait', '0', '--limit', '1', '--backoff', '0', '--', 'false'],
	'a failing command');
is($node->safe_psql('postgres', q{SELECT receive_count FROM outbox.message WHERE body = 'poison'}), '1', 'leaves its message, received once');
is(depth('jobs'), '1/0', 'visible again at once with --backoff 0');
$node->safe_psql('postgres', q{SELECT outbox.purge_queue('jobs')});

# heartbeat: a command slower than the visibility timeout keeps its message
$node->safe_psql('postgres', q{SELECT outbox.send_message('jobs', 'slow')});
command_ok([@c, 'consume', 'jobs', '--visibility', '2', '--wait', '0', '--limit', '1', '--',
	'sh', '-c', "sleep 5; cat >> $tmp/slow"], 'a command running longer than the visibility timeout');
is(slurp_file("$tmp/slow"), 'slow', 'ran once');
is($node->safe_psql('postgres', q{SELECT count(*) FROM outbox.message WHERE body = 'slow'}), '0', 'and its message was deleted, never redelivered');

# SIGTERM in the middle of a batch: running commands finish, nothing is lost or doubled
$node->safe_psql('postgres', q{SELECT outbox.send_message_bodies('jobs', array_agg('t' || g)) FROM generate_series(1, 40) AS g});
my $tlog = "$tmp/term";
my $h = IPC::Run::start([@c, 'consume', 'jobs', '--concurrency', '4', '--wait', '1', '--',
	'sh', '-c', "sleep 0.2; printf '%s\\n' \"\$(cat)\" >> $tlog"], '>', \my $o1, '2>', \my $e1);
usleep(700_000);
$h->signal('TERM');
ok($h->finish, 'consume exits 0 after SIGTERM');
my $done = () = slurp_file($tlog) =~ /^t\d+$/mg;
ok($done > 0 && $done < 40, "it stopped part-way ($done of 40 done)");
is($node->safe_psql('postgres', q{SELECT count(*) FROM outbox.message WHERE body LIKE 't%'}), 40 - $done,
	'every finished message was deleted, none of the others taken');
command_ok([@c, 'consume', 'jobs', '--concurrency', '4', '--wait', '0', '--exit-when-empty', '--',
	'sh', '-c', "printf '%s\\n' \"\$(cat)\" >> $tlog"], 'a second consumer takes the rest');
my %seen;
$seen{$_}++ for (slurp_file($tlog) =~ /^(t\d+)$/mg);
is(scalar(keys %seen), 40, 'all 40 ran');
is(scalar(grep { $seen{$_} > 1 } keys %seen), 0, 'none twice');

# --batch: one long-running command reads JSON lines and acknowledges by MessageId
$node->safe_psql('postgres', q{SELECT outbox.purge_queue('jobs');
	SELECT outbox.send_message_bodies('jobs', array_agg('b' || g)) FROM generate_series(1, 300) AS g});
command_ok([@c, 'consume', 'jobs', '--batch', '--wait', '0', '--exit-when-empty', '--',
	'awk', '-F', '"MessageId":"', '{ split($2, a, "\""); print a[1]; fflush() }'],
	'consume --batch with a command that acknowledges everything');
is(depth('jobs'), '0/0', 'every acknowledged message was deleted');
$node->safe_psql('postgres', q{SELECT outbox.send_message_bodies('jobs', array_agg('n' || g)) FROM generate_series(1, 10) AS g});
command_ok([@c, 'consume', 'jobs', '--batch', '--wait', '0', '--exit-when-empty', '--visibility', '60', '--',
	'sh', '-c', 'cat > /dev/null'], 'consume --batch with a command that acknowledges nothing');
is(depth('jobs'), '0/10', 'unacknowledged messages stay in flight until their visibility timeout');
{
	my ($stdout, $stderr);
	IPC::Run::run([@c, 'consume', 'jobs', '--batch', '--wait', '0', '--exit-when-empty', '--',
		'sh', '-c', 'echo not-a-message-id'], '>', \$stdout, '2>', \$stderr);
	like($stderr, qr/ignoring output line that is not a pending MessageId: not-a-message-id/,
		'a stray output line is reported, not taken as an acknowledgement');
}
$node->safe_psql('postgres', q{SELECT outbox.purge_queue('jobs')});

# a server restart: consume reconnects and goes on
my $rlog = "$tmp/restart";
my $h2 = IPC::Run::start([@c, 'consume', 'jobs', '--wait', '1', '--',
	'sh', '-c', "printf '%s\\n' \"\$(cat)\" >> $rlog"], '>', \my $o2, '2>', \my $e2);
$node->safe_psql('postgres', q{SELECT outbox.send_message('jobs', 'before')});
usleep(500_000);
$node->restart;
$node->safe_psql('postgres', q{SELECT outbox.send_message('jobs', 'after')});
my $waited = 0;
while ($waited < 300 && !(-e $rlog && slurp_file($rlog) =~ /after/))
{
	usleep(100_000);
	$waited++;
}
$h2->signal('TERM');
$h2->finish;
like(slurp_file($rlog), qr/before\nafter\n/, 'consume survived a server restart');

$node->stop;
done_testing();
