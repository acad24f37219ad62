/*-------------------------------------------------------------------------
 *
 * sfn_graph.c
 *	  A state machine definition drawn as a graph, as Workflow Studio shows
 *	  it: Graphviz DOT or a Mermaid flowchart, optionally colored by each
 *	  state's status in an execution.  outbox.render_state_machine_graph.
 *
 * Two passes.  The first walks each scope (the top level, each Parallel
 * branch, each Map item processor) from StartAt, breadth-first along the
 * transitions, so the picture reads in the order the flow runs and a
 * definition always gives byte-identical text.  It numbers states (s0,
 * s1, ...) and scopes and records each transition as an edge: Next; End and
 * Succeed to the scope's End; each Choice rule (labelled with a short text
 * of the rule) and Default; each Catch (dashed, labelled with ErrorEquals).
 *
 * The second prints the nodes nested in their clusters, then every edge at
 * the top level (Mermaid wants a subgraph declared before an edge names
 * it).  Ids are generated, so names appear only in quoted labels, escaped
 * for the format: DOT \" and \\, Mermaid entity codes such as #quot;.
 *
 * A Parallel or Map state is a cluster holding a cluster per branch (or its
 * processor), each with a Start and an End.  Mermaid draws edges to and from
 * a subgraph; DOT (compound=true) runs them to the first branch's Start
 * (lhead) or from its End (ltail), clipped at the state's border, with
 * invisible edges to keep the other branches between the same neighbours.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/sfn/sfn_graph.c
 *
 *-------------------------------------------------------------------------
 */
#include "pg_outbox.h"

#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "nodes/pg_list.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "core/jsonb_util.h"
#include "core/security.h"
#include "sfn/sfn.h"
#include "sfn/sfn_graph.h"

#define GRAPH_LABEL_MAX 40		/* characters of an edge label or a Resource */

/* How a status is drawn; legend NULL for an alias drawn like another */
typedef struct StatusStyle
{
	const char *status;			/* as given in state_status, any case */
	const char *name;			/* Mermaid class, legend node id */
	const char *fill;
	const char *line;
	const char *legend;
} StatusStyle;

static const StatusStyle status_styles[] = {
	{"SUCCEEDED", "succeeded", "#d9f2d9", "#2e7d32", "Succeeded"},
	{"FAILED", "failed", "#f9d6d5", "#c62828", "Failed"},
	{"CAUGHT", "caught", "#ffe3c2", "#e65100", "Caught error"},
	{"RUNNING", "running", "#d6e6ff", "#1565c0", "In progress"},
	{"ABORTED", "aborted", "#e6e6e6", "#616161", "Aborted"},
	{"NOT_RUN", "notrun", "#ffffff", "#9e9e9e", "Not run"},
	{"TIMED_OUT", "failed", "#f9d6d5", "#c62828", NULL},
};

typedef enum NodeShape
{
	SHAPE_BOX, SHAPE_START, SHAPE_END, SHAPE_CHOICE, SHAPE_FAIL
} NodeShape;

static const char *const dot_shape[] = {"", ", shape=circle", ", shape=doublecircle", ", shape=diamond",
", shape=octagon"};
static const char *const mermaid_open[] = {"(", "((", "(((", "{", "{{"};
static const char *const mermaid_close[] = {")", "))", ")))", "}", "}}"};

typedef struct GraphScope
{
	int			no;				/* start<no>, finish<no>; 0 is the top level */
	const char *title;			/* NULL at the top level */
	List	   *states;			/* of GraphState *, in drawing order */
} GraphScope;

typedef struct GraphState
{
	char	   *name;
	int			no;				/* s<no> */
	const char *type;
	const char *detail;			/* the label's second line */
	const StatusStyle *status;	/* NULL: drawn plain */
	List	   *inner;			/* of GraphScope *: branches, or the Map's processor */
} GraphState;

