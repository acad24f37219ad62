/*-------------------------------------------------------------------------
 *
 * sfn_store.c
 *	  Executions in tables: outbox.execution (one row per execution),
 *	  outbox.execution_thread (its running threads), outbox.execution_event
 *	  (the history), the definitions of every revision of a machine, and
 *	  the due items of kind "sfn" that wake a thread.
 *
 * A worker's step, all in one transaction:
 *
 *   lock the execution row (FOR UPDATE: two workers never advance the
 *   same execution, and stop_execution waits for a step in flight)
 *   -> load the thread the due item names; a stale item (the thread moved
 *      on: its wake counter differs) is dropped
 *   -> sfn_run_step (sfn_run.c), which may run the task's SQL function
 *   -> store changed threads, new events, the execution row, and the due
 *      items of scheduled threads (the item being run is reused)
 *
 * Locks are always taken due item first, then execution, then (stopping a
 * .sync child) the child execution: a child that ends tells its parent
 * through a due item of the parent's instead of locking it, and an ended
 * execution drops only the timers no other worker holds.  A step that
 * fails ten times for a reason outside the definition fails its execution.
 *
 * Task tokens are "<execution>.<thread>.<128 random bits>": the numbers
 * find the thread, the random part must match the token it holds.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/sfn/sfn_store.c
 *
 *-------------------------------------------------------------------------
 */
#include "pg_outbox.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/hsearch.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "core/clock.h"
#include "core/jsonb_util.h"
#include "core/security.h"
#include "core/spi_plan.h"
#include "sfn/sfn.h"
#include "sfn/sfn_exec.h"
#include "worker/worker.h"

#define THREAD_COLUMNS 25
#define SFN_STEP_ATTEMPTS 10		/* a step failing with a non-States error this often fails its execution */

static void parse_token(const char *token, int64 *execution, int32 *thread);
static bool complete_in_run(SfnRun *run, int32 thread, const char *token, Jsonb *output, const char *error,
							const char *cause, bool heartbeat, bool quiet);

/* The run a worker is stepping, and whether something else saved its execution meanwhile. */
static SfnRun *stepping_run = NULL;
static bool stepping_interfered = false;

/* ---- SPI as the extension owner ---- */

typedef struct StoreSession
{
	OutboxUserSwitch user;
	MemoryContext cxt;
} StoreSession;

static void
store_begin(StoreSession *s)
{
	s->cxt = CurrentMemoryContext;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	outbox_become_owner(&s->user);
}

static void
store_end(StoreSession *s)
{
	outbox_restore_user(&s->user);
	SPI_finish();
	MemoryContextSwitchTo(s->cxt);
}

static Datum
col(HeapTuple tup, TupleDesc desc, int n, bool *isnull)
{
	return SPI_getbinval(tup, desc, n, isnull);
}

static int32
col_int(HeapTuple tup, TupleDesc desc, int n)
{
	bool		isnull;
	Datum		d = col(tup, desc, n, &isnull);

	return isnull ? 0 : DatumGetInt32(d);
}

static char *
col_text(HeapTuple tup, TupleDesc desc, int n)
{
	bool		isnull;
	Datum		d = col(tup, desc, n, &isnull);

	return isnull ? NULL : TextDatumGetCString(d);
}

static Jsonb *
col_jsonb(HeapTuple tup, TupleDesc desc, int n)
{
	bool		isnull;
	Datum		d = col(tup, desc, n, &isnull);

	return isnull ? NULL : DatumGetJsonbPCopy(d);
}

static TimestampTz
col_time(HeapTuple tup, TupleDesc desc, int n, TimestampTz dflt)
{
	bool		isnull;
	Datum		d = col(tup, desc, n, &isnull);

	return isnull ? dflt : DatumGetTimestampTz(d);
}

/* ---- definitions of machine revisions, cached per backend ---- */

typedef struct DefinitionKey
{
	int64		machine_id;
	int32		revision;
} DefinitionKey;

typedef struct DefinitionEntry
{
	DefinitionKey key;
	Jsonb	   *definition;
	bool		uses_context;	/* "$$" appears somewhere */
} DefinitionEntry;

static HTAB *definitions = NULL;
static MemoryContext definitions_cxt = NULL;

static bool definitions_stale = false;

/*
 * A committed revision never changes, but one this backend read in a
 * transaction that rolled back may be written again with another
 * definition: the cache is dropped after any abort.  It is also trimmed
 * (at 512 entries) only between transactions, never under a running step
 * that holds one of its definitions.
 */
static void
definitions_xact_callback(XactEvent event, void *arg)
{
	sfn_current_variables = NULL;
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
		definitions_stale = true;
	if (definitions && (definitions_stale || hash_get_num_entries(definitions) >= 512) &&
		(event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_COMMIT ||
		 event == XACT_EVENT_PARALLEL_ABORT))
	{
		hash_destroy(definitions);
		MemoryContextReset(definitions_cxt);
		definitions = NULL;
		definitions_stale = false;
	}
}

static void
definitions_subxact_callback(SubXactEvent event, SubTransactionId mySubid, SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
		definitions_stale = true;
}

