SELECT array_agg(receipt_handle) AS hs FROM outbox.receive_message('bench-consume', 100, 60) \gset
SELECT outbox.delete_message_batch('bench-consume', ':hs');
