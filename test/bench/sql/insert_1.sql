INSERT INTO bench_plain (body) VALUES ('{"type": "OrderPlaced", "order_id": 42}');
