-- The shortest round trip: create, send, receive, delete.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_outbox;
RESET client_min_messages;

SELECT outbox.create_queue('smoke');
SELECT md5_of_message_body FROM outbox.send_message('smoke', 'hello');
SELECT body, receive_count FROM outbox.receive_message('smoke', visibility_timeout => 0) \gset r_
SELECT :'r_body' AS body, :r_receive_count AS receive_count;
SELECT outbox.delete_message('smoke', receipt_handle)
  FROM outbox.receive_message('smoke');
SELECT count(*) FROM outbox.receive_message('smoke');
SELECT outbox.delete_queue('smoke');