typedef struct GraphEdge
{
	GraphScope *scope;
	GraphState *from;			/* NULL: the scope's Start */
	char	   *to;				/* a state of the scope; NULL: the scope's End */
	const char *label;			/* NULL for none */
	bool		dashed;			/* a Catch */
} GraphEdge;

typedef struct Graph
{
	bool		dot;			/* else Mermaid */
	JsonbContainer *status;		/* state name -> status, or NULL */
	int			nstates;
	int			nscopes;
	List	   *edges;			/* of GraphEdge *, in the order found */
	StringInfoData out;
	StringInfoData tail;		/* Mermaid: class statements, printed last */
} Graph;

static GraphScope *build_scope(Graph *g, JsonbContainer *def, const char *title);

/* ---- reading the definition ---- */

/* The objects of an array field, or an object field as a list of one */
static List *
objects_of(JsonbContainer *c, const char *key)
{
	JsonbValue *v = outbox_jsonb_get(c, key);
	List	   *result = NIL;

	if (v == NULL || v->type != jbvBinary)
		return NIL;
	if (JsonContainerIsObject(v->val.binary.data))
		return list_make1(v->val.binary.data);
	for (uint32 i = 0; i < JsonContainerSize(v->val.binary.data); i++)
	{
		JsonbValue *e = getIthJsonbValueFromContainer(v->val.binary.data, i);

		if (e->type == jbvBinary && JsonContainerIsObject(e->val.binary.data))
			result = lappend(result, e->val.binary.data);
	}
	return result;
}

static GraphState *
find_state(List *states, const char *name)
{
	ListCell   *lc;

	foreach(lc, states)
		if (strcmp(((GraphState *) lfirst(lc))->name, name) == 0)
			return lfirst(lc);
	return NULL;
}

/* s, cut to GRAPH_LABEL_MAX characters with "..." */
static const char *
clip(const char *s)
{
	int			len = strlen(s);

	if (pg_mbstrlen_with_len(s, len) <= GRAPH_LABEL_MAX)
		return s;
	return psprintf("%.*s...", pg_mbcharcliplen(s, len, GRAPH_LABEL_MAX - 3), s);
}

/* A Choice rule as text: "$.x NumericGreaterThan 10", "And(..., ...)", "Not(...)" */
static void
rule_text(StringInfo buf, JsonbContainer *rule)
{
	JsonbIterator *it = JsonbIteratorInit(rule);
	char	   *variable = outbox_jsonb_get_string(rule, "Variable");
	JsonbValue	v;
	char	   *key;
	ListCell   *lc;

	while (buf->len <= 4 * GRAPH_LABEL_MAX && outbox_jsonb_next_pair(&it, &key, &v))
	{
		if (strcmp(key, "And") == 0 || strcmp(key, "Or") == 0 || strcmp(key, "Not") == 0)
		{
			List	   *rules = objects_of(rule, key);

			appendStringInfo(buf, "%s(", key);
			foreach(lc, rules)
			{
				appendStringInfoString(buf, foreach_current_index(lc) > 0 ? ", " : "");
				rule_text(buf, lfirst(lc));
			}
			appendStringInfoChar(buf, ')');
		}
		else if (strcmp(key, "Variable") != 0 && strcmp(key, "Next") != 0 && strcmp(key, "Comment") != 0)
		{
			char	   *value = outbox_jsonb_scalar_cstring(&v);
			size_t		len = strlen(key);
			bool		path = len > 4 && strcmp(key + len - 4, "Path") == 0;

			appendStringInfo(buf, "%s %s ", variable ? variable : "?", key);
			appendStringInfo(buf, v.type == jbvString && !path ? "\"%s\"" : "%s",
							 value ? value : v.type == jbvNull ? "null" : "...");
		}
	}
}

/* The short form of a Task's Resource: the function name, or the service action */
static char *
resource_short(char *resource)
{
	char	   *p;

	if ((p = strstr(resource, "function:")) != NULL && p[9] != '\0')
		return p + 9;
	if ((p = strstr(resource, ":::")) != NULL && p[3] != '\0')
		return p + 3;
	return resource;
}

