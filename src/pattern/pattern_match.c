/*-------------------------------------------------------------------------
 *
 * pattern_match.c
 *	  PatternSet: the automaton built from many patterns, and matching an
 *	  event against it (the algorithm is described in pattern_int.h).
 *
 * Two tries are built side by side:
 *   - the path trie, keyed by the field names the patterns use; flattening
 *     an event walks it, so parts of the event no pattern names are never
 *     visited (one binary search per named key, via the jsonb container);
 *   - the state trie (the automaton proper), whose edges are steps.
 *
 * A set is built in its own memory context; matching allocates only in a
 * scratch context reset before pattern_set_match returns, and per-event
 * bookkeeping (which paths have leaves, which states and patterns were
 * seen) uses generation stamps instead of clearing arrays.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/pattern/pattern_match.c
 *
 *-------------------------------------------------------------------------
 */
#include "pg_outbox.h"

#include "common/hashfn.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"

#include "core/jsonb_util.h"
#include "pattern/pattern_int.h"

typedef struct PathNode
{
	char	   *key;
	int			keylen;
	bool		leaf;			/* some step names exactly this path */
	int		   *child;
	int			nchild;
	int			maxchild;
} PathNode;

typedef struct StateNode
{
	PatGroup  **groups;
	int			ngroups;
	int			maxgroups;
	struct
	{
		int			path;
		int			child;
	}		   *absent;			/* exists:false edges */
	int			nabsent;
	int			maxabsent;
	int		   *patterns;		/* patterns that match on reaching this state */
	int			npatterns;
	int			maxpatterns;
	uint32		visited;
} StateNode;

typedef struct Leaf
{
	int			path;
	int			next;			/* next leaf on the same path, or -1 */
	int			trail;			/* offset into trails[] */
	int			ntrail;
	PatValue	v;
} Leaf;

/* build-time edge lookup: (state, path, canonical leaf) -> next state */
typedef struct EdgeKey
{
	int			state;
	int			path;
	const char *canon;
} EdgeKey;

typedef struct EdgeEntry
{
	EdgeKey		key;
	int			child;
} EdgeEntry;

struct PatternSet
{
	MemoryContext cxt;
	MemoryContext scratch;
	PatternDialect dialect;
	bool		frozen;
	int			npatterns;		/* highest index added + 1 */
	int			maxsteps;		/* longest sub-pattern */

	PathNode   *paths;			/* node 0 is the root (the event itself) */
	int			npaths;
	int			maxpaths;

	StateNode  *states;			/* state 0 is the start */
	int			nstates;
	int			maxstates;
	HTAB	   *edges;			/* build time only */

	/* per-event state, reused */
	uint32		gen;
	uint32	   *path_gen;
	int		   *path_head;
	uint32	   *pattern_gen;
	Leaf	   *leaves;
	int			nleaves;
	int			maxleaves;
	int32	   *trails;			/* (array id, index) pairs */
	int			ntrails;
	int			maxtrails;
	int32		stack[PATTERN_MAX_ARRAY_DEPTH * 2];
	int			depth;
	int			next_array;
	int		   *used;			/* leaves with array trails on the search path */
	int			nused;
	int		   *out;			/* states produced by value machines */
	int			nout;
	int			outcap;
	int		   *matched;
	int			nmatched;
	int64		work;
};

#define GROW(arr, n, max) \
	do { \
		if ((n) >= (max)) \
		{ \
			(max) = (max) ? (max) * 2 : 8; \
			(arr) = (arr) ? repalloc((arr), sizeof(*(arr)) * (max)) \
						  : palloc(sizeof(*(arr)) * (max)); \
		} \
	} while (0)

static uint32
edge_hash(const void *key, Size keysize)
{
	const EdgeKey *k = key;

	return hash_combine(hash_combine(hash_uint32(k->state), hash_uint32(k->path)),
						hash_bytes((const unsigned char *) k->canon, strlen(k->canon)));
}

static int
edge_match(const void *a, const void *b, Size keysize)
{
	const EdgeKey *x = a;
	const EdgeKey *y = b;

	if (x->state != y->state || x->path != y->path)
		return 1;
	return strcmp(x->canon, y->canon);
}

