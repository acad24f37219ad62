# The command-line client for topics and buses: publish (with attributes,
# from stdin), put-events from JSON lines (per-line errors, bad JSON sends
# nothing), and tail of a topic and of a bus, which cleans up its temporary
# queue, subscription and rule however it stops.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

my $cli = "$ENV{TOP}/src/cli/pg_outbox";
my $node = PostgreSQL::Test::Cluster->new('cli_events');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_outbox'
pg_outbox.databases = 'none'
});
$node->start;
$node->safe_psql('postgres', q{CREATE EXTENSION pg_outbox;
	SELECT outbox.create_topic('news');
	SELECT outbox.create_queue('inbox');
	SELECT outbox.subscribe('news', 'sqs', 'inbox', '{"RawMessageDelivery": true}');
	SELECT outbox.create_queue('orders');
	SELECT outbox.put_rule('orders', event_pattern => '{"source": ["shop"]}');
	SELECT outbox.put_targets('orders', '[{"Id": "q", "Arn": "arn:aws:sqs:local:000000000000:orders"}]');});
my @c = ($cli, '-d', $node->connstr('postgres'));

sub leftovers
{
	return $node->safe_psql('postgres', q{
		SELECT (SELECT count(*) FROM outbox.list_queues() q WHERE q::text LIKE '%tail-%') || '/' ||
		       (SELECT count(*) FROM outbox.list_subscriptions()) || '/' ||
		       (SELECT count(*) FROM outbox.list_rules())});
}

# publish
command_like([@c, 'publish', 'news', 'hello', '--subject', 'Hi', '--attr', 'kind=greeting', '--attr-number', 'n=1'],
	qr/^[0-9a-f-]{36}$/, 'publish prints the MessageId');
{
	my ($stdout, $stderr);
	IPC::Run::run([@c, '--json', 'publish', 'news'], '<', \"from stdin", '>', \$stdout, '2>', \$stderr);
	like($stdout, qr/^\{"MessageId":"[0-9a-f-]{36}"\}$/, 'publish --json, the message from stdin');
}
is($node->safe_psql('postgres', q{SELECT string_agg(body || ' ' || coalesce(message_attributes ->> 'kind', '-'), ',' ORDER BY body) FROM outbox.receive_message('inbox', 10)}),
	'from stdin -,hello {"DataType": "String", "StringValue": "greeting"}', 'the subscribed queue got both, with the attributes');
command_fails_like([@c, 'publish', 'nope', 'x'], qr/ERROR 42704: topic "nope" does not exist/, 'an unknown topic');
is(system(@c, 'publish', 'nope', 'x') >> 8, 1, 'exits 1');
command_fails_like([@c, 'publish', 'news', ''], qr/ERROR 22023: invalid "message": the message must not be empty/,
	'an empty message');

# put-events
{
	my ($stdout, $stderr);
	my $in = join("\n",
		'{"Source": "shop", "DetailType": "OrderPlaced", "Detail": {"id": 1}}',
		'',
		'{"Source": "aws.shop", "DetailType": "OrderPlaced", "Detail": {}}',
		'{"Source": "shop", "DetailType": "OrderPlaced", "Detail": "{\"id\": 2}"}') . "\n";
	IPC::Run::run([@c, 'put-events'], '<', \$in, '>', \$stdout, '2>', \$stderr);
	is($? >> 8, 1, 'put-events exits 1 when an entry failed');
	like($stdout, qr/^[0-9a-f-]{36}\n[0-9a-f-]{36}$/, 'one EventId per good line');
	like($stderr, qr/line 3: NotAuthorizedForSourceException: the source "aws\.shop" is reserved/,
		'the failed entry, with its line');
}
is($node->safe_psql('postgres', q{SELECT string_agg(body::jsonb -> 'detail' ->> 'id', ',' ORDER BY 1) FROM outbox.receive_message('orders', 10)}),
	'1,2', 'the rule routed both good events');
{
	my ($stdout, $stderr);
	IPC::Run::run([@c, 'put-events'], '<', \"{\"Source\": \"shop\", \"DetailType\": \"t\", \"Detail\": {}}\n{\"Source\": \n",
		'>', \$stdout, '2>', \$stderr);
	is($? >> 8, 2, 'bad JSON exits 2');
	like($stderr, qr/line 2 is not a JSON object/, 'naming the line');
	is($stdout, '', 'and nothing was sent');
}

