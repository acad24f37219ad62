INSERT INTO bench_plain (body) SELECT '{"type": "OrderPlaced", "order_id": 42}' FROM generate_series(1, 100);
