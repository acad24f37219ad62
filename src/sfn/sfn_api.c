/*-------------------------------------------------------------------------
 *
 * sfn_api.c
 *	  State machine definitions: create, update, delete, describe, list.
 *
 * A definition is validated (sfn_validate.c) before it is stored; an
 * invalid one is refused with SQLSTATE 22023, its first problem in the
 * message and every problem in the detail, and nothing is stored.  A
 * machine belongs to the role that created it; that role (or a member,
 * or a superuser) may change, delete and describe it.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/sfn/sfn_api.c
 *
 *-------------------------------------------------------------------------
 */
#include "pg_outbox.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"

#include "core/acl.h"
#include "core/jsonb_util.h"
#include "core/security.h"
#include "core/spi_plan.h"
#include "sfn/sfn.h"
#include "sfn/sfn_exec.h"

#define SFN_NAME_MAX		80
#define SFN_DEFINITION_MAX	(1024 * 1024)

#define SFN_PRIV_START	1
#define SFN_PRIV_READ	2
#define SFN_PRIV_ALL	3

static const OutboxPrivilege sfn_privileges[] =
{
	{"start", SFN_PRIV_START},
	{"read", SFN_PRIV_READ},
	{"all", SFN_PRIV_ALL},
	{NULL, 0}
};

static const OutboxAclKind sfn_acl = {
	"state machine", sfn_privileges, SFN_PRIV_ALL, SFN_PRIV_ALL,
	"outbox.state_machine_grant", "machine_id"
};

char *
sfn_machine_arn(const char *name)
{
	return psprintf("arn:aws:states:%s:%s:stateMachine:%s", outbox_region, outbox_account_id, name);
}

const char *
sfn_machine_name(const char *s)
{
	const char *p = strstr(s, ":stateMachine:");

	return strncmp(s, "arn:", 4) == 0 && p ? p + strlen(":stateMachine:") : s;
}

#define name_from_arn sfn_machine_name
#define machine_arn sfn_machine_arn

/* AWS's name rules: 1-80 characters, none of whitespace, brackets, wildcards and "#%\^|~`$&,;:/ */
void
sfn_check_name(const char *name, const char *what)
{
	size_t		len = strlen(name);

	if (len == 0 || len > SFN_NAME_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid %s \"%s\": length must be between 1 and %d characters", what, name, SFN_NAME_MAX)));
	for (const unsigned char *p = (const unsigned char *) name; *p; p++)
		if (*p <= 0x20 || *p == 0x7f || strchr("<>{}[]?*\"#%\\^|~`$&,;:/", *p))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid %s \"%s\": character \"%c\" is not allowed", what, name, *p),
					 errdetail("Names may not contain whitespace, brackets, wildcards, control characters or any of \"#%%\\^|~`$&,;:/.")));
}

static void
check_name(const char *name)
{
	sfn_check_name(name, "state machine name");
}

/* A role's rights on a machine: owner (and members) all, else its grants. */
static int
machine_rights(const char *machine, Oid role)
{
	Oid			type = TEXTOID;
	Datum		val = CStringGetTextDatum(machine);
	OutboxGrant *grants = NULL;
	int			n = 0;
	char	   *owner = NULL;
	OutboxUserSwitch sw;
	MemoryContext cxt = CurrentMemoryContext;

	SPI_connect();
	outbox_become_owner(&sw);
	if (SPI_execute_with_args("SELECT m.owner, g.grantee, g.privileges FROM outbox.state_machine m"
							  " LEFT JOIN outbox.state_machine_grant g USING (machine_id) WHERE m.name = $1",
							  1, &type, &val, NULL, true, 0) == SPI_OK_SELECT && SPI_processed > 0)
	{
		MemoryContextSwitchTo(cxt);
		grants = palloc0(sizeof(OutboxGrant) * SPI_processed);
		owner = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			char	   *grantee = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);

			if (grantee == NULL)
				continue;
			strlcpy(grants[n].grantee, grantee, NAMEDATALEN);
			grants[n].privileges = atoi(SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 3));
			n++;
		}
	}
	outbox_restore_user(&sw);
	SPI_finish();
	MemoryContextSwitchTo(cxt);
	return owner ? outbox_acl_rights(&sfn_acl, owner, grants, n, role) : -1;
}

bool
sfn_machine_has_right(const char *machine, Oid role, const char *privilege)
{
	int			bit = strcmp(privilege, "start") == 0 ? SFN_PRIV_START : SFN_PRIV_READ;
	int			rights = machine_rights(machine, role);

	return rights > 0 && (rights & bit) == bit;
}