/* The definition of a machine's revision, cached per backend. */
Jsonb *
sfn_store_definition(int64 machine_id, int32 revision, bool *uses_context)
{
	DefinitionKey key;
	DefinitionEntry *e;
	bool		found;

	memset(&key, 0, sizeof(key));
	key.machine_id = machine_id;
	key.revision = revision;
	if (definitions == NULL)
	{
		HASHCTL		ctl;

		if (definitions_cxt == NULL)
			definitions_cxt = AllocSetContextCreate(TopMemoryContext, "pg_outbox state machine definitions",
													ALLOCSET_DEFAULT_SIZES);
		ctl.keysize = sizeof(DefinitionKey);
		ctl.entrysize = sizeof(DefinitionEntry);
		ctl.hcxt = definitions_cxt;
		definitions = hash_create("pg_outbox definitions", 64, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	e = hash_search(definitions, &key, HASH_FIND, NULL);
	if (e == NULL)
	{
		StoreSession s;
		Oid			types[2] = {INT8OID, INT4OID};
		Datum		vals[2];
		Jsonb	   *def = NULL;
		static SPIPlanPtr plan = NULL;

		vals[0] = Int64GetDatum(machine_id);
		vals[1] = Int32GetDatum(revision);
		store_begin(&s);
		if (plan == NULL)
			plan = outbox_prepare_plan("SELECT definition FROM outbox.state_machine_revision"
									   " WHERE machine_id = $1 AND revision = $2", 2, types);
		if (SPI_execute_plan(plan, vals, NULL, true, 1) == SPI_OK_SELECT && SPI_processed == 1)
		{
			MemoryContext old = MemoryContextSwitchTo(definitions_cxt);

			def = col_jsonb(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
			MemoryContextSwitchTo(old);
		}
		store_end(&s);
		if (def == NULL)
			elog(ERROR, "revision %d of state machine %lld is missing", revision, (long long) machine_id);
		e = hash_search(definitions, &key, HASH_ENTER, &found);
		e->definition = def;
		e->uses_context = strstr(JsonbToCString(NULL, &def->root, VARSIZE(def)), "$$") != NULL;
	}
	*uses_context = e->uses_context;
	return e->definition;
}

/* ---- threads ---- */

static SfnThread *
thread_from_row(HeapTuple tup, TupleDesc desc)
{
	SfnThread  *t = palloc0(sizeof(SfnThread));
	bool		isnull;
	Datum		d;

	t->id = col_int(tup, desc, 2);
	d = col(tup, desc, 3, &isnull);
	t->parent = isnull ? -1 : DatumGetInt32(d);
	t->index = col_int(tup, desc, 4);
	t->scope = col_text(tup, desc, 5);
	t->state = col_text(tup, desc, 6);
	t->phase = (SfnPhase) col_int(tup, desc, 7);
	t->status = (SfnThreadStatus) col_int(tup, desc, 8);
	t->input = col_jsonb(tup, desc, 9);
	t->work = col_jsonb(tup, desc, 10);
	t->retries = col_jsonb(tup, desc, 11);
	t->retry_count = col_int(tup, desc, 12);
	t->token = col_text(tup, desc, 13);
	t->entered_at = col_time(tup, desc, 14, 0);
	t->timeout_at = col_time(tup, desc, 15, DT_NOEND);
	t->heartbeat_at = col_time(tup, desc, 16, DT_NOEND);
	t->wake = col_int(tup, desc, 17);
	t->pending = col_int(tup, desc, 18);
	t->next_item = col_int(tup, desc, 19);
	t->failures = col_int(tup, desc, 20);
	t->last_event = col_int(tup, desc, 21);
	t->output = col_jsonb(tup, desc, 22);
	t->error = col_text(tup, desc, 23);
	t->cause = col_text(tup, desc, 24);
	t->vars = col_jsonb(tup, desc, 25);
	t->loaded_input = t->input;
	t->loaded_work = t->work;
	t->loaded_vars = t->vars;
	t->loaded_output = t->output;
	t->loaded_retries = t->retries;
	return t;
}

static SfnThread *
loaded_thread(SfnRun *run, int32 id)
{
	ListCell   *lc;

	foreach(lc, run->threads)
	{
		SfnThread  *t = lfirst(lc);

		if (t->id == id)
			return t;
	}
	return NULL;
}

SfnThread *
sfn_store_thread(SfnRun *run, int32 id, bool missing_ok)
{
	SfnThread  *t = loaded_thread(run, id);

	if (t == NULL && run->persistent)
	{
		StoreSession s;
		Oid			types[2] = {INT8OID, INT4OID};
		Datum		vals[2];
		static SPIPlanPtr plan = NULL;

		vals[0] = Int64GetDatum(run->execution_id);
		vals[1] = Int32GetDatum(id);
		store_begin(&s);
		if (plan == NULL)
			plan = outbox_prepare_plan("SELECT * FROM outbox.execution_thread"
									   " WHERE execution_id = $1 AND thread_id = $2", 2, types);
		if (SPI_execute_plan(plan, vals, NULL, false, 1) == SPI_OK_SELECT && SPI_processed == 1)
		{
			MemoryContextSwitchTo(s.cxt);
			t = thread_from_row(SPI_tuptable->vals[0], SPI_tuptable->tupdesc);
			run->threads = lappend(run->threads, t);
		}
		store_end(&s);
	}
	if (t == NULL && !missing_ok)
		elog(ERROR, "thread %d of execution %s is missing", id, run->arn);
	return t;
}

static int
thread_order(const ListCell *a, const ListCell *b)
{
	const SfnThread *x = lfirst(a);
	const SfnThread *y = lfirst(b);

	if (x->index != y->index)
		return x->index < y->index ? -1 : 1;
	return x->id < y->id ? -1 : (x->id > y->id ? 1 : 0);
}

List *
sfn_store_children(SfnRun *run, SfnThread *parent)
{
	List	   *result = NIL;
	ListCell   *lc;

	if (run->persistent)
	{
		StoreSession s;
		Oid			types[2] = {INT8OID, INT4OID};
		Datum		vals[2];
		static SPIPlanPtr plan = NULL;

		vals[0] = Int64GetDatum(run->execution_id);
		vals[1] = Int32GetDatum(parent->id);
		store_begin(&s);
		if (plan == NULL)
			plan = outbox_prepare_plan("SELECT * FROM outbox.execution_thread"
									   " WHERE execution_id = $1 AND parent_id = $2 ORDER BY item_index, thread_id",
									   2, types);
		if (SPI_execute_plan(plan, vals, NULL, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not read the threads of execution %s", run->arn);
		MemoryContextSwitchTo(s.cxt);
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			int32		id = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &(bool){false}));

			if (loaded_thread(run, id) == NULL)
				run->threads = lappend(run->threads, thread_from_row(SPI_tuptable->vals[i], SPI_tuptable->tupdesc));
		}
		store_end(&s);
	}
	foreach(lc, run->threads)
	{
		SfnThread  *t = lfirst(lc);

		if (t->parent == parent->id && !t->deleted)
			result = lappend(result, t);
	}
	list_sort(result, thread_order);	/* branch or item order, whatever was loaded first */
	return result;
}

SfnThread *
sfn_store_new_thread(SfnRun *run, SfnThread *parent, int32 index, const char *scope, const char *state,
					 Jsonb *input)
{
	SfnThread  *t = palloc0(sizeof(SfnThread));

	t->id = parent ? run->next_thread++ : 0;
	t->parent = parent ? parent->id : -1;
	t->index = index;
	t->scope = pstrdup(scope);
	t->state = pstrdup(state);
	t->phase = SFN_PHASE_ENTER;
	t->status = SFN_THREAD_RUNNING;
	t->input = input;
	t->entered_at = run->now;
	t->timeout_at = DT_NOEND;
	t->heartbeat_at = DT_NOEND;
	t->is_new = true;
	t->dirty = true;
	run->dirty = true;
	run->threads = lappend(run->threads, t);
	return t;
}

char *
sfn_new_token(SfnRun *run, SfnThread *t)
{
	pg_uuid_t  *u = DatumGetUUIDP(DirectFunctionCall1(gen_random_uuid, (Datum) 0));
	StringInfoData s;

	initStringInfo(&s);
	appendStringInfo(&s, "%lld.%d.", (long long) run->execution_id, t->id);
	for (int i = 0; i < UUID_LEN; i++)
		appendStringInfo(&s, "%02x", u->data[i]);
	return s.data;
}

/* ---- storing a step ---- */

static void
thread_datums(SfnRun *run, SfnThread *t, Datum *v, char *n)
{
	memset(n, ' ', THREAD_COLUMNS);
	v[0] = Int64GetDatum(run->execution_id);
	v[1] = Int32GetDatum(t->id);
	v[2] = Int32GetDatum(t->parent);
	if (t->parent < 0)
		n[2] = 'n';
	v[3] = Int32GetDatum(t->index);
	v[4] = CStringGetTextDatum(t->scope);
	v[5] = CStringGetTextDatum(t->state);
	v[6] = Int32GetDatum((int32) t->phase);
	v[7] = Int32GetDatum((int32) t->status);
#define JSONB_OR_NULL(i, j) do { if (j) v[i] = JsonbPGetDatum(j); else n[i] = 'n'; } while (0)
#define TEXT_OR_NULL(i, s) do { if (s) v[i] = CStringGetTextDatum(s); else n[i] = 'n'; } while (0)
	JSONB_OR_NULL(8, t->input);
	JSONB_OR_NULL(9, t->work);
	JSONB_OR_NULL(10, t->retries);
	v[11] = Int32GetDatum(t->retry_count);
	TEXT_OR_NULL(12, t->token);
	v[13] = TimestampTzGetDatum(t->entered_at);
	v[14] = TimestampTzGetDatum(t->timeout_at);
	v[15] = TimestampTzGetDatum(t->heartbeat_at);
	v[16] = Int32GetDatum(t->wake);
	v[17] = Int32GetDatum(t->pending);
	v[18] = Int32GetDatum(t->next_item);
	v[19] = Int32GetDatum(t->failures);
	v[20] = Int32GetDatum(t->last_event);
	JSONB_OR_NULL(21, t->output);
	TEXT_OR_NULL(22, t->error);
	TEXT_OR_NULL(23, t->cause);
	JSONB_OR_NULL(24, t->vars);
}

static const Oid thread_types[THREAD_COLUMNS] = {
	INT8OID, INT4OID, INT4OID, INT4OID, TEXTOID, TEXTOID, INT4OID, INT4OID, JSONBOID, JSONBOID,
	JSONBOID, INT4OID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID, TIMESTAMPTZOID, INT4OID, INT4OID,
	INT4OID, INT4OID, INT4OID, JSONBOID, TEXTOID, TEXTOID, JSONBOID
};

static void
save_threads(SfnRun *run)
{
	static SPIPlanPtr insert_plan = NULL;
	static SPIPlanPtr update_plan = NULL;
	static SPIPlanPtr delete_plan = NULL;
	static SPIPlanPtr light_plan = NULL;
	ListCell   *lc;

	if (insert_plan == NULL)
	{
		insert_plan = outbox_prepare_plan("INSERT INTO outbox.execution_thread VALUES ($1, $2, $3, $4, $5, $6,"
										  " $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20,"
										  " $21, $22, $23, $24, $25)", THREAD_COLUMNS, (Oid *) thread_types);
		update_plan = outbox_prepare_plan("UPDATE outbox.execution_thread SET parent_id = $3, item_index = $4,"
										  " scope = $5, state = $6, phase = $7, status = $8, input = $9, work = $10,"
										  " retries = $11, retry_count = $12, token = $13, entered_at = $14,"
										  " timeout_at = $15, heartbeat_at = $16, wake = $17, pending = $18,"
										  " next_item = $19, failures = $20, last_event = $21, output = $22,"
										  " error = $23, cause = $24, vars = $25 WHERE execution_id = $1 AND thread_id = $2",
										  THREAD_COLUMNS, (Oid *) thread_types);
		delete_plan = outbox_prepare_plan("DELETE FROM outbox.execution_thread WHERE execution_id = $1"
										  " AND thread_id = $2", 2, (Oid *) thread_types);
		/* bookkeeping only (a Map counting its items): the documents stay as they are */
		light_plan = outbox_prepare_plan("UPDATE outbox.execution_thread SET parent_id = $3, item_index = $4,"
										 " scope = $5, state = $6, phase = $7, status = $8, retry_count = $12,"
										 " token = $13, entered_at = $14, timeout_at = $15, heartbeat_at = $16,"
										 " wake = $17, pending = $18, next_item = $19, failures = $20,"
										 " last_event = $21, error = $23, cause = $24"
										 " WHERE execution_id = $1 AND thread_id = $2",
										 THREAD_COLUMNS, (Oid *) thread_types);
	}
	foreach(lc, run->threads)
	{
		SfnThread  *t = lfirst(lc);
		Datum		v[THREAD_COLUMNS];
		char		n[THREAD_COLUMNS];
		int			rc;

		if (t->deleted)
		{
			if (!t->is_new)
			{
				thread_datums(run, t, v, n);
				if (SPI_execute_plan(delete_plan, v, n, false, 0) != SPI_OK_DELETE)
					elog(ERROR, "could not delete a thread of execution %s", run->arn);
			}
			continue;
		}
		if (!t->dirty && !t->is_new)
			continue;
		thread_datums(run, t, v, n);
		if (t->is_new)
			rc = SPI_execute_plan(insert_plan, v, n, false, 0);
		else if (t->input == t->loaded_input && t->work == t->loaded_work && t->vars == t->loaded_vars &&
				 t->output == t->loaded_output && t->retries == t->loaded_retries)
			rc = SPI_execute_plan(light_plan, v, n, false, 0);
		else
			rc = SPI_execute_plan(update_plan, v, n, false, 0);
		if (rc != (t->is_new ? SPI_OK_INSERT : SPI_OK_UPDATE))
			elog(ERROR, "could not store a thread of execution %s", run->arn);
		t->is_new = false;
		t->dirty = false;
		t->loaded_input = t->input;
		t->loaded_work = t->work;
		t->loaded_vars = t->vars;
		t->loaded_output = t->output;
		t->loaded_retries = t->retries;
	}
}

static void
save_events(SfnRun *run)
{
	static SPIPlanPtr plan = NULL;
	int			n = list_length(run->events);
	Datum	   *ids;
	Datum	   *prev;
	Datum	   *times;
	Datum	   *types;
	Datum	   *details;
	bool	   *dnulls;
	int			dims[1];
	int			lbs[1] = {1};
	Datum		vals[6];
	int			i = 0;
	ListCell   *lc;

	if (n == 0)
		return;
	if (plan == NULL)
	{
		Oid			argtypes[6] = {INT8OID, INT4ARRAYOID, INT4ARRAYOID, TIMESTAMPTZARRAYOID, TEXTARRAYOID,
		JSONBARRAYOID};

		plan = outbox_prepare_plan("INSERT INTO outbox.execution_event (execution_id, event_id, previous_event_id,"
								   " timestamp, type, details) SELECT $1, e.* FROM unnest($2, $3, $4, $5, $6) e",
								   6, argtypes);
	}
	ids = palloc(sizeof(Datum) * n);
	prev = palloc(sizeof(Datum) * n);
	times = palloc(sizeof(Datum) * n);
	types = palloc(sizeof(Datum) * n);
	details = palloc(sizeof(Datum) * n);
	dnulls = palloc(sizeof(bool) * n);
	foreach(lc, run->events)
	{
		SfnEvent   *e = lfirst(lc);

		ids[i] = Int32GetDatum(e->id);
		prev[i] = Int32GetDatum(e->previous);
		times[i] = TimestampTzGetDatum(e->timestamp);
		types[i] = CStringGetTextDatum(e->type);
		dnulls[i] = e->details == NULL;
		details[i] = e->details ? JsonbPGetDatum(e->details) : (Datum) 0;
		i++;
	}
	dims[0] = n;
	vals[0] = Int64GetDatum(run->execution_id);
	vals[1] = PointerGetDatum(construct_array(ids, n, INT4OID, 4, true, TYPALIGN_INT));
	vals[2] = PointerGetDatum(construct_array(prev, n, INT4OID, 4, true, TYPALIGN_INT));
	vals[3] = PointerGetDatum(construct_array(times, n, TIMESTAMPTZOID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	vals[4] = PointerGetDatum(construct_array(types, n, TEXTOID, -1, false, TYPALIGN_INT));
	vals[5] = PointerGetDatum(construct_md_array(details, dnulls, 1, dims, lbs, JSONBOID, -1, false, TYPALIGN_INT));
	if (SPI_execute_plan(plan, vals, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not store the history of execution %s", run->arn);
	run->events = NIL;
}

#define EXEC_COLUMNS 22

static void
save_execution(SfnRun *run)
{
	static SPIPlanPtr insert_plan = NULL;
	static SPIPlanPtr update_plan = NULL;
	Oid			types[EXEC_COLUMNS] = {INT8OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, INT8OID, INT4OID, OIDOID,
		OIDOID, TEXTOID, JSONBOID, JSONBOID, TEXTOID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID,
	TIMESTAMPTZOID, INT4OID, TIMESTAMPTZOID, INT4OID, INT4OID, TEXTOID};
	Datum		v[EXEC_COLUMNS];
	char		n[EXEC_COLUMNS];

	if (insert_plan == NULL)
	{
		insert_plan = outbox_prepare_plan("INSERT INTO outbox.execution (execution_id, arn, name, state_machine, type,"
										  " machine_id, revision, owner, started_by, status, input, output, error, cause,"
										  " start_date, stop_date, timeout_at, redrive_count, redrive_date, last_event,"
										  " next_thread, parent_token) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::regrole,"
										  " $9::regrole, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)",
										  EXEC_COLUMNS, types);
		update_plan = outbox_prepare_plan("UPDATE outbox.execution SET status = $10, output = $12, error = $13,"
										  " cause = $14, stop_date = $16, timeout_at = $17, redrive_count = $18,"
										  " redrive_date = $19, last_event = $20, next_thread = $21"
										  " WHERE execution_id = $1", EXEC_COLUMNS, types);
	}
	memset(n, ' ', sizeof(n));
	v[0] = Int64GetDatum(run->execution_id);
	v[1] = CStringGetTextDatum(run->arn);
	v[2] = CStringGetTextDatum(run->name);
	v[3] = CStringGetTextDatum(run->machine);
	v[4] = CStringGetTextDatum(run->type);
	v[5] = Int64GetDatum(run->machine_id);
	v[6] = Int32GetDatum(run->revision);
	v[7] = ObjectIdGetDatum(run->owner);
	v[8] = ObjectIdGetDatum(GetUserId());
	v[9] = CStringGetTextDatum(run->status);
	v[10] = JsonbPGetDatum(run->input);
	JSONB_OR_NULL(11, run->output);
	TEXT_OR_NULL(12, run->error);
	TEXT_OR_NULL(13, run->cause);
	v[14] = TimestampTzGetDatum(run->start_date);
	v[15] = TimestampTzGetDatum(run->stop_date);
	if (run->stop_date == DT_NOBEGIN)
		n[15] = 'n';
	v[16] = TimestampTzGetDatum(run->timeout_at);
	v[17] = Int32GetDatum(run->redrive_count);
	v[18] = TimestampTzGetDatum(run->redrive_date);
	if (run->redrive_count == 0)
		n[18] = 'n';
	v[19] = Int32GetDatum(run->last_event);
	v[20] = Int32GetDatum(run->next_thread);
	TEXT_OR_NULL(21, run->parent_token);
	if (SPI_execute_plan(run->is_new ? insert_plan : update_plan, v, n, false, 0) !=
		(run->is_new ? SPI_OK_INSERT : SPI_OK_UPDATE))
		elog(ERROR, "could not store execution %s", run->arn);
	run->is_new = false;
	run->dirty = false;
}

static Jsonb *
wake_payload(SfnRun *run, SfnThread *t)
{
	return sfn_json(t ? psprintf("{\"e\": %lld, \"t\": %d, \"w\": %d}", (long long) run->execution_id, t->id, t->wake)
					: psprintf("{\"e\": %lld, \"x\": \"timeout\"}", (long long) run->execution_id));
}

/*
 * An ended execution's timers (timeouts, heartbeats, retries) will never be
 * needed.  Items another worker holds are left: waiting for them would
 * invert the lock order (item, then execution) and they end as stale.
 */
static void
drop_wakeups(SfnRun *run)
{
	StoreSession s;
	Oid			types[2] = {TEXTOID, INT8OID};
	Datum		vals[2];
	static SPIPlanPtr plan = NULL;

	vals[0] = CStringGetTextDatum(psprintf(INT64_FORMAT, run->execution_id));
	vals[1] = Int64GetDatum(run->item ? run->item->item_id : 0);
	store_begin(&s);
	if (plan == NULL)
		plan = outbox_prepare_plan("DELETE FROM outbox.due_item WHERE item_id IN (SELECT item_id FROM outbox.due_item"
								   " WHERE kind = 'sfn' AND payload->>'e' = $1 AND item_id <> $2"
								   " FOR UPDATE SKIP LOCKED)", 2, types);
	if (SPI_execute_plan(plan, vals, NULL, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "could not drop the timers of execution %s", run->arn);
	store_end(&s);
}

/* Threads of an ended execution that were never loaded. */
static void
delete_other_threads(SfnRun *run)
{
	StoreSession s;
	Oid			types[2] = {INT8OID, BOOLOID};
	Datum		vals[2];
	static SPIPlanPtr plan = NULL;

	vals[0] = Int64GetDatum(run->execution_id);
	vals[1] = BoolGetDatum(true);
	store_begin(&s);
	if (plan == NULL)
		plan = outbox_prepare_plan("DELETE FROM outbox.execution_thread WHERE execution_id = $1"
								   " AND (thread_id <> 0 OR $2)", 2, types);
	if (SPI_execute_plan(plan, vals, NULL, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "could not delete the threads of execution %s", run->arn);
	store_end(&s);
}

/*
 * Store what a step changed, in the current transaction.  The due item
 * being run (run->item) is reused for its thread's next wake-up, or
 * finished.
 */
void
sfn_store_save(SfnRun *run)
{
	StoreSession s;
	ListCell   *lc;
	bool		item_used = false;
	List	   *notify = run->notify;

	if (stepping_run && run != stepping_run && run->execution_id == stepping_run->execution_id)
		stepping_interfered = true;
	if (run->keep_history && run->last_event > SFN_HISTORY_MAX && strcmp(run->status, "RUNNING") == 0)
		sfn_run_abort(run, "FAILED", "States.Runtime",
					  psprintf("the execution history reached its limit of %d events", SFN_HISTORY_MAX));
	run->notify = NIL;
	if (strcmp(run->status, "SUCCEEDED") == 0)
	{
		/* done: no thread is needed any more (a failed execution keeps them for a redrive) */
		foreach(lc, run->threads)
			((SfnThread *) lfirst(lc))->deleted = true;
		if (run->persistent && !run->is_new)
			delete_other_threads(run);
	}
	store_begin(&s);
	if (run->dirty || run->is_new)
		save_execution(run);
	save_threads(run);
	if (run->keep_history)
		save_events(run);
	store_end(&s);

	foreach(lc, run->threads)
	{
		SfnThread  *t = lfirst(lc);

		if (!t->scheduled || t->deleted || t->status != SFN_THREAD_RUNNING ||
			strcmp(run->status, "RUNNING") != 0)
			continue;
		if (run->item && t == run->item_thread && !item_used)
		{
			outbox_due_reschedule(run->item, t->due_at, wake_payload(run, t));
			item_used = true;
		}
		else
			(void) outbox_due_schedule("sfn", t->due_at, run->owner, InvalidOid, wake_payload(run, t));
		t->scheduled = false;
	}
	if (run->schedule_timeout && run->timeout_at != DT_NOEND)
		(void) outbox_due_schedule("sfn", run->timeout_at, run->owner, InvalidOid, wake_payload(run, NULL));
	run->schedule_timeout = false;
	if (run->item && !item_used)
		outbox_due_finish(run->item);
	if (run->ended && run->persistent)
		drop_wakeups(run);
	run->ended = false;
	run->item = NULL;

	/*
	 * A parent's .sync task waits for this execution: it hears of the end
	 * through a due item of its own (locking the parent here, while this
	 * execution is locked, would invert the order a parent stopping its
	 * children takes).
	 */
	foreach(lc, notify)
	{
		char	   *token = lfirst(lc);
		Jsonb	   *description = sfn_describe_run(run, true);
		int64		parent;
		int32		thread;
		SfnDetails	d;

		parse_token(token, &parent, &thread);
		sfn_details_begin(&d);
		sfn_details_int(&d, "e", parent);
		sfn_details_text(&d, "token", token);
		if (strcmp(run->status, "SUCCEEDED") == 0)
			sfn_details_json(&d, "output", description);
		else
		{
			sfn_details_text(&d, "error", "States.TaskFailed");
			sfn_details_text(&d, "cause", sfn_json_text(description));
		}
		(void) outbox_due_schedule("sfn", run->now, run->owner, InvalidOid, sfn_details_end(&d));
	}
}

/* ---- loading executions ---- */

#define EXEC_SELECT "SELECT execution_id, arn, name, state_machine, type, machine_id, revision, owner::oid," \
	" input, start_date, timeout_at, redrive_count, redrive_date, status, output, error, cause, stop_date," \
	" parent_token, last_event, next_thread FROM outbox.execution"

static SfnRun *
run_from_row(HeapTuple tup, TupleDesc desc)
{
	SfnRun	   *run = palloc0(sizeof(SfnRun));
	bool		isnull;

	run->persistent = true;
	run->execution_id = DatumGetInt64(col(tup, desc, 1, &isnull));
	run->arn = col_text(tup, desc, 2);
	run->name = col_text(tup, desc, 3);
	run->machine = col_text(tup, desc, 4);
	run->machine_arn = sfn_machine_arn(run->machine);
	run->type = col_text(tup, desc, 5);
	run->keep_history = strcmp(run->type, "STANDARD") == 0;
	run->machine_id = DatumGetInt64(col(tup, desc, 6, &isnull));
	run->revision = col_int(tup, desc, 7);
	run->owner = DatumGetObjectId(col(tup, desc, 8, &isnull));
	run->input = col_jsonb(tup, desc, 9);
	run->start_date = col_time(tup, desc, 10, 0);
	run->timeout_at = col_time(tup, desc, 11, DT_NOEND);
	run->redrive_count = col_int(tup, desc, 12);
	run->redrive_date = col_time(tup, desc, 13, 0);
	run->status = col_text(tup, desc, 14);
	run->output = col_jsonb(tup, desc, 15);
	run->error = col_text(tup, desc, 16);
	run->cause = col_text(tup, desc, 17);
	run->stop_date = col_time(tup, desc, 18, DT_NOBEGIN);
	run->parent_token = col_text(tup, desc, 19);
	run->last_event = col_int(tup, desc, 20);
	run->next_thread = col_int(tup, desc, 21);
	run->now = outbox_now();
	return run;
}

/* An execution by id or ARN, locked FOR UPDATE (or not), with its definition; NULL if missing. */
SfnRun *
sfn_store_load(int64 id, const char *arn, bool lock)
{
	StoreSession s;
	SfnRun	   *run = NULL;
	static SPIPlanPtr by_id = NULL;
	static SPIPlanPtr by_arn = NULL;
	static SPIPlanPtr by_arn_nolock = NULL;
	Datum		val;

	store_begin(&s);
	if (by_id == NULL)
	{
		Oid			t8 = INT8OID;
		Oid			tt = TEXTOID;

		by_id = outbox_prepare_plan(EXEC_SELECT " WHERE execution_id = $1 FOR UPDATE", 1, &t8);
		by_arn = outbox_prepare_plan(EXEC_SELECT " WHERE arn = $1 FOR UPDATE", 1, &tt);
		by_arn_nolock = outbox_prepare_plan(EXEC_SELECT " WHERE arn = $1", 1, &tt);
	}
	val = arn ? CStringGetTextDatum(arn) : Int64GetDatum(id);
	if (SPI_execute_plan(arn ? (lock ? by_arn : by_arn_nolock) : by_id, &val, NULL, false, 1) == SPI_OK_SELECT &&
		SPI_processed == 1)
	{
		MemoryContextSwitchTo(s.cxt);
		run = run_from_row(SPI_tuptable->vals[0], SPI_tuptable->tupdesc);
	}
	store_end(&s);
	if (run)
		run->definition = sfn_store_definition(run->machine_id, run->revision, &run->uses_context);
	return run;
}

/* ---- the due item handler ---- */


static void
run_due(OutboxDueItem *item)
{
	Jsonb	   *p = (Jsonb *) item->payload;
	JsonbValue *e = p ? outbox_jsonb_get(&p->root, "e") : NULL;
	JsonbValue *tv;
	JsonbValue *wv;
	SfnRun	   *run;
	SfnThread  *t;
	SfnRun	   *saved_run;
	bool		saved_interfered;
	volatile bool interfered = false;

	if (e == NULL || e->type != jbvNumeric)
	{
		outbox_due_finish(item);
		return;
	}
	run = sfn_store_load(DatumGetInt64(DirectFunctionCall1(numeric_int8, NumericGetDatum(e->val.numeric))),
						 NULL, true);
	if (run == NULL || strcmp(run->status, "RUNNING") != 0)
	{
		outbox_due_finish(item);
		return;
	}
	run->item = item;
	if (item->attempts >= SFN_STEP_ATTEMPTS)
	{
		/* a step that fails for a reason outside the definition will not start working */
		sfn_run_abort(run, "FAILED", "States.Runtime",
					  psprintf("a step of the execution failed %d times in a row; the last error is in outbox.due_item",
							   item->attempts));
		sfn_store_save(run);
		return;
	}
	if (outbox_jsonb_get(&p->root, "token"))
	{
		/* a child execution ended: the .sync task waiting for it completes */
		char	   *token = outbox_jsonb_get_string(&p->root, "token");
		JsonbValue *output = outbox_jsonb_get(&p->root, "output");
		int64		execution;
		int32		thread;

		parse_token(token, &execution, &thread);
		if (!complete_in_run(run, thread, token, output ? JsonbValueToJsonb(output) : NULL,
							 outbox_jsonb_get_string(&p->root, "error"),
							 outbox_jsonb_get_string(&p->root, "cause"), false, true))
			outbox_due_finish(item);	/* nobody waits any more */
		return;
	}
	if (outbox_jsonb_get(&p->root, "x"))
	{
		/* the execution's TimeoutSeconds (a redrive restarts the clock: older items are early) */
		if (run->now >= run->timeout_at)
			sfn_run_abort(run, "TIMED_OUT", "States.Timeout",
						  "the execution ran longer than the state machine's TimeoutSeconds");
		sfn_store_save(run);
		return;
	}
	tv = outbox_jsonb_get(&p->root, "t");
	wv = outbox_jsonb_get(&p->root, "w");
	t = tv ? sfn_store_thread(run, DatumGetInt32(DirectFunctionCall1(numeric_int4, NumericGetDatum(tv->val.numeric))),
							  true) : NULL;
	if (t == NULL || wv == NULL || t->status != SFN_THREAD_RUNNING ||
		t->wake != DatumGetInt32(DirectFunctionCall1(numeric_int4, NumericGetDatum(wv->val.numeric))))
	{
		outbox_due_finish(item);	/* stale: the thread moved on */
		return;
	}
	run->item_thread = t;
	saved_run = stepping_run;
	saved_interfered = stepping_interfered;
	stepping_run = run;
	stepping_interfered = false;
	PG_TRY();
	{
		sfn_run_step(run, t);
		interfered = stepping_interfered;
	}
	PG_FINALLY();
	{
		stepping_run = saved_run;
		stepping_interfered = saved_interfered;
	}
	PG_END_TRY();
	if (interfered)
	{
		/* the task changed its own execution (stop_execution): that wins, if it stuck */
		SfnRun	   *now = sfn_store_load(run->execution_id, NULL, true);

		if (now == NULL || strcmp(now->status, "RUNNING") != 0)
		{
			outbox_due_finish(item);
			return;
		}
	}
	sfn_store_save(run);
}

void
sfn_store_init(void)
{
	outbox_due_register("sfn", run_due);
	RegisterXactCallback(definitions_xact_callback, NULL);
	RegisterSubXactCallback(definitions_subxact_callback, NULL);
}

/* ---- task tokens ---- */

static void
parse_token(const char *token, int64 *execution, int32 *thread)
{
	long long	e;
	int			t;
	int			used = 0;

	if (strlen(token) < 1 || strlen(token) > 2048 ||
		sscanf(token, "%lld.%d.%n", &e, &t, &used) != 2 || used == 0 || strlen(token + used) != 2 * UUID_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("InvalidToken: \"%s\" is not a task token", token)));
	*execution = e;
	*thread = t;
}

/*
 * A waiting task's outcome as the thread keeps it until its next step
 * applies it: {"output": v}, or {"error": e, "cause": c}.
 */
Jsonb *
sfn_task_outcome(Jsonb *output, const char *error, const char *cause)
{
	SfnDetails	d;

	sfn_details_begin(&d);
	if (output)
		sfn_details_json(&d, "output", output);
	else
	{
		sfn_details_text(&d, "error", error);
		sfn_details_text(&d, "cause", cause);
	}
	return sfn_details_end(&d);
}

/*
 * SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat, and a child
 * execution ending under a parent's .sync task: the waiting thread gets
 * the outcome and is woken (its next step applies it).
 */
bool
sfn_store_complete_token(const char *token, Jsonb *output, const char *error, const char *cause, bool heartbeat,
						 bool quiet)
{
	int64		execution;
	int32		thread;
	SfnRun	   *run;

	parse_token(token, &execution, &thread);
	if (sfn_early_token && strcmp(token, sfn_early_token) == 0)
	{
		/* the task being submitted completes itself (see sfn_run.c) */
		MemoryContext old = MemoryContextSwitchTo(sfn_early_cxt);

		if (!heartbeat && sfn_early_outcome == NULL)
			sfn_early_outcome = sfn_task_outcome(output, error, cause);
		else if (!heartbeat)
		{
			MemoryContextSwitchTo(old);
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("TaskTimedOut: the task with this token is no longer waiting")));
		}
		MemoryContextSwitchTo(old);
		return true;
	}
	run = sfn_store_load(execution, NULL, true);
	if (run == NULL && quiet)
		return false;
	if (run == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("TaskDoesNotExist: no task has the token \"%s\"", token)));
	return complete_in_run(run, thread, token, output, error, cause, heartbeat, quiet);
}

/* The outcome for the thread waiting on token, in its (loaded, locked) run; saved. */
static bool
complete_in_run(SfnRun *run, int32 thread, const char *token, Jsonb *output, const char *error,
				const char *cause, bool heartbeat, bool quiet)
{
	SfnThread  *t = sfn_store_thread(run, thread, true);

	if (t == NULL || t->token == NULL || strcmp(t->token, token) != 0 || t->phase != SFN_PHASE_CALLBACK ||
		t->status != SFN_THREAD_RUNNING || strcmp(run->status, "RUNNING") != 0)
	{
		if (quiet)
			return false;
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("TaskTimedOut: the task with this token is no longer waiting"),
				 errdetail("It completed, timed out, was retried with a new token, or its execution stopped.")));
	}
	if (heartbeat)
	{
		sfn_run_heartbeat(run, t);
		sfn_store_save(run);
		return true;
	}
	t->work = sfn_task_outcome(output, error, cause);
	t->phase = SFN_PHASE_RESULT;
	sfn_thread_schedule(run, t, run->now);
	sfn_store_save(run);
	return true;
}

/* ---- starting executions ---- */

/*
 * StartExecution, in the caller's transaction: the execution row, thread 0,
 * ExecutionStarted and the first due item commit (or roll back) with the
 * caller.  A STANDARD name already running with the same input returns
 * that execution (*created false); any other reuse of a name is refused.
 */
/*
 * Fill a new run from its machine (name or ARN): definition, owner, type,
 * an execution id; the caller must be allowed to start it.
 */
void
sfn_store_prepare(SfnRun *run, const char *machine_ref, Jsonb *input, const char *name, Oid caller)
{
	const char *machine = sfn_machine_name(machine_ref);
	StoreSession s;
	Oid			type = TEXTOID;
	Datum		val = CStringGetTextDatum(machine);
	bool		found = false;
	static SPIPlanPtr machine_plan = NULL;

	if (VARSIZE(input) - VARHDRSZ > SFN_PAYLOAD_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("InvalidExecutionInput: the input is larger than the maximum of %d bytes", SFN_PAYLOAD_MAX)));
	if (name)
		sfn_check_name(name, "execution name");
	else
		name = DatumGetCString(DirectFunctionCall1(uuid_out, DirectFunctionCall1(gen_random_uuid, (Datum) 0)));

	store_begin(&s);
	if (machine_plan == NULL)
		machine_plan = outbox_prepare_plan("SELECT machine_id, revision, type, owner::regrole::oid,"
										   " nextval('outbox.execution_id_seq') FROM outbox.state_machine"
										   " WHERE name = $1", 1, &type);
	if (SPI_execute_plan(machine_plan, &val, NULL, false, 1) == SPI_OK_SELECT && SPI_processed == 1)
	{
		HeapTuple	tup = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;

		MemoryContextSwitchTo(s.cxt);
		run->machine_id = DatumGetInt64(col(tup, desc, 1, &isnull));
		run->revision = col_int(tup, desc, 2);
		run->type = col_text(tup, desc, 3);
		run->owner = DatumGetObjectId(col(tup, desc, 4, &isnull));
		run->execution_id = DatumGetInt64(col(tup, desc, 5, &isnull));
		found = true;
	}
	store_end(&s);
	if (!found)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("StateMachineDoesNotExist: state machine \"%s\" does not exist", machine)));
	if (!superuser_arg(caller) && !has_privs_of_role(caller, run->owner) &&
		!sfn_machine_has_right(machine, caller, "start"))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to start executions of state machine \"%s\"", machine),
				 errhint("Its owner can allow it with outbox.grant_state_machine.")));

	run->name = pstrdup(name);
	run->machine = pstrdup(machine);
	run->machine_arn = sfn_machine_arn(machine);
	run->arn = strcmp(run->type, "STANDARD") == 0 ? sfn_execution_arn("execution", machine, name) :
		psprintf("%s:%s", sfn_execution_arn("express", machine, name),
				 DatumGetCString(DirectFunctionCall1(uuid_out, DirectFunctionCall1(gen_random_uuid, (Datum) 0))));
	run->input = input;
	run->now = outbox_now();
	run->start_date = run->now;
	run->stop_date = DT_NOBEGIN;
	run->status = pstrdup("RUNNING");
	run->next_thread = 1;
	run->definition = sfn_store_definition(run->machine_id, run->revision, &run->uses_context);
	run->timeout_at = sfn_store_timeout_at(run);
}

