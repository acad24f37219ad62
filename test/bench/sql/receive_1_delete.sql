SELECT receipt_handle AS h FROM outbox.receive_message('bench-consume', 1, 60) \gset
SELECT outbox.delete_message('bench-consume', ':h');