/* The caller may read executions of the machine (its owner, a member, a grantee of "read"). */
void
sfn_check_read_right(const char *machine)
{
	int			rights = machine_rights(machine, outbox_current_caller);

	if (rights < 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("StateMachineDoesNotExist: state machine \"%s\" does not exist", machine)));
	if ((rights & SFN_PRIV_READ) == 0)
		outbox_acl_deny(&sfn_acl, machine, SFN_PRIV_READ, "Reading its executions", outbox_current_caller);
}

/* EXPRESS machines cannot wait: no .sync and no .waitForTaskToken anywhere. */
static void
check_express(Jsonb *definition, const char *type)
{
	char	   *text;

	if (strcmp(type, "EXPRESS") != 0)
		return;
	text = JsonbToCString(NULL, &definition->root, VARSIZE(definition));
	if (strstr(text, ".waitForTaskToken\"") || strstr(text, ".sync\"") || strstr(text, ".sync:2\""))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid state machine definition: EXPRESS state machines cannot use .sync or .waitForTaskToken tasks"),
				 errhint("Use a STANDARD state machine for tasks that wait.")));
}

/* Validate, or raise 22023 with every problem. */
static void
check_definition(Jsonb *definition)
{
	List	   *diags;
	SfnDiagnostic *first;
	StringInfoData detail;
	ListCell   *lc;

	if (VARSIZE(definition) > SFN_DEFINITION_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("state machine definition is larger than 1 MiB")));
	diags = sfn_validate_definition(definition);
	if (diags == NIL)
		return;
	first = linitial(diags);
	initStringInfo(&detail);
	foreach(lc, diags)
	{
		SfnDiagnostic *d = lfirst(lc);

		appendStringInfo(&detail, "%s%s at %s: %s", detail.len ? "\n" : "", d->code, d->location, d->message);
	}
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid state machine definition at %s: %s", first->location, first->message),
			 errdetail("%s", detail.data),
			 errhint("outbox.validate_state_machine_definition lists the problems as rows.")));
}

/* The machine's row, or NULL; with check, the caller must own it. */
static HeapTuple
machine_row(const char *name, TupleDesc *desc, bool check)
{
	Oid			type = TEXTOID;
	Datum		val = CStringGetTextDatum(name);
	HeapTuple	tup;
	bool		isnull;
	Oid			owner;

	if (SPI_execute_with_args("SELECT * FROM outbox.state_machine WHERE name = $1", 1, &type, &val, NULL, false, 1)
		!= SPI_OK_SELECT)
		elog(ERROR, "could not read state machine \"%s\"", name);
	if (SPI_processed == 0)
		return NULL;
	tup = SPI_copytuple(SPI_tuptable->vals[0]);
	*desc = CreateTupleDescCopy(SPI_tuptable->tupdesc);
	owner = get_role_oid(NameStr(*DatumGetName(outbox_spi_column(tup, *desc, "owner", &isnull))), true);
	if (check && !superuser_arg(outbox_current_caller) &&
		!(OidIsValid(owner) && has_privs_of_role(outbox_current_caller, owner)))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for state machine \"%s\"", name),
				 errdetail("Only its owner may change, delete or describe it.")));
	return tup;
}

PG_FUNCTION_INFO_V1(outbox_create_state_machine);
Datum
outbox_create_state_machine(PG_FUNCTION_ARGS)
{
	char	   *name = (char *) name_from_arn(outbox_arg_text(fcinfo, 0, "name"));
	Jsonb	   *definition;
	char	   *type = PG_ARGISNULL(2) ? pstrdup("STANDARD") : text_to_cstring(PG_GETARG_TEXT_PP(2));
	OutboxCall	call;
	TupleDesc	desc;
	HeapTuple	tup;
	Datum		result;

	outbox_arg_not_null(fcinfo, 1, "definition");
	definition = PG_GETARG_JSONB_P(1);
	check_name(name);
	if (strcmp(type, "STANDARD") != 0 && strcmp(type, "EXPRESS") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid \"type\": \"%s\" is not STANDARD or EXPRESS", type)));
	check_definition(definition);
	check_express(definition, type);

	outbox_call_begin(&call);
	tup = machine_row(name, &desc, false);
	if (tup)
	{
		bool		isnull;
		Jsonb	   *old = DatumGetJsonbP(outbox_spi_column(tup, desc, "definition", &isnull));

		if (compareJsonbContainers(&old->root, &definition->root) != 0 ||
			strcmp(outbox_spi_text(tup, desc, "type"), type) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_OBJECT),
					 errmsg("state machine \"%s\" already exists with a different definition or type", name),
					 errhint("Use outbox.update_state_machine to change its definition.")));
	}
	else
	{
		Oid			types[4] = {TEXTOID, TEXTOID, JSONBOID, NAMEOID};
		Datum		vals[4];

		vals[0] = CStringGetTextDatum(name);
		vals[1] = CStringGetTextDatum(type);
		vals[2] = JsonbPGetDatum(definition);
		vals[3] = DirectFunctionCall1(namein, CStringGetDatum(GetUserNameFromId(outbox_current_caller, false)));
		if (SPI_execute_with_args("WITH m AS (INSERT INTO outbox.state_machine (name, type, definition, owner,"
								  " created_at, updated_at) VALUES ($1, $2, $3, $4, outbox.clock_now(), outbox.clock_now())"
								  " RETURNING machine_id, revision, definition)"
								  " INSERT INTO outbox.state_machine_revision SELECT * FROM m",
								  4, types, vals, NULL, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "could not create state machine \"%s\"", name);
	}
	result = outbox_call_text_result(machine_arn(name));
	outbox_call_end(&call);
	PG_RETURN_DATUM(result);
}