PatternSet *
pattern_set_create(MemoryContext parent, PatternDialect dialect)
{
	MemoryContext cxt = AllocSetContextCreate(parent, "pg_outbox pattern set",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	PatternSet *set = palloc0(sizeof(PatternSet));
	HASHCTL		ctl;

	set->cxt = cxt;
	set->scratch = AllocSetContextCreate(cxt, "pg_outbox pattern match",
										 ALLOCSET_DEFAULT_SIZES);
	set->dialect = dialect;

	GROW(set->paths, set->npaths, set->maxpaths);
	memset(&set->paths[0], 0, sizeof(PathNode));
	set->npaths = 1;
	GROW(set->states, set->nstates, set->maxstates);
	memset(&set->states[0], 0, sizeof(StateNode));
	set->nstates = 1;

	ctl.keysize = sizeof(EdgeKey);
	ctl.entrysize = sizeof(EdgeEntry);
	ctl.hash = edge_hash;
	ctl.match = edge_match;
	ctl.hcxt = cxt;
	set->edges = hash_create("pg_outbox pattern edges", 256, &ctl,
							 HASH_ELEM | HASH_FUNCTION | HASH_COMPARE | HASH_CONTEXT);
	MemoryContextSwitchTo(old);
	return set;
}

void
pattern_set_free(PatternSet *set)
{
	if (set)
		MemoryContextDelete(set->cxt);
}

int
pattern_set_size(PatternSet *set)
{
	return set->npatterns;
}

static int
new_state(PatternSet *set)
{
	GROW(set->states, set->nstates, set->maxstates);
	memset(&set->states[set->nstates], 0, sizeof(StateNode));
	return set->nstates++;
}

/* The path-trie node of a field path, created on first use. */
static int
intern_path(PatternSet *set, List *keys)
{
	int			node = 0;
	ListCell   *lc;

	foreach(lc, keys)
	{
		const char *key = lfirst(lc);
		int			len = strlen(key);
		PathNode   *pn = &set->paths[node];
		int			found = -1;

		for (int i = 0; i < pn->nchild; i++)
		{
			PathNode   *c = &set->paths[pn->child[i]];

			if (c->keylen == len && memcmp(c->key, key, len) == 0)
			{
				found = pn->child[i];
				break;
			}
		}
		if (found < 0)
		{
			GROW(set->paths, set->npaths, set->maxpaths);
			found = set->npaths++;
			memset(&set->paths[found], 0, sizeof(PathNode));
			set->paths[found].key = pstrdup(key);
			set->paths[found].keylen = len;
			pn = &set->paths[node];
			GROW(pn->child, pn->nchild, pn->maxchild);
			pn->child[pn->nchild++] = found;
		}
		node = found;
	}
	set->paths[node].leaf = true;
	return node;
}

static PatGroup *
state_group(PatternSet *set, int state, int path)
{
	StateNode  *st = &set->states[state];
	PatGroup   *g;

	for (int i = 0; i < st->ngroups; i++)
		if (pat_group_path(st->groups[i]) == path)
			return st->groups[i];
	g = pat_group_create(path);
	GROW(st->groups, st->ngroups, st->maxgroups);
	st->groups[st->ngroups++] = g;
	return g;
}

static PatKey
copy_key(PatKey k)
{
	PatKey		c = k;

	c.bytes = pnstrdup(k.bytes, k.len);
	return c;
}

static PatPred *
copy_pred(PatPred *p)
{
	PatPred    *c = palloc(sizeof(PatPred));

	*c = *p;
	c->key = copy_key(p->key);
	if (p->nkeys > 0)
	{
		c->keys = palloc(sizeof(PatKey) * p->nkeys);
		for (int i = 0; i < p->nkeys; i++)
			c->keys[i] = copy_key(p->keys[i]);
	}
	return c;
}

/* Follow or create the edge for one step out of a state. */
static int
add_step(PatternSet *set, int state, PatStep *step)
{
	int			path = intern_path(set, step->keys);
	EdgeKey		key;
	EdgeEntry  *e;
	bool		found;
	int			child;

	if (step->absent)
	{
		StateNode  *st = &set->states[state];

		for (int i = 0; i < st->nabsent; i++)
			if (st->absent[i].path == path)
				return st->absent[i].child;
		child = new_state(set);
		st = &set->states[state];
		GROW(st->absent, st->nabsent, st->maxabsent);
		st->absent[st->nabsent].path = path;
		st->absent[st->nabsent].child = child;
		st->nabsent++;
		return child;
	}

	key.state = state;
	key.path = path;
	key.canon = step->canon;
	e = hash_search(set->edges, &key, HASH_ENTER, &found);
	if (found)
		return e->child;
	e->key.canon = pstrdup(step->canon);
	child = new_state(set);
	e->child = child;
	{
		PatGroup   *g = state_group(set, state, path);

		for (int i = 0; i < step->npreds; i++)
			pat_group_add(g, copy_pred(&step->preds[i]), child);
	}
	return child;
}

/* Compile a pattern and add it to the set under the caller's index. */
void
pattern_set_add(PatternSet *set, Jsonb *pattern, int index)
{
	MemoryContext tmp;
	MemoryContext old;
	List	   *dnf;
	ListCell   *lc;

	Assert(!set->frozen);
	Assert(index >= 0);
	tmp = AllocSetContextCreate(CurrentMemoryContext, "pattern compile",
								ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(tmp);
	dnf = pattern_compile(pattern, set->dialect);

	MemoryContextSwitchTo(set->cxt);
	foreach(lc, dnf)
	{
		List	   *steps = lfirst(lc);
		ListCell   *ls;
		int			state = 0;
		StateNode  *st;

		foreach(ls, steps)
			state = add_step(set, state, lfirst(ls));
		set->maxsteps = Max(set->maxsteps, list_length(steps));
		st = &set->states[state];
		if (st->npatterns == 0 || st->patterns[st->npatterns - 1] != index)
		{
			GROW(st->patterns, st->npatterns, st->maxpatterns);
			st->patterns[st->npatterns++] = index;
		}
	}
	set->npatterns = Max(set->npatterns, index + 1);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(tmp);
}

void
pattern_set_freeze(PatternSet *set)
{
	MemoryContext old = MemoryContextSwitchTo(set->cxt);

	for (int s = 0; s < set->nstates; s++)
		for (int g = 0; g < set->states[s].ngroups; g++)
			pat_group_freeze(set->states[s].groups[g]);
	hash_destroy(set->edges);
	set->edges = NULL;
	set->path_gen = palloc0(sizeof(uint32) * set->npaths);
	set->path_head = palloc(sizeof(int) * set->npaths);
	set->pattern_gen = palloc0(sizeof(uint32) * Max(set->npatterns, 1));
	set->used = palloc(sizeof(int) * (set->maxsteps + 1));
	set->outcap = 64;
	set->out = palloc(sizeof(int) * set->outcap);
	set->frozen = true;
	MemoryContextSwitchTo(old);
}

/* ------------------------------------------------------------ flattening */

static void
add_leaf(PatternSet *set, int path, JsonbValue *jv)
{
	Leaf	   *l;

	if (set->nleaves >= set->maxleaves)
	{
		set->maxleaves = set->maxleaves ? set->maxleaves * 2 : 32;
		set->leaves = set->leaves ? repalloc(set->leaves, sizeof(Leaf) * set->maxleaves)
			: MemoryContextAlloc(set->cxt, sizeof(Leaf) * set->maxleaves);
	}
	l = &set->leaves[set->nleaves];
	memset(&l->v, 0, sizeof(PatValue));
	switch (jv->type)
	{
		case jbvString:
			l->v.kind = PK_STRING;
			l->v.str = jv->val.string.val;
			l->v.len = jv->val.string.len;
			break;
		case jbvNumeric:
			l->v.kind = PK_NUMBER;
			l->v.num = jv->val.numeric;
			break;
		case jbvBool:
			l->v.kind = jv->val.boolean ? PK_TRUE : PK_FALSE;
			l->v.str = "";
			break;
		case jbvNull:
			l->v.kind = PK_NULL;
			l->v.str = "";
			break;
		default:
			return;
	}
	l->path = path;
	l->ntrail = set->depth;
	l->trail = set->ntrails;
	if (set->depth > 0)
	{
		while (set->ntrails + set->depth * 2 > set->maxtrails)
		{
			set->maxtrails = set->maxtrails ? set->maxtrails * 2 : 64;
			set->trails = set->trails ? repalloc(set->trails, sizeof(int32) * set->maxtrails)
				: MemoryContextAlloc(set->cxt, sizeof(int32) * set->maxtrails);
		}
		memcpy(set->trails + set->ntrails, set->stack, sizeof(int32) * set->depth * 2);
		set->ntrails += set->depth * 2;
	}
	if (set->path_gen[path] != set->gen)
	{
		set->path_gen[path] = set->gen;
		set->path_head[path] = -1;
	}
	l->next = set->path_head[path];
	set->path_head[path] = set->nleaves++;
}

static void flatten_object(PatternSet *set, int pn, JsonbContainer *obj);

static void
flatten_value(PatternSet *set, int pn, JsonbValue *v)
{
	if (v->type != jbvBinary)
	{
		if (set->paths[pn].leaf)
			add_leaf(set, pn, v);
		return;
	}
	if (JsonContainerIsObject(v->val.binary.data))
	{
		if (set->paths[pn].nchild > 0)
			flatten_object(set, pn, v->val.binary.data);
		return;
	}
	if (set->depth >= PATTERN_MAX_ARRAY_DEPTH)
		return;
	{
		JsonbContainer *arr = v->val.binary.data;
		int			n = JsonContainerSize(arr);
		int			id = set->next_array++;

		set->depth++;
		for (int i = 0; i < n; i++)
		{
			JsonbValue *e = getIthJsonbValueFromContainer(arr, i);

			set->stack[set->depth * 2 - 2] = id;
			set->stack[set->depth * 2 - 1] = i;
			flatten_value(set, pn, e);
		}
		set->depth--;
	}
}

static void
flatten_object(PatternSet *set, int pn, JsonbContainer *obj)
{
	check_stack_depth();
	for (int i = 0; i < set->paths[pn].nchild; i++)
	{
		int			c = set->paths[pn].child[i];
		JsonbValue	v;

		if (getKeyJsonValueFromContainer(obj, set->paths[c].key, set->paths[c].keylen, &v))
			flatten_value(set, c, &v);
	}
}

static bool
is_number_text(const char *s, int len)
{
	int			i = 0;
	int			digits = 0;
	int			expdigits = 0;

	if (i < len && (s[i] == '-' || s[i] == '+'))
		i++;
	for (; i < len && isdigit((unsigned char) s[i]); i++)
		digits++;
	if (i < len && s[i] == '.')
		for (i++; i < len && isdigit((unsigned char) s[i]); i++)
			digits++;
	if (digits == 0)
		return false;
	if (i < len && (s[i] == 'e' || s[i] == 'E'))
	{
		i++;
		if (i < len && (s[i] == '-' || s[i] == '+'))
			i++;
		for (; i < len && isdigit((unsigned char) s[i]); i++)
			expdigits++;
		if (expdigits == 0 || expdigits > 3)
			return false;
	}
	return i == len;
}

static JsonbValue *
attr_field(JsonbContainer *attr, const char *a, const char *b, JsonbValue *res)
{
	if (getKeyJsonValueFromContainer(attr, a, strlen(a), res))
		return res;
	if (getKeyJsonValueFromContainer(attr, b, strlen(b), res))
		return res;
	return NULL;
}

/*
 * SNS message attributes: {"name": {"Type"|"DataType": ..., "Value"|
 * "StringValue": ...}}.  String values are strings, Number values numbers,
 * String.Array values each of their elements; Binary attributes are
 * invisible, as are values that do not parse as their type.
 */
static void
flatten_attributes(PatternSet *set, JsonbContainer *attrs)
{
	PathNode   *root = &set->paths[0];

	for (int i = 0; i < root->nchild; i++)
	{
		int			pn = root->child[i];
		JsonbValue	attr;
		JsonbValue	typev;
		JsonbValue	valv;
		char	   *type;

		if (!getKeyJsonValueFromContainer(attrs, set->paths[pn].key, set->paths[pn].keylen, &attr) ||
			attr.type != jbvBinary || !JsonContainerIsObject(attr.val.binary.data))
			continue;
		if (!attr_field(attr.val.binary.data, "Type", "DataType", &typev) ||
			typev.type != jbvString ||
			!attr_field(attr.val.binary.data, "Value", "StringValue", &valv))
			continue;
		type = pnstrdup(typev.val.string.val, typev.val.string.len);

		if (strcmp(type, "String.Array") == 0)
		{
			JsonbValue	arr;

			if (valv.type == jbvString)
			{
				Jsonb	   *jb = outbox_jsonb_parse_or_null(valv.val.string.val, valv.val.string.len);

				if (jb == NULL)
					continue;
				if (!JB_ROOT_IS_ARRAY(jb) || JB_ROOT_IS_SCALAR(jb))
					continue;
				arr.type = jbvBinary;
				arr.val.binary.data = &jb->root;
			}
			else if (valv.type == jbvBinary && JsonContainerIsArray(valv.val.binary.data))
				arr = valv;
			else
				continue;
			for (int e = 0; e < JsonContainerSize(arr.val.binary.data); e++)
			{
				JsonbValue *ev = getIthJsonbValueFromContainer(arr.val.binary.data, e);

				if (ev->type != jbvBinary)
					add_leaf(set, pn, ev);
			}
		}
		else if (strncmp(type, "Number", 6) == 0 && (type[6] == '\0' || type[6] == '.'))
		{
			if (valv.type == jbvString)
			{
				char	   *text = pnstrdup(valv.val.string.val, valv.val.string.len);

				if (!is_number_text(text, valv.val.string.len))
					continue;
				valv.type = jbvNumeric;
				valv.val.numeric = DatumGetNumeric(DirectFunctionCall3(numeric_in,
																	   CStringGetDatum(text),
																	   ObjectIdGetDatum(InvalidOid),
																	   Int32GetDatum(-1)));
			}
			if (valv.type == jbvNumeric)
				add_leaf(set, pn, &valv);
		}
		else if (strncmp(type, "String", 6) == 0 && (type[6] == '\0' || type[6] == '.'))
		{
			if (valv.type == jbvString)
				add_leaf(set, pn, &valv);
		}
		/* Binary and anything else: not matchable */
	}
}

/* -------------------------------------------------------------- matching */

static bool
trails_agree(PatternSet *set, Leaf *a, Leaf *b)
{
	int			n = Min(a->ntrail, b->ntrail);
	int32	   *ta = set->trails + a->trail;
	int32	   *tb = set->trails + b->trail;

	for (int k = 0; k < n; k++)
	{
		if (ta[k * 2] != tb[k * 2])
			return true;		/* different arrays inside one element */
		if (ta[k * 2 + 1] != tb[k * 2 + 1])
			return false;		/* same array, different elements */
	}
	return true;
}

static void
search(PatternSet *set, int state)
{
	StateNode  *st = &set->states[state];

	if (st->visited == set->gen)
		return;					/* already searched without array constraints */
	if (set->nused == 0)
		st->visited = set->gen;
	if (++set->work > PATTERN_MAX_WORK)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("event is too complex to match: more than %d matching steps",
						PATTERN_MAX_WORK),
				 errhint("Arrays of objects combined across many pattern fields multiply the work.")));
	check_stack_depth();

	for (int i = 0; i < st->npatterns; i++)
	{
		int			p = st->patterns[i];

		if (set->pattern_gen[p] != set->gen)
		{
			set->pattern_gen[p] = set->gen;
			set->matched[set->nmatched++] = p;
		}
	}
	for (int i = 0; i < st->nabsent; i++)
		if (set->path_gen[st->absent[i].path] != set->gen)
			search(set, st->absent[i].child);

	for (int g = 0; g < st->ngroups; g++)
	{
		PatGroup   *grp = st->groups[g];
		int			path = pat_group_path(grp);

		if (set->path_gen[path] != set->gen)
			continue;
		for (int li = set->path_head[path]; li >= 0; li = set->leaves[li].next)
		{
			Leaf	   *leaf = &set->leaves[li];
			int			start;
			int			end;
			bool		ok = true;

			if (leaf->ntrail > 0)
			{
				for (int u = 0; u < set->nused && ok; u++)
					ok = trails_agree(set, &set->leaves[set->used[u]], leaf);
				if (!ok)
					continue;
			}
			start = set->nout;
			pat_group_query(grp, &leaf->v, &set->out, &set->nout, &set->outcap);
			end = set->nout;
			set->work += end - start;
			if (leaf->ntrail > 0)
				set->used[set->nused++] = li;
			for (int k = start; k < end; k++)
				search(set, set->out[k]);
			if (leaf->ntrail > 0)
				set->nused--;
			set->nout = start;
		}
	}
}

