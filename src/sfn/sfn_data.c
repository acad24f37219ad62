/*-------------------------------------------------------------------------
 *
 * sfn_data.c
 *	  The States Language's data tools: paths into the input ("$...") and
 *	  the context object ("$$..."), the intrinsic functions, and the
 *	  Parameters / ResultSelector / ItemSelector templates that use them.
 *
 * An intrinsic call is parsed by recursive descent: States.Name( args )
 * where an argument is a 'string' (\ escapes ' { } and \; an unescaped
 * "{}" is a States.Format placeholder), a number, true, false, null, a
 * path, or another call (at most 10 deep).  Every failure is
 * States.IntrinsicFailure, and a path that selects nothing States.Runtime,
 * raised with SQLSTATE 22023 and the error name first in the message, so
 * the interpreter can turn them into the execution's Error.
 *
 * Choices where AWS is silent: MathRandom(start, end) draws start <= n < end;
 * StringSplit drops empty pieces.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/sfn/sfn_data.c
 *
 *-------------------------------------------------------------------------
 */
#include "pg_outbox.h"

#include <ctype.h>
#include <errno.h>

#include "common/base64.h"
#include "common/cryptohash.h"
#include "common/md5.h"
#include "common/sha1.h"
#include "common/sha2.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"
#include "utils/uuid.h"

#include "core/json_path.h"
#include "core/jsonb_util.h"
#include "core/security.h"
#include "sfn/sfn.h"

#define INTRINSIC_MAX_DEPTH		10
#define INTRINSIC_MAX_STRING	10000
#define ARRAY_RANGE_MAX			1000
#define FORMAT_PLACEHOLDER		'\x01'

static void fail(const char *fmt,...) pg_attribute_printf(1, 2) pg_attribute_noreturn();

static void
fail(const char *fmt,...)
{
	StringInfoData buf;
	va_list		args;

	initStringInfo(&buf);
	for (;;)
	{
		int			needed;

		va_start(args, fmt);
		needed = appendStringInfoVA(&buf, fmt, args);
		va_end(args);
		if (needed == 0)
			break;
		enlargeStringInfo(&buf, needed);
	}
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("States.IntrinsicFailure: %s", buf.data)));
}

/* ---- paths ---- */

/*
 * The variables a path "$name..." reads: the running thread's, set by the
 * interpreter before it evaluates a state's data flow (NULL: none).
 */
Jsonb	   *sfn_current_variables = NULL;

/* The value of "$..." in input, "$$..." in context, "$name..." in a variable; NULL if nothing is there. */
Jsonb *
sfn_path_value(const char *path, Jsonb *input, Jsonb *context)
{
	OutboxPath p;
	bool		ctx = strncmp(path, "$$", 2) == 0;

	if (path[0] == '$' && (isalpha((unsigned char) path[1]) || path[1] == '_'))
	{
		const char *end = path + 1;
		JsonbValue *value;

		while (isalnum((unsigned char) *end) || *end == '_')
			end++;
		value = sfn_current_variables ?
			outbox_jsonb_get(&sfn_current_variables->root, pnstrdup(path + 1, end - path - 1)) : NULL;
		if (value == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("States.Runtime: variable $%s is not defined", pnstrdup(path + 1, end - path - 1))));
		outbox_path_parse(psprintf("$%s", end), "path", &p);
		return outbox_path_eval(&p, JsonbValueToJsonb(value));
	}
	outbox_path_parse(ctx ? path + 1 : path, "path", &p);
	return outbox_path_eval(&p, ctx ? context : input);
}

static Jsonb *
required_path(const char *path, Jsonb *input, Jsonb *context)
{
	Jsonb	   *v = sfn_path_value(path, input, context);

	if (v == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("States.Runtime: the JSONPath %s could not be found in the %s", path,
						strncmp(path, "$$", 2) == 0 ? "context object" : "input")));
	return v;
}

