SELECT count(*) FROM outbox.send_message_bodies('bench-send', array_fill('{"type": "OrderPlaced", "order_id": 42}'::text, ARRAY[100]));