/* When the execution times out if it starts (or is redriven) now: TimeoutSeconds, and five minutes for EXPRESS. */
TimestampTz
sfn_store_timeout_at(SfnRun *run)
{
	JsonbValue *timeout = outbox_jsonb_get(&run->definition->root, "TimeoutSeconds");
	TimestampTz at = timeout && timeout->type == jbvNumeric ?
		run->now + DatumGetInt64(DirectFunctionCall1(numeric_int8, NumericGetDatum(timeout->val.numeric))) * USECS_PER_SEC :
		DT_NOEND;

	if (strcmp(run->type, "EXPRESS") == 0)
		at = Min(at, run->now + (int64) SFN_EXPRESS_MAX_SECONDS * USECS_PER_SEC);
	return at;
}

/*
 * StartExecution, in the caller's transaction: the execution row, thread 0,
 * ExecutionStarted and the first due item commit (or roll back) with the
 * caller.  A STANDARD name already running with the same input returns
 * that execution (*created false); any other reuse of a name is refused.
 */
char *
sfn_store_start(const char *machine_ref, Jsonb *input, const char *name, Oid caller, const char *parent_token,
				bool *created)
{
	SfnRun	   *run = palloc0(sizeof(SfnRun));
	static SPIPlanPtr existing_plan = NULL;

	*created = false;
	sfn_store_prepare(run, machine_ref, input, name, caller);
	run->persistent = true;
	run->is_new = true;
	run->keep_history = strcmp(run->type, "STANDARD") == 0;
	run->parent_token = parent_token ? pstrdup(parent_token) : NULL;

	if (run->keep_history)
	{
		StoreSession s;
		Oid			type = TEXTOID;
		Datum		val = CStringGetTextDatum(run->arn);
		char	   *status = NULL;
		Jsonb	   *old_input = NULL;

		store_begin(&s);
		if (existing_plan == NULL)
			existing_plan = outbox_prepare_plan("SELECT status, input FROM outbox.execution WHERE arn = $1", 1, &type);
		if (SPI_execute_plan(existing_plan, &val, NULL, false, 1) == SPI_OK_SELECT && SPI_processed == 1)
		{
			MemoryContextSwitchTo(s.cxt);
			status = col_text(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
			old_input = col_jsonb(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
		}
		store_end(&s);
		if (status)
		{
			if (strcmp(status, "RUNNING") == 0 && compareJsonbContainers(&old_input->root, &input->root) == 0)
			{
				/* the same child again (a retried .sync task): it now reports to the new token */
				if (parent_token)
				{
					Oid			types[2] = {TEXTOID, TEXTOID};
					Datum		vals[2];

					vals[0] = CStringGetTextDatum(run->arn);
					vals[1] = CStringGetTextDatum(parent_token);
					store_begin(&s);
					if (SPI_execute_with_args("UPDATE outbox.execution SET parent_token = $2 WHERE arn = $1",
											  2, types, vals, NULL, false, 0) != SPI_OK_UPDATE)
						elog(ERROR, "could not update execution %s", run->arn);
					store_end(&s);
				}
				return run->arn;
			}
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_OBJECT),
					 errmsg("ExecutionAlreadyExists: execution \"%s\" of state machine \"%s\" already exists",
							run->name, run->machine),
					 errdetail("%s", strcmp(status, "RUNNING") == 0 ? "It is running with a different input." :
							   psprintf("It has ended (%s); a closed execution's name cannot be reused.", status))));
		}
	}
	run->schedule_timeout = true;
	sfn_run_start(run);
	sfn_store_save(run);
	*created = true;
	return run->arn;
}

