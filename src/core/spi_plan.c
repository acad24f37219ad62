/*-------------------------------------------------------------------------
 *
 * spi_plan.c
 *	  Prepared SPI plans kept for the life of the backend, for every room.
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

