SELECT message_id FROM outbox.send_message('bench-send', '{"type": "OrderPlaced", "order_id": 42}');
