/*-------------------------------------------------------------------------
 *
 * spi_plan.h
 *	  Prepared SPI plans kept for the life of the backend.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/core/spi_plan.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef OUTBOX_SPI_PLAN_H
#define OUTBOX_SPI_PLAN_H

#include "datatype/timestamp.h"
#include "executor/spi.h"
#include "utils/jsonb.h"

extern SPIPlanPtr outbox_prepare_plan(const char *sql, int nargs, Oid *argtypes);
extern SPIPlanPtr outbox_prepare_custom_plan(const char *sql, int nargs, Oid *argtypes);

extern Datum outbox_spi_column(HeapTuple tup, TupleDesc desc, const char *name, bool *isnull);
extern int32 outbox_spi_int(HeapTuple tup, TupleDesc desc, const char *name);
extern bool outbox_spi_bool(HeapTuple tup, TupleDesc desc, const char *name);
extern TimestampTz outbox_spi_timestamp(HeapTuple tup, TupleDesc desc, const char *name);
extern char *outbox_spi_text(HeapTuple tup, TupleDesc desc, const char *name);
extern Jsonb *outbox_spi_jsonb(HeapTuple tup, TupleDesc desc, const char *name);
extern char *outbox_spi_uuid_text(HeapTuple tup, TupleDesc desc, const char *name);

#endif							/* OUTBOX_SPI_PLAN_H */