/* ---- values ---- */

static Jsonb *
json_of(const char *text)
{
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(text)));
}

static Jsonb *
string_jsonb(const char *s)
{
	JsonbValue	v;

	v.type = jbvString;
	v.val.string.val = (char *) s;
	v.val.string.len = strlen(s);
	return JsonbValueToJsonb(&v);
}

static bool
scalar(Jsonb *j, JsonbValue *out)
{
	return JsonbExtractScalar(&j->root, out);
}

static char *
as_string(Jsonb *j, const char *fn, int argn)
{
	JsonbValue	v;

	if (!scalar(j, &v) || v.type != jbvString)
		fail("argument %d of %s must be a string", argn, fn);
	return pnstrdup(v.val.string.val, v.val.string.len);
}

static int64
as_int(Jsonb *j, const char *fn, int argn)
{
	JsonbValue	v;
	char	   *s;
	char	   *end;
	long long	n;

	if (!scalar(j, &v) || v.type != jbvNumeric)
		fail("argument %d of %s must be an integer", argn, fn);
	s = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(v.val.numeric)));
	errno = 0;
	n = strtoll(s, &end, 10);
	if (*end != '\0')
		fail("argument %d of %s must be an integer, not %s", argn, fn, s);
	if (errno == ERANGE || n < -INT64CONST(4503599627370496) || n > INT64CONST(4503599627370496))
		fail("argument %d of %s is out of range: %s", argn, fn, s);	/* |n| <= 2^52: exact as a double too */
	return n;
}

static JsonbContainer *
as_array(Jsonb *j, const char *fn, int argn)
{
	if (!JB_ROOT_IS_ARRAY(j) || JB_ROOT_IS_SCALAR(j))
		fail("argument %d of %s must be an array", argn, fn);
	return &j->root;
}

static Jsonb *
element(JsonbContainer *arr, int i)
{
	return JsonbValueToJsonb(getIthJsonbValueFromContainer(arr, i));
}

static bool
same_value(Jsonb *a, Jsonb *b)
{
	return compareJsonbContainers(&a->root, &b->root) == 0;
}

static Jsonb *
array_of(Jsonb **items, int n)
{
	JsonbParseState *st = NULL;

	pushJsonbValue(&st, WJB_BEGIN_ARRAY, NULL);
	for (int i = 0; i < n; i++)
	{
		JsonbValue	v;

		if (JB_ROOT_IS_SCALAR(items[i]))
			(void) scalar(items[i], &v);
		else
		{
			v.type = jbvBinary;
			v.val.binary.data = &items[i]->root;
			v.val.binary.len = VARSIZE(items[i]) - VARHDRSZ;
		}
		pushJsonbValue(&st, WJB_ELEM, &v);
	}
	return JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_ARRAY, NULL));
}

static char *
compact(Jsonb *j)
{
	return JsonbToCString(NULL, &j->root, VARSIZE(j));
}

/* a literal string may hold Format placeholders: as plain text they read "{}" */
static char *
plain(const char *s)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (; *s; s++)
		if (*s == FORMAT_PLACEHOLDER)
			appendStringInfoString(&buf, "{}");
		else
			appendStringInfoChar(&buf, *s);
	return buf.data;
}