/*
 * A parent's .sync task is aborted (the parent stopped, timed out or lost a
 * sibling branch): its child execution is stopped too, as AWS does.
 */
void
sfn_store_stop_children(const char *token)
{
	StoreSession s;
	Oid			type = TEXTOID;
	Datum		val = CStringGetTextDatum(token);
	List	   *ids = NIL;
	ListCell   *lc;
	static SPIPlanPtr plan = NULL;

	store_begin(&s);
	if (plan == NULL)
		plan = outbox_prepare_plan("SELECT execution_id FROM outbox.execution WHERE parent_token = $1"
								   " AND status = 'RUNNING'", 1, &type);
	if (SPI_execute_plan(plan, &val, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not look for child executions");
	MemoryContextSwitchTo(s.cxt);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		int64	   *id = palloc(sizeof(int64));

		*id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
		ids = lappend(ids, id);
	}
	store_end(&s);
	foreach(lc, ids)
	{
		SfnRun	   *child = sfn_store_load(*(int64 *) lfirst(lc), NULL, true);

		if (child == NULL || strcmp(child->status, "RUNNING") != 0)
			continue;
		child->parent_token = NULL;		/* nobody waits for it any more */
		sfn_run_abort(child, "ABORTED", NULL, "the execution that started it stopped");
		sfn_store_save(child);
	}
}
