-- Receives inside one transaction resume after the last message an earlier
-- receive of the same queue returned: a batch consumer that receives and
-- deletes many batches in one transaction does not rescan what it already
-- took, and a message made visible again in that transaction comes back in
-- the next one, not in this one.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_outbox;
RESET client_min_messages;

SELECT outbox.create_queue('same-txn');
SELECT count(*) FROM outbox.send_message_bodies('same-txn', ARRAY['a', 'b', 'c', 'd', 'e']);
BEGIN;
SELECT body FROM outbox.receive_message('same-txn', 2, 0);           -- visible again at once
SELECT body FROM outbox.receive_message('same-txn', 2, 30);          -- but not in this transaction
SELECT body FROM outbox.receive_message('same-txn', 10, 30);
COMMIT;
SELECT body FROM outbox.receive_message('same-txn', 10, 30) ORDER BY body;   -- a and b again
-- the first receive of a transaction starts from the queue's mark, as always
SELECT count(*) AS left_visible FROM outbox.receive_message('same-txn', 10, 30);
SELECT outbox.delete_queue('same-txn');