# tail a topic: prints what comes, stops at --max, cleans up
{
	my ($stdout, $stderr) = ('', '');
	my $h = IPC::Run::start([@c, 'tail', 'news', '--max', '2', '--for', '60'], '>', \$stdout, '2>', \$stderr);
	ok($node->poll_query_until('postgres', "SELECT count(*) = 2 FROM outbox.list_subscriptions_by_topic('news')"),
		'tail subscribes a temporary queue');
	$node->safe_psql('postgres', "SELECT outbox.publish('news', 'one'); SELECT outbox.publish('news', 'two')");
	$h->finish;
	is($stdout, "one\ntwo\n", 'tail prints the messages');
	is(leftovers(), '0/1/1', 'and removes its queue and subscription');
}

# tail a bus with a pattern; SIGTERM stops it, and it still cleans up
{
	my ($stdout, $stderr) = ('', '');
	my $h = IPC::Run::start([@c, 'tail', '--bus', 'default', '--pattern', '{"detail-type": ["watched"]}'],
		'>', \$stdout, '2>', \$stderr);
	ok($node->poll_query_until('postgres', "SELECT count(*) = 2 FROM outbox.list_rules()"),
		'tail puts a temporary rule');
	$node->safe_psql('postgres', q{SELECT * FROM outbox.put_events('[{"Source": "x", "DetailType": "watched", "Detail": "{\"n\": 7}"},
		{"Source": "x", "DetailType": "ignored", "Detail": "{}"}]')});
	my $waited = 0;
	while ($stdout !~ /"n": 7/ && $waited++ < 100)
	{
		$h->pump_nb;
		usleep(100_000);
	}
	like($stdout, qr/"detail-type": "watched"/, 'tail --bus prints the matching events');
	unlike($stdout, qr/ignored/, 'and only those');
	$h->signal('TERM');
	$h->finish;
	is(leftovers(), '0/1/1', 'after SIGTERM its rule and queue are gone');
}
command_fails_like([@c, 'tail'], qr/give a topic, or --bus BUS/, 'tail needs a topic or a bus');
command_fails_like([@c, 'tail', 'nope', '--max', '1'], qr/ERROR 42704: topic "nope" does not exist/,
	'an unknown topic');
is(leftovers(), '0/1/1', 'a failed tail leaves nothing behind');

# stats: one screen, or JSON
command_like([@c, 'stats', '--once'], qr/Queues\nqueue\s+visible\s+in_flight\s+delayed\s+type\n(?:.*\n)*?inbox\s+\d+\s+\d+\s+\d+\s+standard\n(?:.*\n)*Topics\ntopic\s+subscriptions\s+type\nnews\s+1\s+standard\n(?:.*\n)*Event buses\nevent_bus\s+rules\ndefault\s+1\n/,
	'stats --once shows the queues, topics and buses');
command_like([@c, '--json', 'stats', '--count', '2', '--interval', '1'],
	qr/^\{"time":"[^"]+","queues":\[.*\],"topics":\[\{"topic":"news","subscriptions":"1","type":"standard"\}\],"event_buses":\[\{"event_bus":"default","rules":"1"\}\],"executions":\[.*\],"workers":\[.*\],"due_work":\[.*\]\}\n\{"time"/,
	'stats --json prints one object per refresh');
command_fails_like([@c, 'stats', '--interval', '0'], qr/invalid value "0" for --interval/, 'a bad interval');

$node->stop;
done_testing();
