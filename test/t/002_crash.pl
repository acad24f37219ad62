# Nothing lost, nothing doubled: an immediate-mode crash during a send /
# receive / delete load.  Every send that committed is there exactly once
# unless its delete committed; the side tables are written in the same
# transactions as the queue operations.  Unlogged queues are empty after
# the crash.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;

my $node = PostgreSQL::Test::Cluster->new('crash');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'pg_outbox'\n");
$node->start;

$node->safe_psql('postgres', q{
	CREATE EXTENSION pg_outbox;
	SELECT outbox.create_queue('crash');
	SELECT outbox.create_queue('crash.fifo', '{"FifoQueue": true, "ContentBasedDeduplication": true}');
	SELECT outbox.create_queue('volatile', unlogged => true);
	SELECT outbox.send_message('volatile', 'gone after a crash');
	CREATE TABLE acked_send (queue text, body text, PRIMARY KEY (queue, body));
	CREATE TABLE acked_delete (queue text, body text, PRIMARY KEY (queue, body));
	CREATE PROCEDURE load(q text, prefix text, n int) LANGUAGE plpgsql AS $$
	DECLARE
		r record;
	BEGIN
		FOR i IN 1..n LOOP
			PERFORM outbox.send_message(q, prefix || i,
				message_group_id => CASE WHEN q LIKE '%.fifo' THEN prefix || (i % 3) END);
			INSERT INTO acked_send VALUES (q, prefix || i);
			COMMIT;
			IF i % 2 = 0 THEN
				FOR r IN SELECT * FROM outbox.receive_message(q, 2, 600) LOOP
					PERFORM outbox.delete_message(q, r.receipt_handle);
					INSERT INTO acked_delete VALUES (q, r.body);
				END LOOP;
				COMMIT;
			END IF;
		END LOOP;
	END $$;
});

# four loaders, then an immediate stop while they run
my @loaders;
foreach my $spec (['crash', 'a'], ['crash', 'b'], ['crash.fifo', 'f'], ['crash.fifo', 'g'])
{
	my ($q, $p) = @$spec;
	my ($out, $err) = ('', '');
	push @loaders, IPC::Run::start(
		[ 'psql', '-XAtq', '-d', $node->connstr('postgres'), '-c', "CALL load('$q', '$p', 100000)" ],
		'>', \$out, '2>', \$err);
}
ok($node->poll_query_until('postgres', "SELECT count(*) >= 400 FROM acked_send"), 'load is running');
$node->stop('immediate');
$_->finish for @loaders;
$node->start;

foreach my $q ('crash', 'crash.fifo')
{
	my $missing = $node->safe_psql('postgres', qq{
		SELECT count(*) FROM (SELECT body FROM acked_send WHERE queue = '$q'
		                      EXCEPT SELECT body FROM acked_delete WHERE queue = '$q') expected
		 WHERE NOT EXISTS (SELECT 1 FROM outbox.message m JOIN outbox.queue USING (queue_id)
		                    WHERE queue_name = '$q' AND m.body = expected.body)});
	is($missing, '0', "$q: every acknowledged send is still there");

	my $resurrected = $node->safe_psql('postgres', qq{
		SELECT count(*) FROM outbox.message m JOIN outbox.queue USING (queue_id)
		 WHERE queue_name = '$q' AND m.body IN (SELECT body FROM acked_delete WHERE queue = '$q')});
	is($resurrected, '0', "$q: no deleted message came back");

	my $phantoms = $node->safe_psql('postgres', qq{
		SELECT count(*) FROM outbox.message m JOIN outbox.queue USING (queue_id)
		 WHERE queue_name = '$q' AND m.body NOT IN (SELECT body FROM acked_send WHERE queue = '$q')});
	is($phantoms, '0', "$q: no message whose send did not commit");

	my $doubles = $node->safe_psql('postgres', qq{
		SELECT count(*) FROM (SELECT m.body FROM outbox.message m JOIN outbox.queue USING (queue_id)
		 WHERE queue_name = '$q' GROUP BY m.body HAVING count(*) > 1) d});
	is($doubles, '0', "$q: every message is there once");
}

# after the restart the queues work: everything left can be received and deleted
my $left = $node->safe_psql('postgres', q{
	SELECT count(*) FROM (SELECT body FROM acked_send WHERE queue = 'crash'
	                      EXCEPT SELECT body FROM acked_delete WHERE queue = 'crash') x});
my $drained = $node->safe_psql('postgres', q{
	SELECT coalesce(sum(outbox.delete_message_batch('crash', h)), 0) FROM (
	  SELECT array_agg(receipt_handle) AS h FROM generate_series(1, 50) g,
	         LATERAL outbox.receive_message('crash', 1000 + 0 * g, 600)) x});
cmp_ok($drained, '<=', $left, 'no more messages than acknowledged');
# messages received before the crash are in flight for 600 s: move time on
$node->safe_psql('postgres', "SELECT outbox.advance_clock('601 s')");
my $rest = $node->safe_psql('postgres', q{
	SELECT count(*) FROM generate_series(1, 50) g, LATERAL outbox.receive_message('crash', 1000 + 0 * g, 0)});
is($drained + $rest, $left, 'every surviving message is receivable after the restart');

is($node->safe_psql('postgres', "SELECT count(*) FROM outbox.receive_message('volatile', 10)"),
	'0', 'an unlogged queue is empty after a crash');
is($node->safe_psql('postgres', "SELECT outbox.get_queue_attributes('volatile') ->> 'QueueArn' IS NOT NULL"),
	't', 'the unlogged queue itself survives');

$node->stop;
done_testing();