static const StatusStyle *
status_of(Graph *g, const char *name)
{
	JsonbValue *v;

	if (g->status == NULL || (v = outbox_jsonb_get(g->status, name)) == NULL || v->type != jbvString)
		return NULL;
	for (int i = 0; i < lengthof(status_styles); i++)
		if (strlen(status_styles[i].status) == v->val.string.len &&
			pg_strncasecmp(status_styles[i].status, v->val.string.val, v->val.string.len) == 0)
			return &status_styles[i];
	return NULL;				/* a status we do not know: drawn plain */
}

/* A transition; its target joins the breadth-first queue. */
static void
add_edge(Graph *g, GraphScope *scope, GraphState *from, char *to, const char *label, bool dashed,
		 List **queue)
{
	GraphEdge  *e = palloc(sizeof(GraphEdge));

	e->scope = scope;
	e->from = from;
	e->to = to;
	e->label = label ? clip(label) : NULL;
	e->dashed = dashed;
	g->edges = lappend(g->edges, e);
	if (to && queue)
		*queue = lappend(*queue, to);
}

static void
build_state(Graph *g, GraphScope *scope, const char *name, JsonbContainer *def, List **queue)
{
	GraphState *s = palloc0(sizeof(GraphState));
	char	   *next = outbox_jsonb_get_string(def, "Next");
	char	   *resource = outbox_jsonb_get_string(def, "Resource");
	JsonbValue *end = outbox_jsonb_get(def, "End");
	List	   *procs;
	ListCell   *lc;

	s->name = pstrdup(name);
	s->no = g->nstates++;
	s->type = outbox_jsonb_get_string(def, "Type");
	if (s->type == NULL)
		s->type = "?";
	s->detail = strcmp(s->type, "Task") == 0 && resource ?
		psprintf("Task: %s", clip(resource_short(resource))) : s->type;
	s->status = status_of(g, name);
	scope->states = lappend(scope->states, s);

	if (next)
		add_edge(g, scope, s, next, NULL, false, queue);
	else if ((end && end->type == jbvBool && end->val.boolean) || strcmp(s->type, "Succeed") == 0)
		add_edge(g, scope, s, NULL, NULL, false, queue);
	foreach(lc, objects_of(def, "Choices"))
	{
		StringInfoData text;

		if ((next = outbox_jsonb_get_string(lfirst(lc), "Next")) == NULL)
			continue;
		initStringInfo(&text);
		rule_text(&text, lfirst(lc));
		add_edge(g, scope, s, next, text.data, false, queue);
	}
	if ((next = outbox_jsonb_get_string(def, "Default")) != NULL)
		add_edge(g, scope, s, next, "Default", false, queue);
	foreach(lc, objects_of(def, "Catch"))
	{
		JsonbValue *ev = outbox_jsonb_get(lfirst(lc), "ErrorEquals");
		JsonbContainer *errors = ev && ev->type == jbvBinary ? ev->val.binary.data : NULL;
		StringInfoData text;

		if ((next = outbox_jsonb_get_string(lfirst(lc), "Next")) == NULL)
			continue;
		initStringInfo(&text);
		for (uint32 i = 0; errors && i < JsonContainerSize(errors); i++)
		{
			char	   *error = outbox_jsonb_scalar_cstring(getIthJsonbValueFromContainer(errors, i));

			appendStringInfo(&text, "%s%s", i > 0 ? ", " : "", error ? error : "?");
		}
		add_edge(g, scope, s, next, text.data, true, queue);
	}

	/* a Parallel's branches or a Map's processor, numbered as met */
	foreach(lc, objects_of(def, "Branches"))
		s->inner = lappend(s->inner,
						   build_scope(g, lfirst(lc), psprintf("Branch %d", foreach_current_index(lc) + 1)));
	if ((procs = objects_of(def, "ItemProcessor")) != NIL || (procs = objects_of(def, "Iterator")) != NIL)
		s->inner = list_make1(build_scope(g, linitial(procs), "Item processor"));
}

