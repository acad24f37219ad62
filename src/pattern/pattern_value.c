/*-------------------------------------------------------------------------
 *
 * pattern_value.c
 *	  Values as the matcher sees them, and the value machine (PatGroup)
 *	  that maps one event value to the automaton states its predicates
 *	  lead to.
 *
 * A PatGroup holds every predicate that one automaton state applies to one
 * field path:
 *   - exact values, equals-ignore-case, prefixes and suffixes (both case
 *     sensitive and not) in one hash table, tagged by kind; a prefix or
 *     suffix costs one lookup per distinct length in the group, not one per
 *     predicate;
 *   - numeric ranges as closed intervals on the fixed-point line, sorted by
 *     lower bound with a max-upper-bound tree on top, so a lookup visits
 *     O(log n) nodes plus the intervals that contain the value;
 *   - CIDR blocks (and exact addresses) in a binary trie over address bits;
 *   - wildcards and anything-but in a list tested one by one (anything-but
 *     matches almost every value, so its cost follows the number of
 *     matches anyway);
 *   - exists: true as a plain list.
 *
 * Case folding is simple Unicode case folding done with the C.UTF-8
 * locale's towupper/towlower (so "ſ", "S" and "s" fold together), the same
 * whatever the database's collation.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/pattern/pattern_value.c
 *
 *-------------------------------------------------------------------------
 */
#include "pg_outbox.h"

#include <arpa/inet.h>
#include <locale.h>
#include <wctype.h>

#include "common/hashfn.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"

#include "pattern/pattern_int.h"

/* ---------------------------------------------------------------- values */

static locale_t fold_locale = (locale_t) 0;
static bool fold_locale_tried = false;

static pg_wchar
fold_char(pg_wchar c)
{
	if (c < 128)
		return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
	if (!fold_locale_tried)
	{
		fold_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t) 0);
		fold_locale_tried = true;
	}
	if (fold_locale == (locale_t) 0 || c > 0x10FFFF)
		return c;
	return (pg_wchar) towlower_l(towupper_l((wint_t) c, fold_locale), fold_locale);
}

/* Case-fold a string; the result is palloc'd. */
char *
pat_fold(const char *s, int len, int *outlen)
{
	char	   *out = palloc(len * 4 + 4); /* folding can grow a character */
	int			o = 0;
	int			i = 0;

	if (GetDatabaseEncoding() != PG_UTF8)
	{
		for (i = 0; i < len; i++)
			out[i] = (s[i] >= 'A' && s[i] <= 'Z') ? s[i] + ('a' - 'A') : s[i];
		out[len] = '\0';
		*outlen = len;
		return out;
	}
	while (i < len)
	{
		int			n = pg_utf_mblen((const unsigned char *) s + i);
		pg_wchar	c;

		if (n > len - i || !pg_utf8_islegal((const unsigned char *) s + i, n))
		{
			out[o++] = s[i++];
			continue;
		}
		c = fold_char(utf8_to_unicode((const unsigned char *) s + i));
		unicode_to_utf8(c, (unsigned char *) out + o);
		o += pg_utf_mblen((unsigned char *) out + o);
		i += n;
	}
	out[o] = '\0';
	*outlen = o;
	return out;
}

/*
 * Place a canonical number (numeric_normalize's text: no exponent, no
 * trailing zeros) on the fixed-point line.  For pattern bounds (round) the
 * value is rounded to 6 decimals and false is returned beyond +-limit; for
 * event values digits beyond the 6th decimal add one (see pattern_int.h)
 * and values beyond the line are clamped.
 */
bool
pat_number_fixed(const char *canon, int64 limit, bool round, int64 *out)
{
	const char *p = canon;
	bool		neg = false;
	int64		ip = 0;
	int64		frac = 0;
	int			intdigits = 0;
	int			fracdigits = 0;
	bool		extra = false;
	bool		roundup = false;
	int64		m;

	if (*p == '-')
	{
		neg = true;
		p++;
	}
	for (; *p >= '0' && *p <= '9'; p++)
	{
		if (intdigits > 0 || *p != '0')
			intdigits++;
		if (intdigits <= 11)
			ip = ip * 10 + (*p - '0');
	}
	if (*p == '.')
	{
		for (p++; *p >= '0' && *p <= '9'; p++)
		{
			if (fracdigits < 6)
				frac = frac * 10 + (*p - '0');
			else
			{
				if (fracdigits == 6 && *p >= '5')
					roundup = true;
				if (*p != '0')
					extra = true;
			}
			fracdigits++;
		}
	}
	for (; fracdigits < 6; fracdigits++)
		frac *= 10;
	if (intdigits > 10)
	{
		if (round)
			return false;
		*out = neg ? PAT_FIXED_MIN : PAT_FIXED_MAX;
		return true;
	}
	m = ip * 1000000 + frac;
	if (round)
	{
		if (roundup)
			m++;
		m *= 2;
		if (m > limit)
			return false;
		*out = neg ? -m : m;
		return true;
	}
	m = m * 2 + (extra ? 1 : 0);
	if (m > PAT_FIXED_LIMIT_EB)
		m = PAT_FIXED_MAX;
	*out = neg ? -m : m;
	return true;
}

