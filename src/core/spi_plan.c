/*-------------------------------------------------------------------------
 *
 * spi_plan.c
 *	  Prepared SPI plans kept for the life of the backend, and reading the
 *	  columns of SPI result rows by name, for every room.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/core/spi_plan.c
 *
 *-------------------------------------------------------------------------
 */
#include "pg_outbox.h"

#include "executor/spi.h"
#include "nodes/parsenodes.h"
#include "utils/builtins.h"
#include "utils/uuid.h"
#include "utils/timestamp.h"

#include "core/spi_plan.h"

/*
 * Prepare and keep a plan for the life of the backend.
 *
 * The hot-path plans are generic: each walks a primary key or a small index
 * the same way whatever the parameter values, and a custom plan per call
 * (which the plan cache would otherwise pick, LIMIT $n making the generic
 * one look dear) costs a full parse-analyse-plan cycle every time.
 *
 * Queries whose best plan depends on how many of the table's messages
 * belong to the queue (counting a queue, finding its next due time) are
 * prepared with outbox_prepare_custom_plan instead: a generic plan cannot
 * know the queue and may scan the whole table for a queue of three
 * messages.  They run rarely, so planning each call costs little.
 */
static SPIPlanPtr
prepare_and_keep(const char *sql, int nargs, Oid *argtypes, int cursor_options)
{
	SPIPlanPtr	plan = SPI_prepare_cursor(sql, nargs, argtypes, cursor_options);

	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed for \"%s\": %s", sql, SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "SPI_keepplan failed");
	return plan;
}

SPIPlanPtr
outbox_prepare_plan(const char *sql, int nargs, Oid *argtypes)
{
	return prepare_and_keep(sql, nargs, argtypes, CURSOR_OPT_GENERIC_PLAN);
}

SPIPlanPtr
outbox_prepare_custom_plan(const char *sql, int nargs, Oid *argtypes)
{
	return prepare_and_keep(sql, nargs, argtypes, CURSOR_OPT_CUSTOM_PLAN);
}

/*
 * Columns of an SPI result row, by name.  Values are copied into the
 * current memory context; a null gives 0, false or NULL.
 */
Datum
outbox_spi_column(HeapTuple tup, TupleDesc desc, const char *name, bool *isnull)
{
	int			att = SPI_fnumber(desc, name);

	if (att <= 0)
		elog(ERROR, "column \"%s\" not found", name);
	return SPI_getbinval(tup, desc, att, isnull);
}

int32
outbox_spi_int(HeapTuple tup, TupleDesc desc, const char *name)
{
	bool		isnull;
	Datum		d = outbox_spi_column(tup, desc, name, &isnull);

	return isnull ? 0 : DatumGetInt32(d);
}

bool
outbox_spi_bool(HeapTuple tup, TupleDesc desc, const char *name)
{
	bool		isnull;
	Datum		d = outbox_spi_column(tup, desc, name, &isnull);

	return !isnull && DatumGetBool(d);
}

TimestampTz
outbox_spi_timestamp(HeapTuple tup, TupleDesc desc, const char *name)
{
	bool		isnull;
	Datum		d = outbox_spi_column(tup, desc, name, &isnull);

	return isnull ? 0 : DatumGetTimestampTz(d);
}

char *
outbox_spi_text(HeapTuple tup, TupleDesc desc, const char *name)
{
	bool		isnull;
	Datum		d = outbox_spi_column(tup, desc, name, &isnull);

	return isnull ? NULL : TextDatumGetCString(d);
}

Jsonb *
outbox_spi_jsonb(HeapTuple tup, TupleDesc desc, const char *name)
{
	bool		isnull;
	Datum		d = outbox_spi_column(tup, desc, name, &isnull);

	return isnull ? NULL : DatumGetJsonbPCopy(d);
}

/* A uuid column as text (NULL for null). */
char *
outbox_spi_uuid_text(HeapTuple tup, TupleDesc desc, const char *name)
{
	bool		isnull;
	Datum		d = outbox_spi_column(tup, desc, name, &isnull);

	return isnull ? NULL : DatumGetCString(DirectFunctionCall1(uuid_out, d));
}
