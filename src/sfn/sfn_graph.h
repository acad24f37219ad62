/*-------------------------------------------------------------------------
 *
 * sfn_graph.h
 *	  A state machine definition drawn as a graph (Graphviz DOT or a
 *	  Mermaid flowchart), optionally colored by each state's status.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/sfn/sfn_graph.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef OUTBOX_SFN_GRAPH_H
#define OUTBOX_SFN_GRAPH_H

#include "utils/jsonb.h"

/*
 * The graph of a valid definition in format "dot" or "mermaid" (else an
 * error).  state_status, when not NULL, is an object mapping state names to
 * SUCCEEDED, FAILED, TIMED_OUT, CAUGHT, RUNNING, ABORTED or NOT_RUN; those
 * states are colored and a legend is drawn.  The result is palloc'd.
 */
extern char *sfn_graph_render(Jsonb *definition, const char *format, Jsonb *state_status);

#endif							/* OUTBOX_SFN_GRAPH_H */