void
pat_value_canon(PatValue *v)
{
	if (v->canon_done)
		return;
	if (v->kind == PK_NUMBER)
	{
		char	   *c = numeric_normalize(v->num);

		v->str = c;
		v->len = strlen(c);
		(void) pat_number_fixed(c, PAT_FIXED_LIMIT_EB, false, &v->fixed);
	}
	v->canon_done = true;
}

const char *
pat_value_folded(PatValue *v, int *len)
{
	if (v->folded == NULL)
		v->folded = pat_fold(v->str, v->len, &v->folded_len);
	*len = v->folded_len;
	return v->folded;
}

/* An IPv4 or IPv6 address; family 4 or 6, addr in network order. */
bool
pat_parse_ip(const char *s, int len, uint8 *family, uint8 *addr)
{
	char		buf[64];

	if (len <= 0 || len >= (int) sizeof(buf))
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (strchr(buf, ':') == NULL)
	{
		if (inet_pton(AF_INET, buf, addr) == 1)
		{
			*family = 4;
			return true;
		}
		return false;
	}
	if (inet_pton(AF_INET6, buf, addr) == 1)
	{
		*family = 6;
		return true;
	}
	return false;
}

static bool
pat_value_ip(PatValue *v)
{
	if (v->ip_state == 0)
		v->ip_state = pat_parse_ip(v->str, v->len, &v->ip_family, v->ip) ? 1 : -1;
	return v->ip_state == 1;
}

/*
 * Wildcards: '*' matches any run of characters, "\*" is a star and "\\" a
 * backslash; any other escape and "**" are errors.
 */
bool
pat_wildcard_check(const char *pat, int len, const char **why)
{
	for (int i = 0; i < len; i++)
	{
		if (pat[i] == '*' && i + 1 < len && pat[i + 1] == '*')
		{
			*why = "consecutive wildcard characters are not allowed";
			return false;
		}
		if (pat[i] == '\\')
		{
			if (i + 1 >= len || (pat[i + 1] != '*' && pat[i + 1] != '\\'))
			{
				*why = "a backslash may only escape \"*\" or \"\\\"";
				return false;
			}
			i++;
		}
	}
	return true;
}

/*
 * Greedy matching with one backtrack point (the last star): linear in the
 * common case, O(len(pattern) * len(value)) at worst, never exponential.
 */
bool
pat_wildcard_match(const char *pat, int plen, const char *s, int slen)
{
	int			pi = 0;
	int			si = 0;
	int			star_pi = -1;
	int			star_si = 0;

	while (si < slen)
	{
		if (pi < plen && pat[pi] == '*')
		{
			star_pi = ++pi;
			star_si = si;
			continue;
		}
		if (pi < plen)
		{
			char		c = pat[pi];
			int			adv = 1;

			if (c == '\\' && pi + 1 < plen)
			{
				c = pat[pi + 1];
				adv = 2;
			}
			if (c == s[si])
			{
				pi += adv;
				si++;
				continue;
			}
		}
		if (star_pi < 0)
			return false;
		pi = star_pi;
		si = ++star_si;
	}
	while (pi < plen && pat[pi] == '*')
		pi++;
	return pi == plen;
}

/* ---------------------------------------------------------- value machine */

enum
{
	T_EXACT,
	T_PREFIX,
	T_PREFIX_CI,
	T_SUFFIX,
	T_SUFFIX_CI,
	T_EQUALS_CI,
	T_COUNT
};

typedef struct HashEntry
{
	uint32		hash;
	int			next;
	uint8		table;
	char		kind;
	int			len;
	const char *bytes;
	int			child;
} HashEntry;

typedef struct Interval
{
	int64		lo;
	int64		hi;
	int			child;
} Interval;