static uint64
splitmix(uint64 *state)
{
	uint64		z = (*state += UINT64CONST(0x9E3779B97F4A7C15));

	z = (z ^ (z >> 30)) * UINT64CONST(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64CONST(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

static char *
hash_hex(const char *data, const char *algorithm)
{
	pg_cryptohash_type type;
	int			len;
	uint8		digest[PG_SHA512_DIGEST_LENGTH];
	pg_cryptohash_ctx *ctx;
	char	   *hex;

	if (strcmp(algorithm, "MD5") == 0)
		type = PG_MD5, len = MD5_DIGEST_LENGTH;
	else if (strcmp(algorithm, "SHA-1") == 0)
		type = PG_SHA1, len = SHA1_DIGEST_LENGTH;
	else if (strcmp(algorithm, "SHA-256") == 0)
		type = PG_SHA256, len = PG_SHA256_DIGEST_LENGTH;
	else if (strcmp(algorithm, "SHA-384") == 0)
		type = PG_SHA384, len = PG_SHA384_DIGEST_LENGTH;
	else if (strcmp(algorithm, "SHA-512") == 0)
		type = PG_SHA512, len = PG_SHA512_DIGEST_LENGTH;
	else
		fail("States.Hash: algorithm \"%s\" is not MD5, SHA-1, SHA-256, SHA-384 or SHA-512", algorithm);
	ctx = pg_cryptohash_create(type);
	if (pg_cryptohash_init(ctx) < 0 || pg_cryptohash_update(ctx, (const uint8 *) data, strlen(data)) < 0 ||
#if PG_VERSION_NUM >= 150000
		pg_cryptohash_final(ctx, digest, sizeof(digest)) < 0
#else
		pg_cryptohash_final(ctx, digest) < 0
#endif
		)
		elog(ERROR, "could not compute a %s digest", algorithm);
	pg_cryptohash_free(ctx);
	hex = palloc(len * 2 + 1);
	hex_encode((const char *) digest, len, hex);
	hex[len * 2] = '\0';
	return hex;
}

/* ---- the functions ---- */

static Jsonb *
call(const char *name, Jsonb **a, int n)
{
	const char *fn = psprintf("States.%s", name);

#define ARGS(lo, hi) do { if (n < (lo) || n > (hi)) \
		fail("%s takes %d%s argument%s, %d given", fn, (lo), (hi) > (lo) ? " or more" : "", (lo) == 1 ? "" : "s", n); } while (0)

	if (strcmp(name, "Format") == 0)
	{
		char	   *tmpl;
		StringInfoData buf;
		int			k = 1;

		ARGS(1, 1000);
		tmpl = as_string(a[0], fn, 1);
		initStringInfo(&buf);
		for (char *p = tmpl; *p; p++)
		{
			JsonbValue	v;

			if (*p != FORMAT_PLACEHOLDER)
			{
				appendStringInfoChar(&buf, *p);
				continue;
			}
			if (k >= n)
				fail("%s: the template has more {} than arguments", fn);
			if (!scalar(a[k], &v))
				fail("%s: argument %d is an object or array; only strings, numbers, booleans and null fit a template", fn, k + 1);
			if (v.type == jbvString)
				appendStringInfoString(&buf, plain(pnstrdup(v.val.string.val, v.val.string.len)));
			else
				appendStringInfoString(&buf, compact(a[k]));
			k++;
		}
		if (k != n)
			fail("%s: %d arguments for %d {} in the template", fn, n - 1, k - 1);
		return string_jsonb(buf.data);
	}
	if (strcmp(name, "StringToJson") == 0)
	{
		char	   *s;
		Jsonb	   *j;

		ARGS(1, 1);
		s = plain(as_string(a[0], fn, 1));
		if ((j = outbox_jsonb_parse_or_null(s, strlen(s))) == NULL)
			fail("%s: the string is not JSON", fn);
		return j;
	}
	if (strcmp(name, "JsonToString") == 0)
	{
		ARGS(1, 1);
		return string_jsonb(compact(a[0]));
	}
	if (strcmp(name, "Array") == 0)
		return array_of(a, n);
	if (strcmp(name, "ArrayPartition") == 0)
	{
		JsonbContainer *arr;
		int64		size;
		int			len;
		Jsonb	  **chunks;
		int			nchunks = 0;

		ARGS(2, 2);
		arr = as_array(a[0], fn, 1);
		size = as_int(a[1], fn, 2);
		if (size < 1)
			fail("%s: the chunk size must be a positive integer", fn);
		len = JsonContainerSize(arr);
		chunks = palloc(sizeof(Jsonb *) * (len / Min(size, Max(len, 1)) + 1));
		for (int64 i = 0; i < len; i += size)
		{
			int			m = (int) Min(size, len - i);
			Jsonb	  **items = palloc(sizeof(Jsonb *) * m);

			for (int k = 0; k < m; k++)
				items[k] = element(arr, i + k);
			chunks[nchunks++] = array_of(items, m);
		}
		return array_of(chunks, nchunks);
	}
	if (strcmp(name, "ArrayContains") == 0)
	{
		JsonbContainer *arr;

		ARGS(2, 2);
		arr = as_array(a[0], fn, 1);
		for (uint32 i = 0; i < JsonContainerSize(arr); i++)
			if (same_value(element(arr, i), a[1]))
				return json_of("true");
		return json_of("false");
	}
	if (strcmp(name, "ArrayRange") == 0)
	{
		int64		start, end, step, count;
		Jsonb	  **items;
		int			k = 0;

		ARGS(3, 3);
		start = as_int(a[0], fn, 1);
		end = as_int(a[1], fn, 2);
		step = as_int(a[2], fn, 3);
		if (step == 0)
			fail("%s: the step must not be 0", fn);
		/* arguments are within +-2^52 (as_int), so these cannot overflow */
		count = (end - start) / step + 1;
		if (count < 0 || (step > 0 && start > end) || (step < 0 && start < end))
			count = 0;
		if (count > ARRAY_RANGE_MAX)
			fail("%s: the range has %lld elements, at most %d are allowed", fn, (long long) count, ARRAY_RANGE_MAX);
		items = palloc(sizeof(Jsonb *) * Max(count, 1));
		for (k = 0; k < count; k++)
			items[k] = json_of(psprintf(INT64_FORMAT, start + k * step));
		return array_of(items, k);
	}
	if (strcmp(name, "ArrayGetItem") == 0)
	{
		JsonbContainer *arr;
		int64		i;

		ARGS(2, 2);
		arr = as_array(a[0], fn, 1);
		i = as_int(a[1], fn, 2);
		if (i < 0 || i >= JsonContainerSize(arr))
			fail("%s: index %lld is out of bounds (the array has %u elements)", fn, (long long) i, JsonContainerSize(arr));
		return element(arr, (int) i);
	}
	if (strcmp(name, "ArrayLength") == 0)
	{
		ARGS(1, 1);
		return json_of(psprintf("%u", JsonContainerSize(as_array(a[0], fn, 1))));
	}
	if (strcmp(name, "ArrayUnique") == 0)
	{
		JsonbContainer *arr;
		Jsonb	  **items;
		int			k = 0;

		ARGS(1, 1);
		arr = as_array(a[0], fn, 1);
		items = palloc(sizeof(Jsonb *) * Max(1, JsonContainerSize(arr)));
		for (uint32 i = 0; i < JsonContainerSize(arr); i++)
		{
			Jsonb	   *e = element(arr, i);
			bool		seen = false;

			for (int j = 0; j < k && !seen; j++)
				seen = same_value(items[j], e);
			if (!seen)
				items[k++] = e;
		}
		return array_of(items, k);
	}
	if (strcmp(name, "Base64Encode") == 0 || strcmp(name, "Base64Decode") == 0)
	{
		char	   *s;
		int			len;
		char	   *out;
		int			outlen;

		ARGS(1, 1);
		s = plain(as_string(a[0], fn, 1));
		len = strlen(s);
		if (len > INTRINSIC_MAX_STRING)
			fail("%s: the input has %d characters, at most %d are allowed", fn, len, INTRINSIC_MAX_STRING);
		if (name[6] == 'E')
		{
			out = palloc(pg_b64_enc_len(len) + 1);
			outlen = pg_b64_encode(s, len, out, pg_b64_enc_len(len));
		}
		else
		{
			out = palloc(pg_b64_dec_len(len) + 1);
			outlen = pg_b64_decode(s, len, out, pg_b64_dec_len(len));
			if (outlen < 0)
				fail("%s: the input is not base64", fn);
		}
		out[outlen] = '\0';
		return string_jsonb(out);
	}
	if (strcmp(name, "Hash") == 0)
	{
		char	   *data;

		ARGS(2, 2);
		data = plain(as_string(a[0], fn, 1));
		if (strlen(data) > INTRINSIC_MAX_STRING)
			fail("%s: the data has more than %d characters", fn, INTRINSIC_MAX_STRING);
		return string_jsonb(hash_hex(data, as_string(a[1], fn, 2)));
	}
	if (strcmp(name, "JsonMerge") == 0)
	{
		JsonbValue	deep;

		ARGS(3, 3);
		if (!JB_ROOT_IS_OBJECT(a[0]) || JB_ROOT_IS_SCALAR(a[0]) || !JB_ROOT_IS_OBJECT(a[1]) || JB_ROOT_IS_SCALAR(a[1]))
			fail("%s: the first two arguments must be objects", fn);
		if (!scalar(a[2], &deep) || deep.type != jbvBool || deep.val.boolean)
			fail("%s: the third argument must be false (deep merging is not supported)", fn);
		return DatumGetJsonbP(DirectFunctionCall2(jsonb_concat, JsonbPGetDatum(a[0]), JsonbPGetDatum(a[1])));
	}
	if (strcmp(name, "MathRandom") == 0)
	{
		int64		start, end;
		uint64		r;

		ARGS(2, 3);
		start = as_int(a[0], fn, 1);
		end = as_int(a[1], fn, 2);
		if (end <= start)
			fail("%s: the end must be above the start", fn);
		if (n == 3)
		{
			uint64		seed = (uint64) as_int(a[2], fn, 3);

			r = splitmix(&seed);
		}
		else if (!pg_strong_random(&r, sizeof(r)))
			elog(ERROR, "could not generate a random number");
		return json_of(psprintf(INT64_FORMAT, start + (int64) (r % (uint64) (end - start))));
	}
	if (strcmp(name, "MathAdd") == 0)
	{
		int64		x, y;

		ARGS(2, 2);
		x = as_int(a[0], fn, 1);
		y = as_int(a[1], fn, 2);
		if (x < PG_INT32_MIN || x > PG_INT32_MAX || y < PG_INT32_MIN || y > PG_INT32_MAX ||
			x + y < PG_INT32_MIN || x + y > PG_INT32_MAX)
			fail("%s: the operands and the sum must be 32-bit integers", fn);
		return json_of(psprintf(INT64_FORMAT, x + y));
	}
	if (strcmp(name, "StringSplit") == 0)
	{
		char	   *s;
		char	   *delims;
		Jsonb	  **items;
		int			k = 0;
		char	   *tok;
		char	   *save;

		ARGS(2, 2);
		s = plain(as_string(a[0], fn, 1));
		delims = plain(as_string(a[1], fn, 2));
		items = palloc(sizeof(Jsonb *) * (strlen(s) + 1));
		for (tok = strtok_r(s, delims, &save); tok; tok = strtok_r(NULL, delims, &save))
			items[k++] = string_jsonb(tok);
		return array_of(items, k);
	}
	if (strcmp(name, "UUID") == 0)
	{
		ARGS(0, 0);
		return string_jsonb(DatumGetCString(DirectFunctionCall1(uuid_out,
																DirectFunctionCall1(gen_random_uuid, (Datum) 0))));
	}
	fail("%s is not an intrinsic function", fn);
	return NULL;				/* keep compiler quiet */
#undef ARGS
}

/* ---- the parser ---- */

typedef struct Parser
{
	const char *s;
	const char *p;
	Jsonb	   *input;
	Jsonb	   *context;
} Parser;

static void
skip(Parser *ps)
{
	while (isspace((unsigned char) *ps->p))
		ps->p++;
}

static Jsonb *parse_call(Parser *ps, int depth);

static Jsonb *
parse_arg(Parser *ps, int depth)
{
	skip(ps);
	if (*ps->p == '\'')
	{
		StringInfoData buf;

		initStringInfo(&buf);
		for (ps->p++; *ps->p && *ps->p != '\''; ps->p++)
		{
			if (*ps->p == '\\' && ps->p[1])
				appendStringInfoChar(&buf, *++ps->p);
			else if (*ps->p == '{' && ps->p[1] == '}')
			{
				appendStringInfoChar(&buf, FORMAT_PLACEHOLDER);
				ps->p++;
			}
			else
				appendStringInfoChar(&buf, *ps->p);
		}
		if (*ps->p != '\'')
			fail("unterminated string in %s", ps->s);
		ps->p++;
		return string_jsonb(buf.data);
	}
	if (strncmp(ps->p, "States.", 7) == 0)
		return parse_call(ps, depth + 1);
	if (*ps->p == '$')
	{
		const char *start = ps->p;
		bool		in_quote = false;

		for (; *ps->p; ps->p++)
		{
			if (*ps->p == '\'')
				in_quote = !in_quote;
			else if (!in_quote && (*ps->p == ',' || *ps->p == ')' || isspace((unsigned char) *ps->p)))
				break;
		}
		return required_path(pnstrdup(start, ps->p - start), ps->input, ps->context);
	}
	{
		const char *start = ps->p;
		char	   *tok;
		Jsonb	   *j;

		while (*ps->p && *ps->p != ',' && *ps->p != ')' && !isspace((unsigned char) *ps->p))
			ps->p++;
		tok = pnstrdup(start, ps->p - start);
		j = outbox_jsonb_parse_or_null(tok, strlen(tok));
		if (j == NULL || !JB_ROOT_IS_SCALAR(j) || *tok == '"')
			fail("cannot read argument \"%s\" in %s", tok, ps->s);
		return j;
	}
}

static Jsonb *
parse_call(Parser *ps, int depth)
{
	const char *name;
	Jsonb	  **args = palloc(sizeof(Jsonb *) * 16);
	int			n = 0;
	int			cap = 16;

	if (depth > INTRINSIC_MAX_DEPTH)
		fail("intrinsic functions nest at most %d deep", INTRINSIC_MAX_DEPTH);
	if (strncmp(ps->p, "States.", 7) != 0)
		fail("expected an intrinsic function in %s", ps->s);
	ps->p += 7;
	name = ps->p;
	while (isalnum((unsigned char) *ps->p))
		ps->p++;
	name = pnstrdup(name, ps->p - name);
	skip(ps);
	if (*ps->p != '(')
		fail("expected ( after States.%s", name);
	ps->p++;
	skip(ps);
	if (*ps->p != ')')
	{
		for (;;)
		{
			if (n == cap)
			{
				cap *= 2;
				args = repalloc(args, sizeof(Jsonb *) * cap);
			}
			args[n++] = parse_arg(ps, depth);
			skip(ps);
			if (*ps->p == ',')
			{
				ps->p++;
				continue;
			}
			if (*ps->p == ')')
				break;
			fail("expected , or ) in %s", ps->s);
		}
	}
	ps->p++;
	return call(name, args, n);
}

/* Evaluate one intrinsic function call against the input and the context. */
Jsonb *
sfn_intrinsic(const char *expr, Jsonb *input, Jsonb *context)
{
	Parser		ps;
	Jsonb	   *result;

	ps.s = expr;
	ps.p = expr;
	ps.input = input;
	ps.context = context;
	result = parse_call(&ps, 1);
	skip(&ps);
	if (*ps.p != '\0')
		fail("unexpected text after the call in %s", expr);
	return result;
}

/* ---- templates ---- */

static JsonbValue *apply(JsonbParseState **st, JsonbValue *v, Jsonb *input, Jsonb *context,
						 JsonbIteratorToken as);

static void
push_jsonb(JsonbParseState **st, Jsonb *j, JsonbIteratorToken as)
{
	JsonbValue	v;

	outbox_jsonb_root_value(j, &v);
	pushJsonbValue(st, as, &v);
}

/* Push v, filled in, as "as"; returns the finished value when v is the outermost container. */
static JsonbValue *
apply(JsonbParseState **st, JsonbValue *v, Jsonb *input, Jsonb *context, JsonbIteratorToken as)
{
	if (v->type == jbvBinary && JsonContainerIsObject(v->val.binary.data))
	{
		JsonbIterator *it = JsonbIteratorInit(v->val.binary.data);
		JsonbValue	child;
		char	   *key;

		pushJsonbValue(st, WJB_BEGIN_OBJECT, NULL);
		while (outbox_jsonb_next_pair(&it, &key, &child))
		{
			size_t		len = strlen(key);
			JsonbValue	k;

			k.type = jbvString;
			if (len > 2 && strcmp(key + len - 2, ".$") == 0)
			{
				char	   *expr = child.type == jbvString ?
					pnstrdup(child.val.string.val, child.val.string.len) : NULL;

				if (expr == NULL)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("States.Runtime: the value of \"%s\" must be a path or an intrinsic function", key)));
				k.val.string.val = pnstrdup(key, len - 2);
				k.val.string.len = len - 2;
				pushJsonbValue(st, WJB_KEY, &k);
				push_jsonb(st, strncmp(expr, "States.", 7) == 0 ? sfn_intrinsic(expr, input, context) :
						   required_path(expr, input, context), WJB_VALUE);
			}
			else
			{
				JsonbValue *copy = palloc(sizeof(JsonbValue));

				*copy = child;
				k.val.string.val = key;
				k.val.string.len = len;
				pushJsonbValue(st, WJB_KEY, &k);
				(void) apply(st, copy, input, context, WJB_VALUE);
			}
		}
		return pushJsonbValue(st, WJB_END_OBJECT, NULL);
	}
	else if (v->type == jbvBinary && JsonContainerIsArray(v->val.binary.data))
	{
		pushJsonbValue(st, WJB_BEGIN_ARRAY, NULL);
		for (uint32 i = 0; i < JsonContainerSize(v->val.binary.data); i++)
			(void) apply(st, getIthJsonbValueFromContainer(v->val.binary.data, i), input, context, WJB_ELEM);
		return pushJsonbValue(st, WJB_END_ARRAY, NULL);
	}
	return pushJsonbValue(st, as, v);
}

/* Fill a Parameters / ResultSelector / ItemSelector template. */
Jsonb *
sfn_apply_template(Jsonb *template, Jsonb *input, Jsonb *context)
{
	JsonbParseState *st = NULL;
	JsonbValue	v;

	if (JB_ROOT_IS_SCALAR(template))
		return template;
	v.type = jbvBinary;
	v.val.binary.data = &template->root;
	v.val.binary.len = VARSIZE(template) - VARHDRSZ;
	return JsonbValueToJsonb(apply(&st, &v, input, context, WJB_VALUE));
}

PG_FUNCTION_INFO_V1(outbox_test_state_parameters);
Datum
outbox_test_state_parameters(PG_FUNCTION_ARGS)
{
	Jsonb	   *parameters;
	Jsonb	   *input;
	Jsonb	   *context;

	outbox_arg_not_null(fcinfo, 0, "parameters");
	outbox_arg_not_null(fcinfo, 1, "input");
	parameters = PG_GETARG_JSONB_P(0);
	input = PG_GETARG_JSONB_P(1);
	context = PG_ARGISNULL(2) ? json_of("{}") : PG_GETARG_JSONB_P(2);
	PG_RETURN_JSONB_P(sfn_apply_template(parameters, input, context));
}
