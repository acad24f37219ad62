SELECT coalesce(array_agg(receipt_handle), '{}') AS hs FROM outbox.receive_message('bench-mixed', 10, 60) \gset
SELECT outbox.delete_message_batch('bench-mixed', ':hs');
