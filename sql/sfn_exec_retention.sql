-- Closed executions are forgotten after pg_outbox.execution_retention_days
-- (90, as AWS), with their history and threads; running ones never are.
-- Definitions stay while an execution runs them, then go.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_outbox;
RESET client_min_messages;
\set VERBOSITY terse
\i sql/include/sfn_helpers.sql

SELECT outbox.create_state_machine('ret-keep', '{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}') IS NOT NULL AS created;
SELECT outbox.create_state_machine('ret-wait', '{"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 99999999, "End": true}}}') IS NOT NULL AS created;
SELECT outbox.start_execution('ret-keep', '{}', 'done') IS NOT NULL AS started,
       outbox.start_execution('ret-wait', '{}', 'waiting') IS NOT NULL AS started;
SELECT pg_temp.drive();
-- a new revision while "waiting" runs the first one
SELECT outbox.update_state_machine('ret-wait', '{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}') IS NOT NULL AS updated;
SELECT state_machine, name, status FROM outbox.execution
 WHERE state_machine IN ('ret-keep', 'ret-wait') ORDER BY name;

SELECT outbox.run_sfn_maintenance() AS forgotten_now;
SELECT pg_temp.tick(91 * 86400);
SELECT outbox.run_sfn_maintenance() >= 1 AS forgotten_after_91_days;
SELECT state_machine, name, status FROM outbox.execution
 WHERE state_machine IN ('ret-keep', 'ret-wait') ORDER BY name;
SELECT pg_temp.err($$SELECT outbox.describe_execution(pg_temp.arn('ret-keep', 'done'))$$);
SELECT count(*) AS events_left FROM outbox.execution_event e JOIN outbox.execution x USING (execution_id)
 WHERE x.state_machine = 'ret-keep';
-- the name can be used again
SELECT outbox.start_execution('ret-keep', '{"again": true}', 'done') IS NOT NULL AS reused;

-- revisions: ret-wait's first one stays while "waiting" runs it
SELECT m.name, r.revision FROM outbox.state_machine_revision r JOIN outbox.state_machine m USING (machine_id)
 WHERE m.name = 'ret-wait' ORDER BY 2;
SELECT outbox.stop_execution(pg_temp.arn('ret-wait', 'waiting')) IS NOT NULL AS stopped;
SELECT pg_temp.tick(91 * 86400);
SELECT outbox.run_sfn_maintenance() >= 1 AS forgotten;
SELECT m.name, r.revision FROM outbox.state_machine_revision r JOIN outbox.state_machine m USING (machine_id)
 WHERE m.name = 'ret-wait' ORDER BY 2;

SELECT outbox.delete_state_machine('ret-keep'), outbox.delete_state_machine('ret-wait');
SELECT outbox.run_sfn_maintenance() >= 0 AS cleaned;
SELECT count(*) AS revisions_of_deleted_machines FROM outbox.state_machine_revision r
 WHERE NOT EXISTS (SELECT 1 FROM outbox.state_machine m WHERE m.machine_id = r.machine_id)
   AND NOT EXISTS (SELECT 1 FROM outbox.execution x WHERE x.machine_id = r.machine_id);
DELETE FROM outbox.execution WHERE state_machine IN ('ret-keep', 'ret-wait');