typedef struct TrieNode
{
	int			next[2];
	int			hits;			/* first TrieHit, or -1 */
} TrieNode;

typedef struct TrieHit
{
	int			child;
	int			next;
} TrieHit;

typedef struct Linear
{
	PatPred    *pred;
	int			child;
} Linear;

struct PatGroup
{
	int			path;

	HashEntry  *entries;
	int			nentries;
	int			maxentries;
	int		   *buckets;
	uint32		mask;
	int		   *lens[T_COUNT];	/* distinct lengths, ascending */
	int			nlens[T_COUNT];
	bool		has_table[T_COUNT];

	Interval   *num;
	int			nnum;
	int			maxnum;
	int64	   *maxhi;			/* implicit tree over num[] */

	TrieNode   *trie;			/* node 0: IPv4 root, node 1: IPv6 root */
	int			ntrie;
	int			maxtrie;
	TrieHit    *hits;
	int			nhits;
	int			maxhits;

	Linear	   *linear;
	int			nlinear;
	int			maxlinear;

	int		   *exists;
	int			nexists;
	int			maxexists;
};

#define GROW(arr, n, max) \
	do { \
		if ((n) >= (max)) \
		{ \
			(max) = (max) ? (max) * 2 : 4; \
			(arr) = (arr) ? repalloc((arr), sizeof(*(arr)) * (max)) \
						  : palloc(sizeof(*(arr)) * (max)); \
		} \
	} while (0)

static inline uint32
entry_hash(uint8 table, char kind, const char *bytes, int len)
{
	return hash_combine((uint32) (table << 8 | (uint8) kind),
						hash_bytes((const unsigned char *) bytes, len));
}

PatGroup *
pat_group_create(int path)
{
	PatGroup   *g = palloc0(sizeof(PatGroup));

	g->path = path;
	return g;
}

int
pat_group_path(PatGroup *g)
{
	return g->path;
}

static void
add_entry(PatGroup *g, uint8 table, PatKey *key, int child)
{
	HashEntry  *e;

	GROW(g->entries, g->nentries, g->maxentries);
	e = &g->entries[g->nentries++];
	e->table = table;
	e->kind = key->kind;
	e->len = key->len;
	e->bytes = key->bytes;
	e->child = child;
	e->hash = entry_hash(table, key->kind, key->bytes, key->len);
	g->has_table[table] = true;
}

static void
add_cidr(PatGroup *g, PatPred *p, int child)
{
	int			node;

	if (g->ntrie == 0)
	{
		GROW(g->trie, g->ntrie, g->maxtrie);
		GROW(g->trie, g->ntrie + 1, g->maxtrie);
		for (int i = 0; i < 2; i++)
		{
			g->trie[i].next[0] = g->trie[i].next[1] = -1;
			g->trie[i].hits = -1;
		}
		g->ntrie = 2;
	}
	node = (p->family == 4) ? 0 : 1;
	for (int b = 0; b < p->bits; b++)
	{
		int			bit = (p->addr[b / 8] >> (7 - b % 8)) & 1;

		if (g->trie[node].next[bit] < 0)
		{
			GROW(g->trie, g->ntrie, g->maxtrie);
			g->trie[g->ntrie].next[0] = g->trie[g->ntrie].next[1] = -1;
			g->trie[g->ntrie].hits = -1;
			g->trie[node].next[bit] = g->ntrie++;
		}
		node = g->trie[node].next[bit];
	}
	GROW(g->hits, g->nhits, g->maxhits);
	g->hits[g->nhits].child = child;
	g->hits[g->nhits].next = g->trie[node].hits;
	g->trie[node].hits = g->nhits++;
}

