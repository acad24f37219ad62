-- Rights on queues: the creator owns a queue; grant_queue/revoke_queue of
-- send, receive, delete, purge and admin to roles and PUBLIC; a role
-- without the right gets 42501 naming the queue and the right, and nothing
-- changes; list_queues shows only queues the caller has a right on.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_outbox;
RESET client_min_messages;
-- "SQLSTATE: message" and, for a denial, the action and the right it needs
CREATE FUNCTION pg_temp.err(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  detail text;
BEGIN
  EXECUTE sql;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
  RETURN SQLSTATE || ': ' || SQLERRM || coalesce(' [' || substring(detail FROM '^(\S+ needs (the "\w+" privilege|a privilege))') || ']', '');
END $$;
GRANT EXECUTE ON FUNCTION pg_temp.err(text) TO PUBLIC;
-- depth(queue): its live messages as visible/in flight/delayed, counted from
-- the rows (exact at once; the Approximate* counters may lag a moment)
CREATE FUNCTION pg_temp.depth(q text) RETURNS text LANGUAGE sql SECURITY DEFINER AS $$
  SELECT format('%s visible/%s in flight/%s delayed',
                count(*) FILTER (WHERE m.visible_at <= n.now),
                count(*) FILTER (WHERE m.visible_at > n.now AND m.receive_count > 0),
                count(*) FILTER (WHERE m.visible_at > n.now AND m.receive_count = 0))
    FROM outbox.queue qu CROSS JOIN (SELECT outbox.clock_now() AS now) AS n
    JOIN outbox.message m ON m.queue_id = qu.queue_id
                         AND m.enqueued_at > n.now - make_interval(secs => qu.retention_seconds)
   WHERE qu.queue_name = q $$;
GRANT EXECUTE ON FUNCTION pg_temp.depth(text) TO PUBLIC;

SET client_min_messages = warning;
DROP ROLE IF EXISTS regress_qr_owner;
DROP ROLE IF EXISTS regress_qr_worker;
DROP ROLE IF EXISTS regress_qr_other;
DROP ROLE IF EXISTS regress_qr_team;
RESET client_min_messages;
CREATE ROLE regress_qr_owner;
CREATE ROLE regress_qr_worker;
CREATE ROLE regress_qr_other;
CREATE ROLE regress_qr_team;
GRANT regress_qr_team TO regress_qr_other;

-- the creator owns its queue and holds every right on it
SET ROLE regress_qr_owner;
SELECT outbox.create_queue('qr-q') LIKE '%:qr-q' AS created;
SELECT outbox.create_queue('qr-private') LIKE '%:qr-private' AS created;
SELECT message_id IS NOT NULL AS sent FROM outbox.send_message('qr-q', 'owner sent');
SELECT body FROM outbox.receive_message('qr-q', 1, 0);
SELECT outbox.set_queue_attributes('qr-q', '{"VisibilityTimeout": 60}');
SELECT outbox.list_queues('qr-');
RESET ROLE;

-- a role without rights: every action is refused (42501, naming the queue and the right)
SET ROLE regress_qr_worker;
SELECT count(*) AS sees_no_queue FROM outbox.list_queues('qr-');
SELECT outbox.send_message('qr-q', 'intruder');
SELECT pg_temp.err($$SELECT * FROM outbox.receive_message('qr-q')$$) AS receive;
SELECT pg_temp.err($$SELECT outbox.purge_queue('qr-q')$$) AS purge;
SELECT pg_temp.err($$SELECT outbox.set_queue_attributes('qr-q', '{"VisibilityTimeout": 1}')$$) AS set_attributes;
SELECT pg_temp.err($$SELECT outbox.get_queue_attributes('qr-q')$$) AS get_attributes;
SELECT pg_temp.err($$SELECT * FROM outbox.list_dead_letter_source_queues('qr-q')$$) AS list_sources;
SELECT pg_temp.err($$SELECT outbox.delete_queue('qr-q')$$) AS delete_queue;
SELECT pg_temp.err($$SELECT outbox.grant_queue('qr-q', '{send}', 'regress_qr_worker')$$) AS grant_self;
SELECT pg_temp.err($$SELECT * FROM outbox.send_message_batch('qr-q', '[{"Id": "a", "MessageBody": "x"}]')$$) AS send_batch;
SELECT pg_temp.err($$SELECT * FROM outbox.send_message_bodies('qr-q', array['x'])$$) AS send_bodies;
SELECT pg_temp.err($$SELECT outbox.run_queue_maintenance()$$) AS maintenance;
-- the tables are closed too
SELECT pg_temp.err($$SELECT count(*) FROM outbox.message$$) AS message_table;
SELECT pg_temp.err($$DELETE FROM outbox.queue$$) AS queue_table;
-- creating a queue needs no grant
SELECT outbox.create_queue('qr-worker-own') LIKE '%:qr-worker-own' AS created;
SELECT outbox.list_queues('qr-');
RESET ROLE;
SELECT pg_temp.depth('qr-q') AS nothing_changed, outbox.get_queue_attributes('qr-q', '{VisibilityTimeout}') AS attributes;

-- grants, one right at a time
SET ROLE regress_qr_owner;
SELECT outbox.grant_queue('qr-q', '{send}', 'regress_qr_worker');
RESET ROLE;
SET ROLE regress_qr_worker;
SELECT message_id IS NOT NULL AS sent FROM outbox.send_message('qr-q', 'worker sent');
SELECT outbox.list_queues('qr-') AS now_listed;
SELECT outbox.get_queue_attributes('qr-q', '{VisibilityTimeout}') AS any_right_reads_attributes;
SELECT pg_temp.err($$SELECT * FROM outbox.receive_message('qr-q')$$) AS receive;
RESET ROLE;
SET ROLE regress_qr_owner;
SELECT outbox.grant_queue('qr-q', '{receive}', 'regress_qr_worker');
RESET ROLE;
SET ROLE regress_qr_worker;
SELECT body, receipt_handle AS h FROM outbox.receive_message('qr-q', 1, 30) \gset
SELECT :'body' AS received;
-- receive does not include delete
SELECT outbox.delete_message('qr-q', :'h');
SELECT pg_temp.depth('qr-q') AS not_deleted;
-- receive includes change_message_visibility
SELECT outbox.change_message_visibility('qr-q', :'h', 0);
RESET ROLE;
SET ROLE regress_qr_owner;
SELECT outbox.grant_queue('qr-q', '{DELETE}', 'regress_qr_worker');
RESET ROLE;
SET ROLE regress_qr_worker;
SELECT outbox.delete_message('qr-q', receipt_handle) FROM outbox.receive_message('qr-q', 1, 30);
SELECT pg_temp.depth('qr-q') AS one_deleted;
SELECT pg_temp.err($$SELECT outbox.purge_queue('qr-q')$$) AS purge;
RESET ROLE;

-- revoke takes rights away again; revoking what was never granted is fine
SET ROLE regress_qr_owner;
SELECT outbox.revoke_queue('qr-q', '{send,purge}', 'regress_qr_worker');
RESET ROLE;
SET ROLE regress_qr_worker;
SELECT pg_temp.err($$SELECT outbox.send_message('qr-q', 'x')$$) AS send_after_revoke;
SELECT count(*) AS can_still_receive FROM outbox.receive_message('qr-q', 1, 0);
RESET ROLE;
SET ROLE regress_qr_owner;
SELECT outbox.revoke_queue('qr-q', '{all}', 'regress_qr_worker');
RESET ROLE;
SET ROLE regress_qr_worker;
SELECT count(*) AS sees_no_queue_again FROM outbox.list_queues('qr-q');
RESET ROLE;

-- admin: every right, plus attributes, grants and deletion
SET ROLE regress_qr_owner;
SELECT outbox.grant_queue('qr-q', '{admin}', 'regress_qr_worker');
RESET ROLE;
SET ROLE regress_qr_worker;
SELECT message_id IS NOT NULL AS sent FROM outbox.send_message('qr-q', 'admin sent');
SELECT outbox.set_queue_attributes('qr-q', '{"DelaySeconds": 0}');
SELECT outbox.grant_queue('qr-q', '{send}', 'regress_qr_other');
SELECT outbox.purge_queue('qr-q') AS purged;
RESET ROLE;

-- membership: a member of a role with a right has it
SET ROLE regress_qr_owner;
SELECT outbox.grant_queue('qr-private', '{receive}', 'regress_qr_team');
SELECT message_id IS NOT NULL AS sent FROM outbox.send_message('qr-private', 'for the team');
RESET ROLE;
SET ROLE regress_qr_other;
SELECT outbox.list_queues('qr-');
SELECT count(*) AS receive_through_membership FROM outbox.receive_message('qr-private');
SELECT pg_temp.err($$SELECT outbox.send_message('qr-private', 'x')$$) AS send;
RESET ROLE;

-- PUBLIC: everyone
SET ROLE regress_qr_owner;
SELECT outbox.grant_queue('qr-private', '{send}', 'public');
RESET ROLE;
SET ROLE regress_qr_worker;
SELECT message_id IS NOT NULL AS sent_as_public FROM outbox.send_message('qr-private', 'from anyone');
SELECT outbox.list_queues('qr-private');
RESET ROLE;
SET ROLE regress_qr_owner;
SELECT outbox.revoke_queue('qr-private', '{send}', 'PUBLIC');
RESET ROLE;
SET ROLE regress_qr_worker;
SELECT pg_temp.err($$SELECT outbox.send_message('qr-private', 'x')$$) AS send_after_public_revoke;
RESET ROLE;
-- SenderId is the sending role
SELECT attributes ->> 'SenderId' AS sender FROM outbox.receive_message('qr-private', 10, 0);

-- bad grants change nothing
SET ROLE regress_qr_owner;
SELECT pg_temp.err($$SELECT outbox.grant_queue('qr-q', '{send,fly}', 'regress_qr_worker')$$) AS unknown_privilege;
SELECT pg_temp.err($$SELECT outbox.grant_queue('qr-q', '{}', 'regress_qr_worker')$$) AS no_privilege;
SELECT pg_temp.err($$SELECT outbox.grant_queue('qr-q', '{send,NULL}', 'regress_qr_worker')$$) AS null_privilege;
SELECT pg_temp.err($$SELECT outbox.grant_queue('qr-q', '{send}', 'regress_qr_nobody')$$) AS unknown_role;
SELECT pg_temp.err($$SELECT outbox.grant_queue('qr-q', '{send}', NULL)$$) AS null_grantee;
SELECT pg_temp.err($$SELECT outbox.grant_queue('qr-missing', '{send}', 'regress_qr_worker')$$) AS unknown_queue;
RESET ROLE;
SET ROLE regress_qr_other;
SELECT pg_temp.err($$SELECT outbox.send_message('qr-q', 'x')$$) AS other_still_sends;
SELECT pg_temp.err($$SELECT * FROM outbox.receive_message('qr-q')$$) AS other_still_cannot_receive;
RESET ROLE;

-- a superuser holds every right
SELECT count(*) >= 0 AS superuser_receives FROM outbox.receive_message('qr-worker-own');
SELECT outbox.delete_queue(q) FROM unnest(array['qr-q', 'qr-private', 'qr-worker-own']) AS q;
DROP ROLE regress_qr_owner;
DROP ROLE regress_qr_worker;
DROP ROLE regress_qr_other;
DROP ROLE regress_qr_team;