PG_FUNCTION_INFO_V1(outbox_update_state_machine);
Datum
outbox_update_state_machine(PG_FUNCTION_ARGS)
{
	char	   *name = (char *) name_from_arn(outbox_arg_text(fcinfo, 0, "name"));
	Jsonb	   *definition;
	OutboxCall	call;
	TupleDesc	desc;
	HeapTuple	tup;
	Oid			types[2] = {TEXTOID, JSONBOID};
	Datum		vals[2];
	Datum		result;

	outbox_arg_not_null(fcinfo, 1, "definition");
	definition = PG_GETARG_JSONB_P(1);
	check_definition(definition);
	outbox_call_begin(&call);
	tup = machine_row(name, &desc, true);
	if (tup == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("state machine \"%s\" does not exist", name)));
	check_express(definition, outbox_spi_text(tup, desc, "type"));
	vals[0] = CStringGetTextDatum(name);
	vals[1] = JsonbPGetDatum(definition);
	if (SPI_execute_with_args("WITH m AS (UPDATE outbox.state_machine SET definition = $2,"
							  " updated_at = outbox.clock_now(), revision = revision + 1 WHERE name = $1"
							  " RETURNING machine_id, revision, definition)"
							  " INSERT INTO outbox.state_machine_revision SELECT * FROM m",
							  2, types, vals, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not update state machine \"%s\"", name);
	result = outbox_call_text_result(machine_arn(name));
	outbox_call_end(&call);
	PG_RETURN_DATUM(result);
}

