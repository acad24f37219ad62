# State machine executions run by the workers, across an immediate-mode
# crash: every execution finishes exactly as it would have without the
# crash, each task function's writes happen exactly once (a step and its
# task commit together), histories stay dense, and a callback task waiting
# for its token through the restart completes afterwards.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('sfn_crash');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_outbox'
pg_outbox.launcher_interval = '200ms'
pg_outbox.restart_interval = '1s'
pg_outbox.max_workers = 2
});
$node->start;

my $n = 500;
$node->safe_psql('postgres', q{
	CREATE EXTENSION pg_outbox;
	CREATE TABLE effects (execution text, tag text);
	-- a task with a side effect: one row per (execution, tag) if each step runs once
	CREATE FUNCTION note(p jsonb) RETURNS jsonb LANGUAGE sql AS $$
		INSERT INTO effects VALUES (outbox.task_context()->'Execution'->>'Name', p->>'tag');
		SELECT p || jsonb_build_object('n', coalesce((p->>'n')::int, 0) + 1) $$;
	SELECT outbox.create_state_machine('crashy', $json$
	{"StartAt": "Init", "States": {
	  "Init": {"Type": "Pass", "Parameters": {"n": 0, "items.$": "$.items"}, "Next": "Loop"},
	  "Loop": {"Type": "Task", "Resource": "function:public.note",
	           "Parameters": {"n.$": "$.n", "items.$": "$.items", "tag.$": "States.Format('loop{}', $.n)"},
	           "Next": "More"},
	  "More": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericLessThan": 5, "Next": "Loop"}], "Default": "Fan"},
	  "Fan": {"Type": "Parallel", "ResultPath": "$.fan", "Next": "Each", "Branches": [
	    {"StartAt": "L", "States": {"L": {"Type": "Task", "Resource": "function:public.note", "Parameters": {"tag": "left"}, "End": true}}},
	    {"StartAt": "R", "States": {"R": {"Type": "Task", "Resource": "function:public.note", "Parameters": {"tag": "right"}, "End": true}}}]},
	  "Each": {"Type": "Map", "ItemsPath": "$.items", "ResultPath": "$.each", "MaxConcurrency": 2,
	           "ItemSelector": {"tag.$": "States.Format('item{}', $$.Map.Item.Value)"},
	           "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Task", "Resource": "function:public.note", "End": true}}},
	           "Next": "Done"},
	  "Done": {"Type": "Succeed"}}}
	$json$);
	CREATE TABLE tokens (token text);
	SELECT outbox.create_queue('asks');
	SELECT outbox.create_state_machine('ask', $json$
	{"StartAt": "Ask", "States": {"Ask": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
	  "Parameters": {"QueueUrl": "asks", "MessageBody.$": "$$.Task.Token"}, "End": true}}}
	$json$);
});

$node->safe_psql('postgres', qq{
	SELECT count(outbox.start_execution('crashy', '{"items": [1, 2, 3]}', 'e' || i)) FROM generate_series(1, $n) i;
	SELECT outbox.start_execution('ask', '{}', 'ask1');
});

# executions advance side by side (the oldest due step first): crash when
# about a third of all task writes are done
ok($node->poll_query_until('postgres', "SELECT count(*) >= $n * 3 FROM effects"),
	'the workers are running executions');
my $before = $node->safe_psql('postgres', "SELECT count(*) FROM effects");
$node->stop('immediate');
$node->start;
note "$before task writes had committed at the crash";
ok($before < $n * 10, 'the crash came in the middle');

ok($node->poll_query_until('postgres',
	"SELECT count(*) = 0 FROM outbox.execution WHERE state_machine = 'crashy' AND status = 'RUNNING'", 't'),
	'every execution ends after the restart');
is($node->safe_psql('postgres', "SELECT status, count(*) FROM outbox.execution WHERE state_machine = 'crashy' GROUP BY 1"),
	"SUCCEEDED|$n", 'all of them succeeded');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM (SELECT execution, tag, count(*) FROM effects GROUP BY 1, 2 HAVING count(*) <> 1) d}),
	'0', 'no task ran its writes twice');
is($node->safe_psql('postgres', "SELECT count(*) FROM effects"), $n * 10,
	'and none was lost (5 loops, 2 branches, 3 items per execution)');
is($node->safe_psql('postgres', q{
	SELECT count(DISTINCT d->'output') FROM outbox.execution e, LATERAL outbox.describe_execution(e.arn) d
	 WHERE state_machine = 'crashy'}), '1', 'every execution has the same output');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM (SELECT execution_id, count(*) c, max(event_id) m FROM outbox.execution_event
	  JOIN outbox.execution USING (execution_id) WHERE state_machine = 'crashy' GROUP BY 1) h WHERE c <> m}),
	'0', 'histories are dense: ids 1..n without gaps');
is($node->safe_psql('postgres', q{
	SELECT count(DISTINCT last_event) FROM outbox.execution WHERE state_machine = 'crashy'}),
	'1', 'and every history has the same length');
is($node->safe_psql('postgres', "SELECT count(*) FROM outbox.execution_thread t JOIN outbox.execution e USING (execution_id) WHERE e.state_machine = 'crashy'"),
	'0', 'no threads are left behind');

# the callback task waited through the crash
ok($node->poll_query_until('postgres', "SELECT count(*) = 1 FROM outbox.message JOIN outbox.queue USING (queue_id) WHERE queue_name = 'asks'"),
	'the callback task sent its token');
$node->safe_psql('postgres', "INSERT INTO tokens SELECT body FROM outbox.receive_message('asks')");
$node->safe_psql('postgres', "SELECT outbox.send_task_success((SELECT token FROM tokens), '{\"approved\": true}')");
ok($node->poll_query_until('postgres',
	"SELECT outbox.describe_execution('arn:aws:states:local:000000000000:execution:ask:ask1')->>'status' = 'SUCCEEDED'"),
	'and its execution finishes when the token comes back');
is($node->safe_psql('postgres', "SELECT outbox.describe_execution('arn:aws:states:local:000000000000:execution:ask:ask1')->'output'"),
	'{"approved": true}', 'with the output sent');

$node->stop;
done_testing();
