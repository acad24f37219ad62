SELECT count(pgq.insert_event('bench_pgq', 'order', '{"type": "OrderPlaced", "order_id": 42}')) FROM generate_series(1, 100);