PG_FUNCTION_INFO_V1(outbox_delete_state_machine);
Datum
outbox_delete_state_machine(PG_FUNCTION_ARGS)
{
	char	   *name = (char *) name_from_arn(outbox_arg_text(fcinfo, 0, "name"));
	OutboxCall	call;
	TupleDesc	desc;
	Oid			type = TEXTOID;
	Datum		val = CStringGetTextDatum(name);

	outbox_call_begin(&call);
	if (machine_row(name, &desc, true) != NULL)
	{
		List	   *running = NIL;
		ListCell   *lc;

		/* running executions end now (AWS: at their next transition) */
		if (SPI_execute_with_args("SELECT execution_id FROM outbox.execution WHERE state_machine = $1"
								  " AND status = 'RUNNING' ORDER BY execution_id", 1, &type, &val, NULL, false, 0)
			!= SPI_OK_SELECT)
			elog(ERROR, "could not read the executions of state machine \"%s\"", name);
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			bool		isnull;
			int64	   *id = MemoryContextAlloc(TopTransactionContext, sizeof(int64));

			*id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
			running = lappend(running, id);
		}
		foreach(lc, running)
		{
			SfnRun	   *run = sfn_store_load(*(int64 *) lfirst(lc), NULL, true);

			if (run && strcmp(run->status, "RUNNING") == 0)
			{
				sfn_run_abort(run, "ABORTED", "States.Runtime", "the state machine was deleted");
				sfn_store_save(run);
			}
		}
		if (SPI_execute_with_args("DELETE FROM outbox.state_machine WHERE name = $1", 1, &type, &val, NULL, false, 0)
			!= SPI_OK_DELETE)
			elog(ERROR, "could not delete state machine \"%s\"", name);
	}
	outbox_call_end(&call);
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(outbox_describe_state_machine);
Datum
outbox_describe_state_machine(PG_FUNCTION_ARGS)
{
	char	   *name = (char *) name_from_arn(outbox_arg_text(fcinfo, 0, "name"));
	OutboxCall	call;
	TupleDesc	desc;
	HeapTuple	tup;
	JsonbParseState *st = NULL;
	JsonbValue	v;
	Jsonb	   *def;
	Datum		result;
	bool		isnull;

	outbox_call_begin(&call);
	tup = machine_row(name, &desc, true);
	if (tup == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("state machine \"%s\" does not exist", name)));
	def = DatumGetJsonbP(outbox_spi_column(tup, desc, "definition", &isnull));
	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	outbox_jsonb_push_string(&st, "stateMachineArn", machine_arn(name));
	outbox_jsonb_push_string(&st, "name", name);
	outbox_jsonb_push_string(&st, "status", "ACTIVE");
	outbox_jsonb_push_string(&st, "type", outbox_spi_text(tup, desc, "type"));
	v.type = jbvBinary;
	v.val.binary.data = &def->root;
	v.val.binary.len = VARSIZE(def) - VARHDRSZ;
	outbox_jsonb_push_value(&st, "definition", &v);
	outbox_jsonb_push_string(&st, "owner", NameStr(*DatumGetName(outbox_spi_column(tup, desc, "owner", &isnull))));
	outbox_jsonb_push_string(&st, "creationDate", SPI_getvalue(tup, desc, SPI_fnumber(desc, "created_at")));
	outbox_jsonb_push_string(&st, "revisionId", SPI_getvalue(tup, desc, SPI_fnumber(desc, "revision")));
	result = outbox_call_jsonb_result(JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL)));
	outbox_call_end(&call);
	PG_RETURN_DATUM(result);
}

PG_FUNCTION_INFO_V1(outbox_list_state_machines);
Datum
outbox_list_state_machines(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	OutboxCall	call;

	InitMaterializedSRF(fcinfo, 0);
	outbox_call_begin(&call);
	if (SPI_execute("SELECT name, type, owner, created_at FROM outbox.state_machine ORDER BY name", false, 0)
		!= SPI_OK_SELECT)
		elog(ERROR, "could not list state machines");
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		Datum		owner = outbox_spi_column(tup, desc, "owner", &isnull);
		Oid			owner_oid = get_role_oid(NameStr(*DatumGetName(owner)), true);
		Datum		vals[5];
		bool		nulls[5] = {false, false, false, false, false};
		char	   *name = outbox_spi_text(tup, desc, "name");

		if (!superuser_arg(outbox_current_caller) &&
			!(OidIsValid(owner_oid) && has_privs_of_role(outbox_current_caller, owner_oid)))
			continue;
		vals[0] = CStringGetTextDatum(name);
		vals[1] = CStringGetTextDatum(machine_arn(name));
		vals[2] = CStringGetTextDatum(outbox_spi_text(tup, desc, "type"));
		vals[3] = owner;
		vals[4] = outbox_spi_column(tup, desc, "created_at", &isnull);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, vals, nulls);
	}
	outbox_call_end(&call);
	return (Datum) 0;
}

/* grant_state_machine / revoke_state_machine: only the owner may. */
static Datum
grant_or_revoke(FunctionCallInfo fcinfo, bool is_grant)
{
	char	   *name = (char *) name_from_arn(outbox_arg_text(fcinfo, 0, "name"));
	char	   *grantee = outbox_arg_text(fcinfo, 2, "grantee");
	int			privileges;
	OutboxCall	call;
	TupleDesc	desc;
	HeapTuple	tup;

	outbox_arg_not_null(fcinfo, 1, "privileges");
	privileges = outbox_acl_parse(&sfn_acl, PG_GETARG_ARRAYTYPE_P(1));
	outbox_call_begin(&call);
	tup = machine_row(name, &desc, true);
	if (tup == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("state machine \"%s\" does not exist", name)));
	outbox_acl_store(&sfn_acl, outbox_spi_int(tup, desc, "machine_id"), privileges, grantee, is_grant);
	outbox_call_end(&call);
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(outbox_grant_state_machine);
Datum
outbox_grant_state_machine(PG_FUNCTION_ARGS)
{
	return grant_or_revoke(fcinfo, true);
}

PG_FUNCTION_INFO_V1(outbox_revoke_state_machine);
Datum
outbox_revoke_state_machine(PG_FUNCTION_ARGS)
{
	return grant_or_revoke(fcinfo, false);
}
