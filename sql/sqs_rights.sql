-- Rights: owners, grant_queue/revoke_queue per right, PUBLIC, role membership;
-- a denied call names the queue and the right and changes nothing.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_outbox;
DROP ROLE IF EXISTS rights_owner, rights_sender, rights_worker, rights_nobody, rights_member, rights_admin;
RESET client_min_messages;
\i sql/include/queue_helpers.sql

CREATE ROLE rights_owner;
CREATE ROLE rights_sender;
CREATE ROLE rights_worker;
CREATE ROLE rights_nobody;
CREATE ROLE rights_member IN ROLE rights_owner;
CREATE ROLE rights_admin;

-- any role may create queues; the creator owns them
SET ROLE rights_owner;
SELECT outbox.create_queue('rights-q');
SELECT message_id IS NOT NULL AS owner_sends FROM outbox.send_message('rights-q', 'from the owner');
RESET ROLE;

-- a role with no right: every call is refused with 42501, naming the queue and the right
SET ROLE rights_nobody;
SELECT f AS call, pg_temp.err(f) AS result FROM (VALUES
  ($$SELECT outbox.send_message('rights-q', 'x')$$),
  ($$SELECT outbox.send_message_batch('rights-q', '[{"Id": "a", "MessageBody": "x"}]')$$),
  ($$SELECT outbox.send_message_bodies('rights-q', array['x'])$$),
  ($$SELECT outbox.receive_message('rights-q')$$),
  ($$SELECT outbox.delete_message('rights-q', 'x')$$),
  ($$SELECT outbox.change_message_visibility('rights-q', 'x', 0)$$),
  ($$SELECT outbox.purge_queue('rights-q')$$),
  ($$SELECT outbox.get_queue_attributes('rights-q')$$),
  ($$SELECT outbox.set_queue_attributes('rights-q', '{"DelaySeconds": 1}')$$),
  ($$SELECT outbox.grant_queue('rights-q', '{send}', 'rights_nobody')$$),
  ($$SELECT outbox.delete_queue('rights-q')$$)) AS v(f);
-- the full error: detail and hint say who lacks what, and how to grant it
SELECT outbox.send_message('rights-q', 'x');
-- the queue is invisible to it, and the tables are closed
SELECT count(*) AS visible_queues FROM outbox.list_queues('rights-');
SELECT pg_temp.err($$SELECT count(*) FROM outbox.message$$) AS read_table;
SELECT pg_temp.err($$DELETE FROM outbox.queue$$) AS write_table;
SELECT pg_temp.err($$SELECT outbox.run_queue_maintenance()$$) AS maintenance;
SELECT pg_temp.err($$SELECT outbox.advance_clock('1 s')$$) AS clock;
RESET ROLE;
SELECT pg_temp.depth('rights-q') AS nothing_changed;

-- grants per right
SET ROLE rights_owner;
SELECT outbox.grant_queue('rights-q', '{send}', 'rights_sender');
SELECT outbox.grant_queue('rights-q', '{receive,delete}', 'rights_worker');
RESET ROLE;

SET ROLE rights_sender;
SELECT message_id IS NOT NULL AS sender_sends FROM outbox.send_message('rights-q', 'from the sender');
SELECT outbox.list_queues('rights-');
SELECT outbox.get_queue_attributes('rights-q', '{VisibilityTimeout}') AS sender_reads_attributes;
SELECT pg_temp.err($$SELECT outbox.receive_message('rights-q')$$) AS sender_receives;
SELECT pg_temp.err($$SELECT outbox.purge_queue('rights-q')$$) AS sender_purges;
RESET ROLE;

SET ROLE rights_worker;
CREATE TEMP TABLE got AS SELECT * FROM outbox.receive_message('rights-q', 10, 30);
-- SenderId is the role that sent
SELECT body, attributes ->> 'SenderId' AS sender_id FROM got ORDER BY body;
SELECT outbox.delete_message_batch('rights-q', array_agg(receipt_handle)) AS worker_deletes FROM got;
SELECT pg_temp.err($$SELECT outbox.send_message('rights-q', 'x')$$) AS worker_sends;
SELECT pg_temp.err($$SELECT outbox.grant_queue('rights-q', '{send}', 'rights_worker')$$) AS worker_grants_itself;
DROP TABLE got;
RESET ROLE;
SELECT pg_temp.depth('rights-q');

-- PUBLIC
SET ROLE rights_owner;
SELECT outbox.grant_queue('rights-q', '{send}', 'public');
RESET ROLE;
SET ROLE rights_nobody;
SELECT message_id IS NOT NULL AS public_sends FROM outbox.send_message('rights-q', 'from anyone');
RESET ROLE;
SET ROLE rights_owner;
SELECT outbox.revoke_queue('rights-q', '{send}', 'PUBLIC');
SELECT outbox.revoke_queue('rights-q', '{delete}', 'rights_worker');
RESET ROLE;
SET ROLE rights_nobody;
SELECT pg_temp.err($$SELECT outbox.send_message('rights-q', 'x')$$) AS after_revoke;
RESET ROLE;
SET ROLE rights_worker;
SELECT pg_temp.err($$SELECT outbox.delete_message('rights-q', 'x')$$) AS delete_revoked;
SELECT count(*) >= 0 AS still_receives FROM outbox.receive_message('rights-q', 1, 0);
RESET ROLE;

-- members of the owner role hold every right; admin holds every right too
SET ROLE rights_member;
SELECT outbox.set_queue_attributes('rights-q', '{"VisibilityTimeout": 45}');
RESET ROLE;
SET ROLE rights_owner;
SELECT outbox.grant_queue('rights-q', '{admin}', 'rights_admin');
RESET ROLE;
SET ROLE rights_admin;
SELECT outbox.get_queue_attributes('rights-q', '{VisibilityTimeout}') AS admin_reads;
SELECT outbox.purge_queue('rights-q') >= 0 AS admin_purges;
SELECT outbox.grant_queue('rights-q', '{receive}', 'rights_nobody');
RESET ROLE;
SET ROLE rights_nobody;
SELECT count(*) >= 0 AS granted_by_admin FROM outbox.receive_message('rights-q', 1, 0);
RESET ROLE;

-- bad grants
SET ROLE rights_owner;
SELECT pg_temp.err($$SELECT outbox.grant_queue('rights-q', '{fly}', 'rights_sender')$$) AS bad_right;
SELECT pg_temp.err($$SELECT outbox.grant_queue('rights-q', '{}', 'rights_sender')$$) AS no_right;
SELECT pg_temp.err($$SELECT outbox.grant_queue('rights-q', '{send}', 'no_such_role')$$) AS no_role;
SELECT pg_temp.err($$SELECT outbox.grant_queue('rights-q', '{send}', NULL)$$) AS null_role;
SELECT pg_temp.err($$SELECT outbox.grant_queue('no-such-queue', '{send}', 'rights_sender')$$) AS no_queue;
-- the owner deletes its queue
SELECT outbox.delete_queue('rights-q');
RESET ROLE;

DROP ROLE rights_member, rights_owner, rights_sender, rights_worker, rights_nobody, rights_admin;
