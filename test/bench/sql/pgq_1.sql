SELECT pgq.insert_event('bench_pgq', 'order', '{"type": "OrderPlaced", "order_id": 42}');