/* The states of a scope, StartAt first then breadth-first. */
static GraphScope *
build_scope(Graph *g, JsonbContainer *def, const char *title)
{
	GraphScope *scope = palloc0(sizeof(GraphScope));
	List	   *states = objects_of(def, "States");
	char	   *start = outbox_jsonb_get_string(def, "StartAt");
	List	   *queue = NIL;

	scope->no = g->nscopes++;
	scope->title = title;
	if (start && states)
		add_edge(g, scope, NULL, start, NULL, false, &queue);
	while (queue != NIL)
	{
		char	   *name = linitial(queue);
		JsonbValue *sv = outbox_jsonb_get(linitial(states), name);

		queue = list_delete_first(queue);
		if (sv && sv->type == jbvBinary && JsonContainerIsObject(sv->val.binary.data) &&
			find_state(scope->states, name) == NULL)
			build_state(g, scope, name, sv->val.binary.data, &queue);
	}
	return scope;
}

/* ---- printing ---- */

/* s for a quoted label of the format; control characters become spaces */
static void
append_escaped(Graph *g, const char *s)
{
	for (const unsigned char *p = (const unsigned char *) s; *p; p++)
	{
		if (*p < 0x20)
			appendStringInfoChar(&g->out, ' ');
		else if (g->dot)
			appendStringInfo(&g->out, *p == '"' || *p == '\\' ? "\\%c" : "%c", *p);
		else if (*p == '"')
			appendStringInfoString(&g->out, "#quot;");
		else if (*p == '#' || *p == '<' || *p == '>' || *p == '&' || *p == '`')
			appendStringInfo(&g->out, "#%d;", *p);	/* entity or markdown characters */
		else
			appendStringInfoChar(&g->out, *p);
	}
}

static void
append_label(Graph *g, const char *line1, const char *line2)
{
	appendStringInfoChar(&g->out, '"');
	append_escaped(g, line1);
	if (line2)
	{
		appendStringInfoString(&g->out, g->dot ? "\\n" : "<br/>");
		append_escaped(g, line2);
	}
	appendStringInfoChar(&g->out, '"');
}

static void
print_node(Graph *g, int depth, const char *id, const char *line1, const char *line2,
		   NodeShape shape, const StatusStyle *st)
{
	appendStringInfo(&g->out, "%*s%s%s", 2 * depth, "", id, g->dot ? " [label=" : mermaid_open[shape]);
	append_label(g, line1, line2);
	if (!g->dot)
	{
		appendStringInfo(&g->out, "%s\n", mermaid_close[shape]);
		if (st)
			appendStringInfo(&g->tail, "  class %s %s\n", id, st->name);
		return;
	}
	appendStringInfoString(&g->out, dot_shape[shape]);
	if (st)
		appendStringInfo(&g->out, ", style=\"rounded,filled\", fillcolor=\"%s\", color=\"%s\"", st->fill, st->line);
	appendStringInfoString(&g->out, "];\n");
}

/* A Parallel/Map state (line2 its type), a branch or the legend (line2 NULL) */
static void
open_cluster(Graph *g, int depth, const char *id, const char *line1, const char *line2,
			 const StatusStyle *st)
{
	if (!g->dot)
	{
		appendStringInfo(&g->out, "%*ssubgraph %s [", 2 * depth, "", id);
		append_label(g, line1, line2);
		appendStringInfoString(&g->out, "]\n");
		if (st)
			appendStringInfo(&g->tail, "  class %s %s\n", id, st->name);
		return;
	}
	appendStringInfo(&g->out, "%*ssubgraph cluster_%s {\n%*slabel=", 2 * depth, "", id, 2 * depth + 2, "");
	append_label(g, line1, line2);
	appendStringInfo(&g->out, ";\n%*s", 2 * depth + 2, "");
	if (st)
		appendStringInfo(&g->out, "style=\"rounded,filled\"; fillcolor=\"%s\"; color=\"%s\";\n",
						 st->fill, st->line);
	else if (line2 == NULL)		/* white inside a colored state */
		appendStringInfoString(&g->out, "style=\"dashed,filled\"; fillcolor=\"white\";\n");
	else
		appendStringInfoString(&g->out, "style=\"rounded\";\n");
}

