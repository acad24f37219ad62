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

#include "core/jsonb_util.h"
#include "core/security.h"
#include "core/spi_plan.h"
#include "sfn/sfn.h"

#define SFN_NAME_MAX		80
#define SFN_DEFINITION_MAX	(1024 * 1024)

static char *
machine_arn(const char *name)
{
	return psprintf("arn:aws:states:%s:%s:stateMachine:%s", outbox_region, outbox_account_id, name);
}

static const char *
name_from_arn(const char *s)
{
	const char *p = strstr(s, ":stateMachine:");

	return strncmp(s, "arn:", 4) == 0 && p ? p + strlen(":stateMachine:") : s;
}

/* AWS's name rules: 1-80 characters, none of whitespace, brackets, wildcards and "#%\^|~`$&,;:/ */
static void
check_name(const char *name)
{
	size_t		len = strlen(name);

	if (len == 0 || len > SFN_NAME_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid state machine name \"%s\": length must be between 1 and %d characters", name, SFN_NAME_MAX)));
	for (const unsigned char *p = (const unsigned char *) name; *p; p++)
		if (*p <= 0x20 || *p == 0x7f || strchr("<>{}[]?*\"#%\\^|~`$&,;:/", *p))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid state machine name \"%s\": character \"%c\" is not allowed", name, *p),
					 errdetail("Names may not contain whitespace, brackets, wildcards, control characters or any of \"#%%\\^|~`$&,;:/.")));
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
		if (SPI_execute_with_args("INSERT INTO outbox.state_machine (name, type, definition, owner, created_at, updated_at)"
								  " VALUES ($1, $2, $3, $4, outbox.clock_now(), outbox.clock_now())",
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
	Oid			types[2] = {TEXTOID, JSONBOID};
	Datum		vals[2];
	Datum		result;

	outbox_arg_not_null(fcinfo, 1, "definition");
	definition = PG_GETARG_JSONB_P(1);
	check_definition(definition);
	outbox_call_begin(&call);
	if (machine_row(name, &desc, true) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("state machine \"%s\" does not exist", name)));
	vals[0] = CStringGetTextDatum(name);
	vals[1] = JsonbPGetDatum(definition);
	if (SPI_execute_with_args("UPDATE outbox.state_machine SET definition = $2, updated_at = outbox.clock_now(),"
							  " revision = revision + 1 WHERE name = $1", 2, types, vals, NULL, false, 0) != SPI_OK_UPDATE)
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
	if (machine_row(name, &desc, true) != NULL &&
		SPI_execute_with_args("DELETE FROM outbox.state_machine WHERE name = $1", 1, &type, &val, NULL, false, 0)
		!= SPI_OK_DELETE)
		elog(ERROR, "could not delete state machine \"%s\"", name);
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
