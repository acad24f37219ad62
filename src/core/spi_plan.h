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

#include "executor/spi.h"

extern SPIPlanPtr outbox_prepare_plan(const char *sql, int nargs, Oid *argtypes);
extern SPIPlanPtr outbox_prepare_custom_plan(const char *sql, int nargs, Oid *argtypes);

#endif							/* OUTBOX_SPI_PLAN_H */
