INSERT INTO bench_skq_mixed (body) VALUES ('{"type": "OrderPlaced", "order_id": 42}');