void
pat_group_add(PatGroup *g, PatPred *p, int child)
{
	switch (p->op)
	{
		case PO_EXACT:
			add_entry(g, T_EXACT, &p->key, child);
			break;
		case PO_PREFIX:
			add_entry(g, T_PREFIX, &p->key, child);
			break;
		case PO_PREFIX_CI:
			add_entry(g, T_PREFIX_CI, &p->key, child);
			break;
		case PO_SUFFIX:
			add_entry(g, T_SUFFIX, &p->key, child);
			break;
		case PO_SUFFIX_CI:
			add_entry(g, T_SUFFIX_CI, &p->key, child);
			break;
		case PO_EQUALS_CI:
			add_entry(g, T_EQUALS_CI, &p->key, child);
			break;
		case PO_NUMERIC:
			GROW(g->num, g->nnum, g->maxnum);
			g->num[g->nnum].lo = p->lo;
			g->num[g->nnum].hi = p->hi;
			g->num[g->nnum].child = child;
			g->nnum++;
			break;
		case PO_CIDR:
			add_cidr(g, p, child);
			break;
		case PO_EXISTS:
			GROW(g->exists, g->nexists, g->maxexists);
			g->exists[g->nexists++] = child;
			break;
		case PO_WILDCARD:
		case PO_NOT_VALUES:
		case PO_NOT_PREFIX:
		case PO_NOT_SUFFIX:
		case PO_NOT_CI:
		case PO_NOT_WILDCARD:
			GROW(g->linear, g->nlinear, g->maxlinear);
			g->linear[g->nlinear].pred = p;
			g->linear[g->nlinear].child = child;
			g->nlinear++;
			break;
	}
}

static int
cmp_int(const void *a, const void *b)
{
	int			x = *(const int *) a;
	int			y = *(const int *) b;

	return (x > y) - (x < y);
}

static int
cmp_interval(const void *a, const void *b)
{
	const Interval *x = a;
	const Interval *y = b;

	return (x->lo > y->lo) - (x->lo < y->lo);
}

static int64
build_maxhi(PatGroup *g, int node, int l, int r)
{
	int64		m;

	if (r - l == 1)
		m = g->num[l].hi;
	else
	{
		int			mid = (l + r) / 2;
		int64		a = build_maxhi(g, node * 2 + 1, l, mid);
		int64		b = build_maxhi(g, node * 2 + 2, mid, r);

		m = Max(a, b);
	}
	g->maxhi[node] = m;
	return m;
}

/* After the last pat_group_add: build the hash table, lengths and tree. */
void
pat_group_freeze(PatGroup *g)
{
	uint32		nb = 8;

	if (g->nentries > 0)
	{
		while (nb < (uint32) g->nentries * 2)
			nb <<= 1;
		g->buckets = palloc(sizeof(int) * nb);
		memset(g->buckets, -1, sizeof(int) * nb);
		g->mask = nb - 1;
		for (int i = 0; i < g->nentries; i++)
		{
			HashEntry  *e = &g->entries[i];

			e->next = g->buckets[e->hash & g->mask];
			g->buckets[e->hash & g->mask] = i;
		}
		for (int t = T_PREFIX; t <= T_SUFFIX_CI; t++)
		{
			int			n = 0;

			if (!g->has_table[t])
				continue;
			g->lens[t] = palloc(sizeof(int) * g->nentries);
			for (int i = 0; i < g->nentries; i++)
				if (g->entries[i].table == t)
					g->lens[t][n++] = g->entries[i].len;
			qsort(g->lens[t], n, sizeof(int), cmp_int);
			g->nlens[t] = n > 0 ? 1 : 0;
			for (int i = 1; i < n; i++)
				if (g->lens[t][i] != g->lens[t][g->nlens[t] - 1])
					g->lens[t][g->nlens[t]++] = g->lens[t][i];
		}
	}
	if (g->nnum > 0)
	{
		qsort(g->num, g->nnum, sizeof(Interval), cmp_interval);
		g->maxhi = palloc(sizeof(int64) * 4 * g->nnum);
		build_maxhi(g, 0, 0, g->nnum);
	}
}

/* ---------------------------------------------------------------- lookups */

typedef struct Out
{
	int		  **buf;
	int		   *n;
	int		   *cap;
} Out;

static inline void
emit(Out *o, int child)
{
	if (*o->n >= *o->cap)
	{
		*o->cap *= 2;
		*o->buf = repalloc(*o->buf, sizeof(int) * *o->cap);
	}
	(*o->buf)[(*o->n)++] = child;
}

static void
lookup(PatGroup *g, Out *o, uint8 table, char kind, const char *bytes, int len)
{
	uint32		h = entry_hash(table, kind, bytes, len);

	for (int i = g->buckets[h & g->mask]; i >= 0; i = g->entries[i].next)
	{
		HashEntry  *e = &g->entries[i];

		if (e->hash == h && e->table == table && e->kind == kind &&
			e->len == len && memcmp(e->bytes, bytes, len) == 0)
			emit(o, e->child);
	}
}

static void
lookup_affixes(PatGroup *g, Out *o, uint8 table, const char *s, int len, bool suffix)
{
	for (int i = 0; i < g->nlens[table] && g->lens[table][i] <= len; i++)
	{
		int			l = g->lens[table][i];

		lookup(g, o, table, PK_STRING, suffix ? s + len - l : s, l);
	}
}

