SELECT message_id FROM outbox.send_message('bench-mixed', '{"type": "OrderPlaced", "order_id": 42}');
