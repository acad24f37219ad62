# Function subscriptions of topics, run by the workers: delivered after
# commit as the subscription's owner, retried on the delivery policy across
# a crash-restart with nothing done twice, and dead-lettered after the
# last retry.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('topics');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_outbox'
pg_outbox.launcher_interval = '200ms'
pg_outbox.restart_interval = '1s'
pg_outbox.maintenance_interval = '200ms'
pg_outbox.max_workers = 2
});
$node->start;

$node->safe_psql('postgres', q{
	CREATE EXTENSION pg_outbox;
	CREATE ROLE app_user LOGIN;
	CREATE TABLE done (body text, who text);
	CREATE TABLE switch (on_ boolean);
	INSERT INTO switch VALUES (false);
	GRANT INSERT, SELECT ON done TO app_user;
	GRANT SELECT ON switch TO app_user;
	CREATE FUNCTION record(e jsonb) RETURNS void LANGUAGE sql AS
	  $$ INSERT INTO done VALUES (e -> 'Records' -> 0 -> 'Sns' ->> 'Message', current_user) $$;
	CREATE FUNCTION flaky(e jsonb) RETURNS void LANGUAGE plpgsql AS $$
	BEGIN
	  IF NOT (SELECT on_ FROM switch) THEN
	    RAISE EXCEPTION 'not yet';
	  END IF;
	  INSERT INTO done VALUES (e -> 'Records' -> 0 -> 'Sns' ->> 'Message', current_user);
	END $$;
	CREATE FUNCTION always_fail(e jsonb) RETURNS void LANGUAGE plpgsql AS
	  $$ BEGIN RAISE EXCEPTION 'no way'; END $$;
	ALTER FUNCTION record(jsonb) OWNER TO app_user;
	ALTER FUNCTION flaky(jsonb) OWNER TO app_user;
	ALTER FUNCTION always_fail(jsonb) OWNER TO app_user;
	SELECT outbox.create_topic('news');
	SELECT outbox.grant_topic('news', '{publish,subscribe}', 'app_user');
	SELECT outbox.create_queue('news-dlq');
	SELECT outbox.grant_queue('news-dlq', '{send}', 'app_user');
});

# app_user subscribes its function; the worker calls it as app_user
$node->safe_psql('postgres', q{
	SET ROLE app_user;
	SELECT outbox.subscribe('news', 'function', 'public.record');
	SELECT outbox.publish('news', 'hello');
});
ok($node->poll_query_until('postgres', "SELECT count(*) = 1 FROM done WHERE body = 'hello'"),
	'a function subscription is delivered by a worker after commit');
is($node->safe_psql('postgres', "SELECT who FROM done WHERE body = 'hello'"), 'app_user',
	'the function ran as the subscription owner');

# a rolled-back publish is never delivered
$node->safe_psql('postgres', q{
	BEGIN; SELECT outbox.publish('news', 'rolled back'); ROLLBACK;
	SELECT outbox.publish('news', 'marker');
});
ok($node->poll_query_until('postgres', "SELECT count(*) = 1 FROM done WHERE body = 'marker'"),
	'the publish after the rollback is delivered');
is($node->safe_psql('postgres', "SELECT count(*) FROM done WHERE body = 'rolled back'"), '0',
	'the rolled-back publish was not');

# retries survive a crash-restart, and the success happens once
$node->safe_psql('postgres', q{
	SET ROLE app_user;
	SELECT outbox.unsubscribe(subscription_arn) FROM outbox.list_subscriptions_by_topic('news');
	SELECT outbox.subscribe('news', 'function', 'public.flaky',
	  '{"DeliveryPolicy": {"healthyRetryPolicy": {"numRetries": 60, "minDelayTarget": 1, "maxDelayTarget": 1}},
	    "RedrivePolicy": {"deadLetterTargetArn": "news-dlq"}}');
	SELECT outbox.publish('news', 'retry me');
});
ok($node->poll_query_until('postgres', "SELECT coalesce(max(attempts), 0) >= 2 FROM outbox.due_item WHERE kind = 'sns'"),
	'the failing delivery is being retried');
my $before = $node->safe_psql('postgres', "SELECT max(attempts) FROM outbox.due_item WHERE kind = 'sns'");
$node->stop('immediate');
$node->start;
ok($node->poll_query_until('postgres', "SELECT max(attempts) > $before FROM outbox.due_item WHERE kind = 'sns'"),
	'after a crash-restart the retries go on from where they were');
$node->safe_psql('postgres', "UPDATE switch SET on_ = true");
ok($node->poll_query_until('postgres', "SELECT count(*) = 1 FROM done WHERE body = 'retry me'"),
	'the delivery succeeds once the function does');
ok($node->poll_query_until('postgres', "SELECT count(*) = 0 FROM outbox.due_item"),
	'nothing is left to deliver');
sleep 2;
is($node->safe_psql('postgres', "SELECT count(*) FROM done WHERE body = 'retry me'"), '1',
	'and it was delivered exactly once');
is($node->safe_psql('postgres', "SELECT count(*) FROM outbox.receive_message('news-dlq', 10, 0)"), '0',
	'nothing was dead-lettered');

# the last retry fails: the dead-letter queue gets the event and why
$node->safe_psql('postgres', q{
	SET ROLE app_user;
	SELECT outbox.unsubscribe(subscription_arn) FROM outbox.list_subscriptions_by_topic('news');
	SELECT outbox.subscribe('news', 'function', 'public.always_fail',
	  '{"DeliveryPolicy": {"healthyRetryPolicy": {"numRetries": 2, "minDelayTarget": 1, "maxDelayTarget": 1}},
	    "RedrivePolicy": {"deadLetterTargetArn": "news-dlq"}}');
	SELECT outbox.publish('news', 'poison');
});
ok($node->poll_query_until('postgres', "SELECT count(*) = 0 FROM outbox.due_item"),
	'the failing delivery ends after its retries');
my $dlq = $node->safe_psql('postgres', q{
	SELECT body::jsonb -> 'Records' -> 0 -> 'Sns' ->> 'Message', message_attributes -> 'ERROR_CODE' ->> 'StringValue',
	       message_attributes -> 'ERROR_MESSAGE' ->> 'StringValue'
	  FROM outbox.receive_message('news-dlq', 10, 0)});
is($dlq, 'poison|P0001|no way (after 3 attempts)', 'the dead-letter queue holds the event, the error and the attempts');

$node->stop;
done_testing();