static void
close_cluster(Graph *g, int depth)
{
	appendStringInfo(&g->out, "%*s%s\n", 2 * depth, "", g->dot ? "}" : "end");
}

static void
print_scope(Graph *g, GraphScope *scope, int depth)
{
	ListCell   *lc;
	ListCell   *ic;

	if (scope->title)
		open_cluster(g, depth++, psprintf("scope%d", scope->no), scope->title, NULL, NULL);
	print_node(g, depth, psprintf("start%d", scope->no), "Start", NULL, SHAPE_START, NULL);
	foreach(lc, scope->states)
	{
		GraphState *s = lfirst(lc);
		char	   *id = psprintf("s%d", s->no);

		if (s->inner == NIL)
		{
			print_node(g, depth, id, s->name, s->detail,
					   strcmp(s->type, "Choice") == 0 ? SHAPE_CHOICE :
					   strcmp(s->type, "Fail") == 0 ? SHAPE_FAIL : SHAPE_BOX, s->status);
			continue;
		}
		open_cluster(g, depth, id, s->name, s->detail, s->status);
		foreach(ic, s->inner)
			print_scope(g, lfirst(ic), depth + 1);
		close_cluster(g, depth);
	}
	print_node(g, depth, psprintf("finish%d", scope->no), "End", NULL, SHAPE_END, NULL);
	if (scope->title)
		close_cluster(g, depth - 1);
}

static void
print_edge(Graph *g, GraphEdge *e)
{
	GraphState *from = e->from;
	GraphState *to = NULL;
	char	   *from_id = from ? psprintf("s%d", from->no) : psprintf("start%d", e->scope->no);
	char	   *to_id;
	const char *sep = " [";
	ListCell   *lc;

	if (e->to && (to = find_state(e->scope->states, e->to)) == NULL)
		return;					/* not a state of the scope: not a valid definition */
	to_id = to ? psprintf("s%d", to->no) : psprintf("finish%d", e->scope->no);
	if (!g->dot)
	{
		appendStringInfo(&g->out, "  %s %s", from_id, e->dashed ? "-.->" : "-->");
		if (e->label)
		{
			appendStringInfoChar(&g->out, '|');
			append_label(g, e->label, NULL);
			appendStringInfoChar(&g->out, '|');
		}
		appendStringInfo(&g->out, " %s\n", to_id);
		return;
	}

	/* DOT: a cluster's edges run from its first branch's End, to its first branch's Start */
	if (from && from->inner)
		from_id = psprintf("finish%d", ((GraphScope *) linitial(from->inner))->no);
	if (to && to->inner)
		to_id = psprintf("start%d", ((GraphScope *) linitial(to->inner))->no);
	appendStringInfo(&g->out, "  %s -> %s", from_id, to_id);
	if (e->label)
	{
		appendStringInfoString(&g->out, " [label=");
		append_label(g, e->label, NULL);
		sep = ", ";
	}
	if (e->dashed)
		appendStringInfo(&g->out, "%sstyle=dashed", sep), sep = ", ";
	if (from && from->inner && to != from)
		appendStringInfo(&g->out, "%sltail=cluster_s%d", sep, from->no), sep = ", ";
	if (to && to->inner && to != from)
		appendStringInfo(&g->out, "%slhead=cluster_s%d", sep, to->no), sep = ", ";
	if (to && to == from && to->inner)	/* a cluster's Catch to itself: keep the ranks */
		appendStringInfo(&g->out, "%sconstraint=false", sep), sep = ", ";
	appendStringInfoString(&g->out, strcmp(sep, ", ") == 0 ? "];\n" : ";\n");
	for_each_from(lc, from ? from->inner : NIL, 1)
		appendStringInfo(&g->out, "  finish%d -> %s [style=invis];\n", ((GraphScope *) lfirst(lc))->no, to_id);
	for_each_from(lc, to ? to->inner : NIL, 1)
		appendStringInfo(&g->out, "  %s -> start%d [style=invis];\n", from_id, ((GraphScope *) lfirst(lc))->no);
}

