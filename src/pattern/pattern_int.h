/*-------------------------------------------------------------------------
 *
 * pattern_int.h
 *	  Structures shared by the files of the pattern room.
 *
 * How a set of patterns becomes one matcher (after AWS's Ruler):
 *
 * 1. pattern_compile.c validates a pattern and rewrites it into disjunctive
 *    normal form: a list of "sub-patterns", each a list of steps that must
 *    all hold.  A step is one field path plus either a list of predicates
 *    (any may match: the leaf array of the pattern) or "absent"
 *    (exists: false).  $or branches and leaves mixing exists:false with
 *    other matchers multiply out here, under a cap.
 *
 * 2. pattern_match.c inserts each sub-pattern, its steps sorted by path,
 *    into an automaton: a trie whose edges are steps.  Sub-patterns that
 *    begin with the same steps share states, so a thousand rules that all
 *    test "source" share one state per distinct source value.  Each state
 *    keeps, per field path, a PatGroup: the value machine that maps an
 *    event value to the next states for every predicate on that path.
 *
 * 3. pattern_value.c implements PatGroup.  Nothing in it is linear in the
 *    number of predicates except anything-but and wildcard lists: exact
 *    values, equals-ignore-case, prefixes and suffixes are hash lookups
 *    (one per distinct prefix length); numeric ranges live on an
 *    order-preserving fixed-point line in a sorted interval tree; CIDR
 *    blocks in a binary trie over address bits.
 *
 * 4. Matching flattens the event into leaves (path, value, array
 *    membership), visiting only the parts of the event some pattern names,
 *    then walks the automaton depth-first: from a state, for each path it
 *    tests, each event leaf on that path is run through the value machine
 *    and the search continues in every state reached.  A leaf inside an
 *    array of objects carries its array trail; a search branch only
 *    combines leaves whose trails agree (fields of one array of objects
 *    must come from the same element).  The cost per event grows with
 *    the event's relevant fields and the partial matches, not with the
 *    number of rules.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/pattern/pattern_int.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef OUTBOX_PATTERN_INT_H
#define OUTBOX_PATTERN_INT_H

#include "nodes/pg_list.h"
#include "utils/numeric.h"

#include "pattern/pattern.h"

/* Caps that protect the server (documented in docs/event-patterns.md). */
#define PATTERN_MAX_BRANCHES	1000	/* sub-patterns after $or expansion */
#define PATTERN_MAX_WORK		1000000 /* automaton steps per matched event */
#define PATTERN_MAX_ARRAY_DEPTH 32	/* nested arrays followed in an event */
#define SNS_MAX_POLICY_BYTES	(256 * 1024)
#define SNS_MAX_KEYS			5
#define SNS_MAX_COMBINATIONS	150

/*
 * Numbers on the fixed-point line: value * 10^6 * 2, plus one when the value
 * has digits beyond the sixth decimal.  Pattern bounds are always even, so
 * an event value compares exactly against every bound.  Values beyond the
 * limits are clamped just past the largest bound.
 */
#define PAT_FIXED_LIMIT_EB		INT64CONST(10000000000000000)	/* 5e9 */
#define PAT_FIXED_LIMIT_SNS		INT64CONST(2000000000000000)	/* 1e9 */
#define PAT_FIXED_MAX			(PAT_FIXED_LIMIT_EB + 1)
#define PAT_FIXED_MIN			(-PAT_FIXED_LIMIT_EB - 1)

/* Kinds of JSON values as the matcher sees them. */
#define PK_STRING	's'
#define PK_NUMBER	'n'
#define PK_TRUE		't'
#define PK_FALSE	'f'
#define PK_NULL		'z'

typedef enum PatOp
{
	PO_EXACT,					/* kind + bytes (numbers: canonical text) */
	PO_PREFIX,
	PO_PREFIX_CI,
	PO_SUFFIX,
	PO_SUFFIX_CI,
	PO_EQUALS_CI,
	PO_WILDCARD,
	PO_NUMERIC,					/* closed interval on the fixed-point line */
	PO_CIDR,
	PO_EXISTS,					/* exists: true */
	PO_NOT_VALUES,				/* anything-but: [values] */
	PO_NOT_PREFIX,
	PO_NOT_SUFFIX,
	PO_NOT_CI,					/* anything-but: {equals-ignore-case: ...} */
	PO_NOT_WILDCARD
} PatOp;

/* A string or a typed scalar, as used by keys and anything-but lists. */
typedef struct PatKey
{
	char		kind;
	int			len;
	char	   *bytes;
} PatKey;

typedef struct PatPred
{
	PatOp		op;
	PatKey		key;			/* operand of exact/prefix/suffix/ci/wildcard */
	int64		lo;				/* PO_NUMERIC */
	int64		hi;
	uint8		family;			/* PO_CIDR: 4 or 6 */
	uint8		bits;
	uint8		addr[16];
	int			nkeys;			/* PO_NOT_*: the excluded values */
	PatKey	   *keys;
} PatPred;

typedef struct PatStep
{
	List	   *keys;			/* field path, a list of C strings */
	char	   *display;		/* "detail.count" */
	bool		absent;			/* exists: false */
	int			npreds;
	PatPred    *preds;
	char	   *canon;			/* identity, for sharing automaton states */
} PatStep;

/* pattern_compile.c */
extern List *pattern_compile(Jsonb *pattern, PatternDialect dialect);
extern int	pattern_compare_steps(const PatStep *a, const PatStep *b);

/* pattern_value.c: value helpers */
typedef struct PatValue
{
	char		kind;
	const char *str;			/* string bytes or canonical number text */
	int			len;
	Numeric		num;			/* numbers, until canonicalised */
	bool		canon_done;
	int64		fixed;			/* numbers: position on the fixed-point line */
	char	   *folded;			/* case-folded string, once computed */
	int			folded_len;
	int8		ip_state;		/* 0 unknown, 1 parsed, -1 not an address */
	uint8		ip_family;
	uint8		ip[16];
} PatValue;

extern char *pat_fold(const char *s, int len, int *outlen);
extern bool pat_number_fixed(const char *canon, int64 limit, bool round, int64 *out);
extern void pat_value_canon(PatValue *v);
extern const char *pat_value_folded(PatValue *v, int *len);
extern bool pat_parse_ip(const char *s, int len, uint8 *family, uint8 *addr);
extern bool pat_wildcard_match(const char *pat, int plen, const char *s, int slen);
extern bool pat_wildcard_check(const char *pat, int len, const char **why);

/* pattern_value.c: the value machine of one (state, path) */
typedef struct PatGroup PatGroup;

extern PatGroup *pat_group_create(int path);
extern int	pat_group_path(PatGroup *g);
extern void pat_group_add(PatGroup *g, PatPred *pred, int child);
extern void pat_group_freeze(PatGroup *g);
extern void pat_group_query(PatGroup *g, PatValue *v, int **buf, int *n, int *cap);

#endif							/* OUTBOX_PATTERN_INT_H */
