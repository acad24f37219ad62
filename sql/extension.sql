-- The extension as a whole: versions and upgrade path, and the hygiene
-- rules every object follows (a comment on each, internals closed to PUBLIC,
-- pinned search_path on SECURITY DEFINER functions, tables private).
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS pg_outbox CASCADE;
RESET client_min_messages;

-- Create the first released version and walk the upgrade chain to the current one.
SELECT version FROM pg_available_extension_versions WHERE name = 'pg_outbox' ORDER BY version;
CREATE EXTENSION pg_outbox VERSION '0.1.0';
ALTER EXTENSION pg_outbox UPDATE;
SELECT extversion = default_version AS at_current_version
  FROM pg_extension JOIN pg_available_extensions ON name = extname WHERE extname = 'pg_outbox';
SELECT extnamespace::regnamespace AS schema FROM pg_extension WHERE extname = 'pg_outbox';

-- Every function, table, type and sequence of the extension has a comment.
SELECT pg_describe_object(classid, objid, 0) AS uncommented
  FROM pg_depend d
 WHERE refclassid = 'pg_extension'::regclass
   AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pg_outbox')
   AND deptype = 'e'
   AND classid IN ('pg_proc'::regclass, 'pg_class'::regclass, 'pg_type'::regclass)
   AND obj_description(objid, classid::regclass::text) IS NULL
   AND NOT (classid = 'pg_type'::regclass AND EXISTS (SELECT 1 FROM pg_type t WHERE t.oid = objid AND t.typrelid <> 0 AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) <> 'c'))
 ORDER BY 1;

-- Internal functions (leading underscore) and test helpers are not executable by PUBLIC.
SELECT p.oid::regprocedure AS public_internal
  FROM pg_proc p
 WHERE p.pronamespace = 'outbox'::regnamespace
   AND (p.proname LIKE '\_%' OR p.proname IN ('advance_clock', 'run_queue_maintenance'))
   AND has_function_privilege('public', p.oid, 'EXECUTE')
 ORDER BY 1;

-- SECURITY DEFINER functions pin search_path.
SELECT p.oid::regprocedure AS definer_without_search_path
  FROM pg_proc p
 WHERE p.pronamespace = 'outbox'::regnamespace AND p.prosecdef
   AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c WHERE c LIKE 'search\_path=%')
 ORDER BY 1;

-- No table or sequence of the extension is readable or writable by PUBLIC.
SELECT c.oid::regclass AS public_table
  FROM pg_class c
 WHERE c.relnamespace = 'outbox'::regnamespace AND c.relkind IN ('r', 'S', 'u')
   AND (has_table_privilege('public', c.oid, 'SELECT') OR has_table_privilege('public', c.oid, 'INSERT')
        OR has_table_privilege('public', c.oid, 'UPDATE') OR has_table_privilege('public', c.oid, 'DELETE'))
 ORDER BY 1;

-- Every data table is registered for pg_dump.
SELECT c.oid::regclass AS not_dumped
  FROM pg_class c
 WHERE c.relnamespace = 'outbox'::regnamespace AND c.relkind IN ('r', 'u', 'S')
   AND c.oid <> ALL ((SELECT extconfig FROM pg_extension WHERE extname = 'pg_outbox')::oid[])
 ORDER BY 1;

-- The GUC prefix is reserved: a misspelt setting is refused.
SET pg_outbox.visiblity_timeout = 5;