/* Each status's colors, once */
static void
print_legend(Graph *g)
{
	open_cluster(g, 1, "legend", "Legend", NULL, NULL);
	for (int i = 0; i < lengthof(status_styles); i++)
		if (status_styles[i].legend)
			print_node(g, 2, psprintf("legend_%s", status_styles[i].name), status_styles[i].legend, NULL,
					   SHAPE_BOX, &status_styles[i]);
	close_cluster(g, 1);
	for (int i = 0; !g->dot && i < lengthof(status_styles); i++)
		if (status_styles[i].legend)
			appendStringInfo(&g->out, "  classDef %s fill:%s,stroke:%s\n",
							 status_styles[i].name, status_styles[i].fill, status_styles[i].line);
}

char *
sfn_graph_render(Jsonb *definition, const char *format, Jsonb *state_status)
{
	Graph		g;
	GraphScope *top;
	ListCell   *lc;

	memset(&g, 0, sizeof(g));
	if (strcmp(format, "dot") == 0)
		g.dot = true;
	else if (strcmp(format, "mermaid") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid \"format\": \"%s\"", format),
				 errdetail("The format must be \"dot\" (Graphviz) or \"mermaid\".")));
	if (state_status)
	{
		if (!JB_ROOT_IS_OBJECT(state_status))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid \"state_status\": expected an object"),
					 errdetail("It maps state names to statuses: SUCCEEDED, FAILED, TIMED_OUT, CAUGHT, "
							   "RUNNING, ABORTED or NOT_RUN.")));
		g.status = &state_status->root;
	}
	initStringInfo(&g.out);
	initStringInfo(&g.tail);
	top = build_scope(&g, &definition->root, NULL);

	if (g.dot)
		appendStringInfoString(&g.out,
							   "digraph state_machine {\n"
							   "  compound=true;\n"
							   "  node [shape=box, style=rounded, fontname=\"Helvetica\", fontsize=11];\n"
							   "  edge [fontname=\"Helvetica\", fontsize=9];\n");
	else
		appendStringInfoString(&g.out, "flowchart TD\n");
	print_scope(&g, top, 1);
	foreach(lc, g.edges)
		print_edge(&g, lfirst(lc));
	if (g.status)
		print_legend(&g);
	appendStringInfoString(&g.out, g.tail.data);
	if (g.dot)
		appendStringInfoString(&g.out, "}\n");
	return g.out.data;
}

/*
 * outbox.render_state_machine_graph(definition jsonb, format text DEFAULT
 * 'dot', state_status jsonb DEFAULT NULL) RETURNS text
 */
PG_FUNCTION_INFO_V1(outbox_render_state_machine_graph);
Datum
outbox_render_state_machine_graph(PG_FUNCTION_ARGS)
{
	Jsonb	   *definition;
	char	   *format;
	List	   *diags;

	outbox_arg_not_null(fcinfo, 0, "definition");
	definition = PG_GETARG_JSONB_P(0);
	format = outbox_arg_text(fcinfo, 1, "format");
	diags = sfn_validate_definition(definition);
	if (diags != NIL)
	{
		SfnDiagnostic *d = linitial(diags);

		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid state machine definition at %s: %s", d->location, d->message)));
	}
	PG_RETURN_TEXT_P(cstring_to_text(sfn_graph_render(definition, format,
													  PG_ARGISNULL(2) ? NULL : PG_GETARG_JSONB_P(2))));
}