static void
query_intervals(PatGroup *g, Out *o, int64 x, int node, int l, int r)
{
	if (g->maxhi[node] < x || g->num[l].lo > x)
		return;
	if (r - l == 1)
	{
		emit(o, g->num[l].child);
		return;
	}
	query_intervals(g, o, x, node * 2 + 1, l, (l + r) / 2);
	query_intervals(g, o, x, node * 2 + 2, (l + r) / 2, r);
}

static void
query_trie(PatGroup *g, Out *o, PatValue *v)
{
	int			node = (v->ip_family == 4) ? 0 : 1;
	int			bits = (v->ip_family == 4) ? 32 : 128;

	for (int b = 0; node >= 0; b++)
	{
		for (int h = g->trie[node].hits; h >= 0; h = g->hits[h].next)
			emit(o, g->hits[h].child);
		if (b == bits)
			break;
		node = g->trie[node].next[(v->ip[b / 8] >> (7 - b % 8)) & 1];
	}
}

static bool
key_equals_value(PatKey *k, PatValue *v)
{
	return k->kind == v->kind && k->len == v->len &&
		memcmp(k->bytes, v->str, v->len) == 0;
}

/* Wildcards and anything-but: does the predicate hold for v? */
static bool
linear_holds(PatPred *p, PatValue *v)
{
	bool		str = (v->kind == PK_STRING);
	const char *f;
	int			flen;

	switch (p->op)
	{
		case PO_WILDCARD:
			return str && pat_wildcard_match(p->key.bytes, p->key.len, v->str, v->len);
		case PO_NOT_VALUES:
			for (int i = 0; i < p->nkeys; i++)
				if (key_equals_value(&p->keys[i], v))
					return false;
			return true;
		case PO_NOT_PREFIX:
			return !(str && v->len >= p->key.len &&
					 memcmp(v->str, p->key.bytes, p->key.len) == 0);
		case PO_NOT_SUFFIX:
			return !(str && v->len >= p->key.len &&
					 memcmp(v->str + v->len - p->key.len, p->key.bytes, p->key.len) == 0);
		case PO_NOT_CI:
			if (!str)
				return true;
			f = pat_value_folded(v, &flen);
			for (int i = 0; i < p->nkeys; i++)
				if (p->keys[i].len == flen && memcmp(p->keys[i].bytes, f, flen) == 0)
					return false;
			return true;
		case PO_NOT_WILDCARD:
			if (!str)
				return true;
			for (int i = 0; i < p->nkeys; i++)
				if (pat_wildcard_match(p->keys[i].bytes, p->keys[i].len, v->str, v->len))
					return false;
			return true;
		default:
			return false;
	}
}

/*
 * Append to *buf the states every predicate of the group that holds for v
 * leads to (possibly with repeats).
 */
void
pat_group_query(PatGroup *g, PatValue *v, int **buf, int *n, int *cap)
{
	Out			o = {buf, n, cap};

	if (v->kind == PK_NUMBER)
		pat_value_canon(v);
	if (g->nentries > 0)
	{
		lookup(g, &o, T_EXACT, v->kind, v->str, v->len);
		if (v->kind == PK_STRING)
		{
			lookup_affixes(g, &o, T_PREFIX, v->str, v->len, false);
			lookup_affixes(g, &o, T_SUFFIX, v->str, v->len, true);
			if (g->has_table[T_PREFIX_CI] || g->has_table[T_SUFFIX_CI] ||
				g->has_table[T_EQUALS_CI])
			{
				int			flen;
				const char *f = pat_value_folded(v, &flen);

				lookup(g, &o, T_EQUALS_CI, PK_STRING, f, flen);
				lookup_affixes(g, &o, T_PREFIX_CI, f, flen, false);
				lookup_affixes(g, &o, T_SUFFIX_CI, f, flen, true);
			}
		}
	}
	if (g->nnum > 0 && v->kind == PK_NUMBER)
		query_intervals(g, &o, v->fixed, 0, 0, g->nnum);
	if (g->ntrie > 0 && v->kind == PK_STRING && pat_value_ip(v))
		query_trie(g, &o, v);
	for (int i = 0; i < g->nlinear; i++)
		if (linear_holds(g->linear[i].pred, v))
			emit(&o, g->linear[i].child);
	for (int i = 0; i < g->nexists; i++)
		emit(&o, g->exists[i]);
}
