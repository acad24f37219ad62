# The worker pool: invocations and event source mappings run by pooled
# workers after commit, as the role that owns them; a killed worker is
# replaced; an immediate-mode crash loses and doubles nothing.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('pool');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_outbox'
pg_outbox.launcher_interval = '200ms'
pg_outbox.restart_interval = '1s'
pg_outbox.maintenance_interval = '200ms'
pg_outbox.max_workers = 2
pg_outbox.worker_idle_timeout = '30s'
restart_after_crash = on
max_prepared_transactions = 2
});
$node->start;

$node->safe_psql('postgres', q{
	CREATE EXTENSION pg_outbox;
	CREATE ROLE app_user LOGIN;
	CREATE TABLE done (body text, who text);
	GRANT INSERT, SELECT ON done TO app_user;
	CREATE TABLE secret (s text);
	REVOKE ALL ON secret FROM PUBLIC;
	CREATE FUNCTION record(p jsonb) RETURNS void LANGUAGE sql AS
	  $$ INSERT INTO done VALUES (p ->> 'body', current_user) $$;
	ALTER FUNCTION record(jsonb) OWNER TO app_user;
	CREATE FUNCTION snoop(p jsonb) RETURNS void LANGUAGE sql AS
	  $$ INSERT INTO done SELECT s, current_user FROM secret $$;
	ALTER FUNCTION snoop(jsonb) OWNER TO app_user;
	CREATE FUNCTION consume(e jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
	DECLARE r jsonb; failures jsonb := '[]';
	BEGIN
	  FOR r IN SELECT * FROM jsonb_array_elements(e -> 'Records') LOOP
	    IF r ->> 'body' LIKE 'bad%' AND (r -> 'attributes' ->> 'ApproximateReceiveCount')::int < 2 THEN
	      failures := failures || jsonb_build_object('itemIdentifier', r ->> 'messageId');
	    ELSE
	      INSERT INTO done VALUES (r ->> 'body', current_user);
	    END IF;
	  END LOOP;
	  RETURN jsonb_build_object('batchItemFailures', failures);
	END $$;
	ALTER FUNCTION consume(jsonb) OWNER TO app_user;
	SELECT outbox.create_queue('work', '{"VisibilityTimeout": "2"}');
	SELECT outbox.grant_queue('work', '{send,receive,delete}', 'app_user');
});

ok($node->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM outbox.workers WHERE worker_type = 'scheduler' AND database = 'postgres'"),
	'the scheduler of the database is listed in outbox.workers');

# an asynchronous invocation runs after commit, as the role that invoked it
$node->safe_psql('postgres', q{
	SET ROLE app_user;
	SELECT outbox.invoke('record(jsonb)', '{"body": "async"}', 'Event');
});
ok($node->poll_query_until('postgres', "SELECT count(*) = 1 FROM done WHERE body = 'async'"),
	'an Event invocation runs without any call');
is($node->safe_psql('postgres', "SELECT who FROM done WHERE body = 'async'"), 'app_user',
	'it ran as the invoking role, not as a superuser');
is($node->safe_psql('postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_outbox worker'"), '1',
	'one pooled worker serves it');

# a failing invocation is retried on Lambda's schedule, then its failure
# record goes to the destination queue (the test clock moves, no sleeping)
$node->safe_psql('postgres', q{
	CREATE FUNCTION flaky(p jsonb) RETURNS void LANGUAGE plpgsql AS
	  $$ BEGIN RAISE EXCEPTION 'flaky %', p ->> 'n'; END $$;
	ALTER FUNCTION flaky(jsonb) OWNER TO app_user;
	SELECT outbox.create_queue('flaky-failures');
	SELECT outbox.grant_queue('flaky-failures', '{send}', 'app_user');
	SET ROLE app_user;
	SELECT outbox.put_function_config('flaky(jsonb)', on_failure => 'flaky-failures');
	SELECT outbox.invoke('flaky(jsonb)', '{"n": 1}', 'Event');
});
ok($node->poll_query_until('postgres', "SELECT attempts = 1 FROM outbox.due_item WHERE kind = 'invoke'"),
	'the first attempt failed and a retry is scheduled');
$node->safe_psql('postgres', "SELECT outbox.advance_clock('61 s')");
ok($node->poll_query_until('postgres', "SELECT attempts = 2 FROM outbox.due_item WHERE kind = 'invoke'"),
	'the retry a minute later failed too');
$node->safe_psql('postgres', "SELECT outbox.advance_clock('121 s')");
ok($node->poll_query_until('postgres',
		"SELECT count(*) = 0 FROM outbox.due_item WHERE kind = 'invoke'"), 'the last retry ran two minutes later');
is($node->safe_psql('postgres', q{
	SELECT body::jsonb -> 'requestContext' ->> 'condition' || ' after ' ||
	       (body::jsonb -> 'requestContext' ->> 'approximateInvokeCount')
	  FROM outbox.receive_message('flaky-failures')}), 'RetriesExhausted after 3',
	'the failure record reached the destination');

# user code cannot do what its role cannot: no superuser escalation
$node->safe_psql('postgres', q{
	INSERT INTO secret VALUES ('classified');
	SET ROLE app_user;
	SELECT outbox.invoke('snoop(jsonb)', '{}', 'Event');
});
ok($node->poll_query_until('postgres', "SELECT count(*) = 0 FROM outbox.due_item"),
	'the snooping invocation was attempted');
is($node->safe_psql('postgres', "SELECT count(*) FROM done WHERE body = 'classified'"), '0',
	'and could not read what its role may not read');

# an event source mapping drains a queue within moments of the commit,
# with partial batch failures retried after the visibility timeout
$node->safe_psql('postgres', q{
	SET ROLE app_user;
	SELECT outbox.create_event_source_mapping('work', 'consume(jsonb)', batch_size => 10,
	       function_response_types => '{ReportBatchItemFailures}');
	SELECT outbox.send_message_bodies('work', ARRAY['a', 'b', 'bad-1', 'c']);
});
ok($node->poll_query_until('postgres', "SELECT count(*) = 3 FROM done WHERE body IN ('a', 'b', 'c')"),
	'a mapping consumes sent messages');
ok($node->poll_query_until('postgres', "SELECT count(*) = 1 FROM done WHERE body = 'bad-1'"),
	'a reported failure is retried after its visibility timeout');
ok($node->poll_query_until('postgres',
		"SELECT count(*) = 0 FROM outbox.message m JOIN outbox.queue q USING (queue_id) WHERE q.queue_name = 'work'"),
	'the queue ends empty');

# a killed worker is replaced on the next wake-up
my $wpid = $node->safe_psql('postgres',
	"SELECT pid FROM pg_stat_activity WHERE backend_type = 'pg_outbox worker' LIMIT 1");
ok($wpid, 'a pooled worker is running');
kill 'KILL', $wpid;
# SIGKILL of a backend restarts the whole server (crash recovery)
ok($node->poll_query_until('postgres', 'SELECT 1', '1'), 'the server came back');
$node->safe_psql('postgres', q{SELECT outbox.send_message_bodies('work', ARRAY['after-kill'])});
ok($node->poll_query_until('postgres', "SELECT count(*) = 1 FROM done WHERE body = 'after-kill'"),
	'work continues after a worker was killed');

# an immediate-mode crash in the middle of a stream: nothing lost, nothing doubled
$node->safe_psql('postgres', q{
	TRUNCATE done;
	SELECT outbox.send_message_bodies('work', array_agg('m' || g)) FROM generate_series(1, 500) AS g;
	SET ROLE app_user;
	SELECT outbox.invoke('record(jsonb)', jsonb_build_object('body', 'i' || g), 'Event') FROM generate_series(1, 200) AS g;
});
$node->stop('immediate');
$node->start;
ok($node->poll_query_until('postgres',
		"SELECT count(*) = 500 FROM done WHERE body LIKE 'm%'"), 'every message was processed after the crash');
ok($node->poll_query_until('postgres',
		"SELECT count(*) = 200 FROM done WHERE body LIKE 'i%'"), 'every invocation ran after the crash');
is($node->safe_psql('postgres',
		"SELECT count(*) FROM (SELECT body FROM done GROUP BY body HAVING count(*) > 1) d"), '0',
	'none ran twice');

# an old snapshot holding back the xmin horizon is reported in the log
my $log_offset = -s $node->logfile;
$node->safe_psql('postgres', q{ALTER SYSTEM SET pg_outbox.xmin_warning_age = '1s'; SELECT pg_reload_conf();});
$node->safe_psql('postgres', q{BEGIN; SELECT txid_current(); PREPARE TRANSACTION 'held';});
ok($node->wait_for_log(qr/prepared transaction 'held' has held a snapshot for \d+ seconds/, $log_offset),
	'a long-held snapshot is reported');
$node->safe_psql('postgres', q{COMMIT PREPARED 'held'; ALTER SYSTEM RESET pg_outbox.xmin_warning_age; SELECT pg_reload_conf();});

# idle: the pooled workers leave after their idle timeout, the scheduler stays
$node->safe_psql('postgres', q{ALTER SYSTEM SET pg_outbox.worker_idle_timeout = '1s'; SELECT pg_reload_conf();});
ok($node->poll_query_until('postgres',
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'pg_outbox worker'"),
	'idle workers exit');

$node->stop;
ok(1, 'the server stops with its workers');
done_testing();