static int
cmp_int(const void *a, const void *b)
{
	int			x = *(const int *) a;
	int			y = *(const int *) b;

	return (x > y) - (x < y);
}

int
pattern_set_match(PatternSet *set, Jsonb *event, int *matched)
{
	MemoryContext old;

	Assert(set->frozen);
	if (++set->gen == 0)
	{
		/* wrapped: forget every stamp */
		memset(set->path_gen, 0, sizeof(uint32) * set->npaths);
		memset(set->pattern_gen, 0, sizeof(uint32) * Max(set->npatterns, 1));
		for (int s = 0; s < set->nstates; s++)
			set->states[s].visited = 0;
		set->gen = 1;
	}
	set->nleaves = 0;
	set->ntrails = 0;
	set->depth = 0;
	set->next_array = 0;
	set->nused = 0;
	set->nout = 0;
	set->matched = matched;
	set->nmatched = 0;
	set->work = 0;

	old = MemoryContextSwitchTo(set->scratch);
	if (JB_ROOT_IS_OBJECT(event))
	{
		if (set->dialect == PATTERN_SNS_ATTRIBUTES)
			flatten_attributes(set, &event->root);
		else
			flatten_object(set, 0, &event->root);
	}
	/* a body or event that is not an object matches nothing */
	if (JB_ROOT_IS_OBJECT(event) || set->dialect == PATTERN_SNS_ATTRIBUTES)
		search(set, 0);
	MemoryContextSwitchTo(old);
	MemoryContextReset(set->scratch);

	if (set->nmatched > 1)
		qsort(matched, set->nmatched, sizeof(int), cmp_int);
	return set->nmatched;
}
