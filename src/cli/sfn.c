/*-------------------------------------------------------------------------
 *
 * sfn.c
 *	  pg_outbox sfn: state machines and their executions from the shell
 *	  (deploy, start, describe, history, list, stop, watch, graph).
 *
 * deploy reads an Amazon States Language file and refuses it before any
 * server call when it is not JSON (the line and column of the mistake).
 * json-c parses it strictly; a second pass of our own catches what json-c
 * lets through but PostgreSQL's jsonb refuses (single quotes, NaN, raw
 * control characters in strings, lone surrogates, \u0000).  The server's
 * validator then reports problems as JSON pointers, which a small locator
 * turns back into lines and columns of the file by walking the raw text.
 *
 * history and watch attribute each event to the state it belongs to: an
 * event names its state ("name" in its details) or follows its
 * previous_event_id to one that does, as AWS's event chain goes
 * (TaskFailed -> TaskStarted -> TaskScheduled -> TaskStateEntered).
 * Execution-level events belong to no state.
 *
 * Exit codes are the client's: 0 success, 1 the server refused (and, for
 * start --wait and watch, an execution that did not succeed), 2 bad usage
 * or input (an invalid definition included), 3 no connection.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/cli/sfn.c
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

/* deepest JSON nesting accepted in a definition or an input */
#define SFN_JSON_DEPTH		1000

/* details longer than this are cut in tables */
#define SFN_DETAILS_WIDTH	72

/* timestamps: for people in the session's time zone, for --json as AWS's */
#define SQL_TIME(col)	"to_char(" col ", 'YYYY-MM-DD HH24:MI:SS.MS')"
#define SQL_ISO(col)	"to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

static const char *const sfn_usage =
"Usage: pg_outbox [CONNECTION] [--json] sfn COMMAND [ARGS]\n"
"State machines (Amazon States Language) and their executions.\n"
"\n"
"Commands:\n"
"  deploy NAME FILE [--type STANDARD|EXPRESS]   validate FILE, then create or update NAME\n"
"  start NAME [INPUT|-] [--name N] [--wait]     start an execution (INPUT: JSON, - for stdin)\n"
"  describe ARN                                 an execution's status, input, output, error\n"
"  history ARN [--reverse] [--no-data]          its events\n"
"  list [NAME] [--status S] [--max N]           NAME's executions, newest first (no NAME:\n"
"                                               the state machines)\n"
"  stop ARN [--error E] [--cause C]             stop a running execution (ABORTED)\n"
"  watch ARN [--interval MS]                    follow an execution's states until it ends\n"
"  graph NAME [--format dot|mermaid] [--execution ARN]   the machine (or an execution) as a graph\n"
"\n"
"Run \"pg_outbox sfn COMMAND --help\" for a command's details.\n"
"\n"
"Exit status: 0 success; 1 the server refused (SQL error), or for start --wait and\n"
"watch, the execution did not succeed; 2 bad usage or input (a file that is not JSON,\n"
"an invalid definition); 3 no connection.\n";

/* ---------------------------------------------------------------------------
 * Small helpers
 * ---------------------------------------------------------------------------
 */

static void *
xmalloc(size_t n)
{
	void	   *p = malloc(n ? n : 1);

	if (p == NULL)
		cli_usage_error("out of memory");
	return p;
}

static void *
xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL)
		cli_usage_error("out of memory");
	return p;
}

static char *
xstrdup(const char *s)
{
	char	   *d = strdup(s ? s : "");

	if (d == NULL)
		cli_usage_error("out of memory");
	return d;
}

/* characters (UTF-8 code points) of a string, for alignment */
static int
display_width(const char *s)
{
	int			w = 0;

	for (; *s; s++)
		if (((unsigned char) *s & 0xC0) != 0x80)
			w++;
	return w;
}

/* a copy on one line (newlines and tabs as spaces), cut to max characters */
static char *
one_line(const char *s, int max)
{
	size_t		n = strlen(s);
	char	   *out = xmalloc(n + 4);
	int			chars = 0;
	size_t		o = 0;

	for (size_t i = 0; i < n; i++)
	{
		unsigned char ch = (unsigned char) s[i];

		if ((ch & 0xC0) != 0x80)
		{
			if (chars == max)
			{
				memcpy(out + o, "...", 3);
				o += 3;
				break;
			}
			chars++;
		}
		out[o++] = (ch == '\n' || ch == '\r' || ch == '\t') ? ' ' : (char) ch;
	}
	out[o] = '\0';
	return out;
}

static void
print_padded(const char *s, int width)
{
	fputs(s, stdout);
	for (int w = display_width(s); w < width; w++)
		putchar(' ');
}

/* An aligned table of strings (row-major), padded by characters, not bytes. */
static void
print_table(char **cells, int nrows, int ncols, const char *const *names)
{
	int		   *width = xmalloc(sizeof(int) * ncols);

	for (int c = 0; c < ncols; c++)
	{
		width[c] = display_width(names[c]);
		for (int r = 0; r < nrows; r++)
			if (display_width(cells[r * ncols + c]) > width[c])
				width[c] = display_width(cells[r * ncols + c]);
	}
	for (int c = 0; c < ncols; c++)
	{
		if (c)
			fputs("  ", stdout);
		print_padded(names[c], c == ncols - 1 ? 0 : width[c]);
	}
	putchar('\n');
	for (int r = 0; r < nrows; r++)
	{
		for (int c = 0; c < ncols; c++)
		{
			if (c)
				fputs("  ", stdout);
			print_padded(cells[r * ncols + c], c == ncols - 1 ? 0 : width[c]);
		}
		putchar('\n');
	}
	free(width);
}

static const char *
json_plain(json_object *o)
{
	return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

/* a member of an object as text: strings as they are, other values as JSON */
static const char *
json_text(json_object *obj, const char *key)
{
	json_object *v;

	if (obj == NULL || !json_object_object_get_ex(obj, key, &v) || v == NULL)
		return NULL;
	if (json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return json_plain(v);
}

/* the name of a state machine from its ARN (...:stateMachine:NAME) */
static const char *
machine_name(const char *arn)
{
	const char *p = arn ? strstr(arn, ":stateMachine:") : NULL;

	return p ? p + strlen(":stateMachine:") : (arn ? arn : "");
}

static void
sleep_ms(int ms)
{
	usleep((useconds_t) ms * 1000);
}

static bool
execution_ended(const char *status)
{
	return status && strcmp(status, "RUNNING") != 0 && strcmp(status, "PENDING_REDRIVE") != 0;
}

/* ---------------------------------------------------------------------------
 * Reading JSON text strictly, with the position of a mistake
 * ---------------------------------------------------------------------------
 */

/* 1-based line and column (in characters) of a byte offset */
static void
text_position(const char *text, size_t offset, int *line, int *column)
{
	int			l = 1;
	int			c = 1;

	for (size_t i = 0; i < offset && text[i] != '\0'; i++)
	{
		if (text[i] == '\n')
		{
			l++;
			c = 1;
		}
		else if (((unsigned char) text[i] & 0xC0) != 0x80)
			c++;
	}
	*line = l;
	*column = c;
}

/*
 * A strict RFC 8259 checker, for what json-c 0.16 accepts in strict mode
 * but jsonb does not.  It runs on text json-c has parsed, so its messages
 * are about those leniencies; it is still a complete checker.
 */
typedef struct JsonCheck
{
	const char *t;
	size_t		len;
	size_t		pos;
	const char *err;
} JsonCheck;

static void
jc_ws(JsonCheck *c)
{
	while (c->pos < c->len &&
		   (c->t[c->pos] == ' ' || c->t[c->pos] == '\t' || c->t[c->pos] == '\n' || c->t[c->pos] == '\r'))
		c->pos++;
}

static int
jc_hex4(JsonCheck *c, size_t at)
{
	int			v = 0;

	if (at + 4 > c->len)
		return -1;
	for (int i = 0; i < 4; i++)
	{
		char		h = c->t[at + i];

		v <<= 4;
		if (h >= '0' && h <= '9')
			v |= h - '0';
		else if (h >= 'a' && h <= 'f')
			v |= h - 'a' + 10;
		else if (h >= 'A' && h <= 'F')
			v |= h - 'A' + 10;
		else
			return -1;
	}
	return v;
}

static bool
jc_string(JsonCheck *c)
{
	if (c->pos >= c->len || c->t[c->pos] != '"')
	{
		c->err = (c->pos < c->len && c->t[c->pos] == '\'') ?
			"strings are written in double quotes in JSON" : "a string in double quotes is expected";
		return false;
	}
	c->pos++;
	while (c->pos < c->len)
	{
		unsigned char ch = (unsigned char) c->t[c->pos];

		if (ch == '"')
		{
			c->pos++;
			return true;
		}
		if (ch < 0x20)
		{
			c->err = "a control character in a string must be escaped";
			return false;
		}
		if (ch != '\\')
		{
			c->pos++;
			continue;
		}
		if (c->pos + 1 >= c->len)
			break;
		ch = (unsigned char) c->t[c->pos + 1];
		if (strchr("\"\\/bfnrt", ch) != NULL && ch != '\0')
		{
			c->pos += 2;
			continue;
		}
		if (ch == 'u')
		{
			int			u = jc_hex4(c, c->pos + 2);

			if (u < 0)
			{
				c->err = "\\u must be followed by four hexadecimal digits";
				return false;
			}
			if (u == 0)
			{
				c->err = "\\u0000 cannot be stored in jsonb";
				return false;
			}
			if (u >= 0xDC00 && u <= 0xDFFF)
			{
				c->err = "a low surrogate must follow a high surrogate";
				return false;
			}
			if (u >= 0xD800 && u <= 0xDBFF)
			{
				int			lo = (c->pos + 7 < c->len && c->t[c->pos + 6] == '\\' && c->t[c->pos + 7] == 'u') ?
					jc_hex4(c, c->pos + 8) : -1;

				if (lo < 0xDC00 || lo > 0xDFFF)
				{
					c->err = "a high surrogate must be followed by a low surrogate";
					return false;
				}
				c->pos += 6;
			}
			c->pos += 6;
			continue;
		}
		c->err = "invalid escape sequence";
		return false;
	}
	c->err = "the string is not closed";
	return false;
}

static bool
jc_digits(JsonCheck *c)
{
	size_t		start = c->pos;

	while (c->pos < c->len && c->t[c->pos] >= '0' && c->t[c->pos] <= '9')
		c->pos++;
	if (c->pos == start)
	{
		c->err = "a digit is expected";
		return false;
	}
	return true;
}

static bool
jc_number(JsonCheck *c)
{
	if (c->t[c->pos] == '-')
		c->pos++;
	if (c->pos < c->len && c->t[c->pos] == '0')
		c->pos++;
	else if (!jc_digits(c))
		return false;
	if (c->pos < c->len && c->t[c->pos] == '.')
	{
		c->pos++;
		if (!jc_digits(c))
			return false;
	}
	if (c->pos < c->len && (c->t[c->pos] == 'e' || c->t[c->pos] == 'E'))
	{
		c->pos++;
		if (c->pos < c->len && (c->t[c->pos] == '+' || c->t[c->pos] == '-'))
			c->pos++;
		if (!jc_digits(c))
			return false;
	}
	return true;
}

static bool
jc_value(JsonCheck *c, int depth)
{
	char		ch;

	jc_ws(c);
	if (c->pos >= c->len)
	{
		c->err = "unexpected end of data";
		return false;
	}
	if (depth > SFN_JSON_DEPTH)
	{
		c->err = "nested too deeply";
		return false;
	}
	ch = c->t[c->pos];
	if (ch == '{' || ch == '[')
	{
		char		close = ch == '{' ? '}' : ']';

		c->pos++;
		jc_ws(c);
		if (c->pos < c->len && c->t[c->pos] == close)
		{
			c->pos++;
			return true;
		}
		for (;;)
		{
			if (ch == '{')
			{
				jc_ws(c);
				if (!jc_string(c))
					return false;
				jc_ws(c);
				if (c->pos >= c->len || c->t[c->pos] != ':')
				{
					c->err = "':' is expected";
					return false;
				}
				c->pos++;
			}
			if (!jc_value(c, depth + 1))
				return false;
			jc_ws(c);
			if (c->pos < c->len && c->t[c->pos] == ',')
			{
				c->pos++;
				continue;
			}
			if (c->pos < c->len && c->t[c->pos] == close)
			{
				c->pos++;
				return true;
			}
			c->err = ch == '{' ? "',' or '}' is expected" : "',' or ']' is expected";
			return false;
		}
	}
	if (ch == '"' || ch == '\'')
		return jc_string(c);
	if (ch == '-' || (ch >= '0' && ch <= '9'))
		return jc_number(c);
	{
		static const char *const words[] = {"true", "false", "null"};

		for (int i = 0; i < 3; i++)
		{
			size_t		n = strlen(words[i]);

			if (c->len - c->pos >= n && strncmp(c->t + c->pos, words[i], n) == 0)
			{
				c->pos += n;
				return true;
			}
		}
	}
	c->err = (ch == 'N' || ch == 'I') ? "NaN and Infinity are not JSON numbers" : "unexpected character";
	return false;
}

/*
 * Parse text as one JSON value; NULL when it is not, with the byte offset
 * of the mistake and what it is.  The caller owns the object.
 */
static json_object *
parse_json_text(const char *text, size_t len, size_t *err_offset, const char **err_desc)
{
	json_tokener *tok = json_tokener_new_ex(SFN_JSON_DEPTH);
	json_object *obj;
	enum json_tokener_error jerr;
	JsonCheck	check;

	if (tok == NULL)
		cli_usage_error("out of memory");
	if (strlen(text) < len)
	{
		*err_offset = strlen(text);
		*err_desc = "a NUL byte is not allowed";
		json_tokener_free(tok);
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	obj = json_tokener_parse_ex(tok, text, (int) len);
	jerr = json_tokener_get_error(tok);
	if (jerr == json_tokener_continue)
	{
		/* a top-level number or an unfinished value: the end of the text decides */
		obj = json_tokener_parse_ex(tok, "", 1);
		jerr = json_tokener_get_error(tok);
		if (jerr != json_tokener_success)
		{
			/* only a value not finished at the end of the text gets here */
			*err_offset = len;
			*err_desc = jerr == json_tokener_continue ? "unexpected end of data" : json_tokener_error_desc(jerr);
			json_tokener_free(tok);
			return NULL;
		}
	}
	else if (jerr != json_tokener_success)
	{
		*err_offset = json_tokener_get_parse_end(tok);
		*err_desc = json_tokener_error_desc(jerr);
		json_tokener_free(tok);
		return NULL;
	}
	json_tokener_free(tok);

	/* what json-c let through: one strict value, then only white space */
	check.t = text;
	check.len = len;
	check.pos = 0;
	check.err = NULL;
	if (jc_value(&check, 0))
	{
		jc_ws(&check);
		if (check.pos < len)
			check.err = "unexpected text after the JSON value";
	}
	if (check.err)
	{
		json_object_put(obj);
		*err_offset = check.pos;
		*err_desc = check.err;
		return NULL;
	}
	return obj;
}

/* ---------------------------------------------------------------------------
 * Where a JSON pointer's value is in the raw text (RFC 6901)
 * ---------------------------------------------------------------------------
 */

static size_t
skip_ws(const char *t, size_t len, size_t p)
{
	while (p < len && (t[p] == ' ' || t[p] == '\t' || t[p] == '\n' || t[p] == '\r'))
		p++;
	return p;
}

static void
put_utf8(char *out, size_t *o, unsigned int cp)
{
	if (cp < 0x80)
		out[(*o)++] = (char) cp;
	else if (cp < 0x800)
	{
		out[(*o)++] = (char) (0xC0 | (cp >> 6));
		out[(*o)++] = (char) (0x80 | (cp & 0x3F));
	}
	else if (cp < 0x10000)
	{
		out[(*o)++] = (char) (0xE0 | (cp >> 12));
		out[(*o)++] = (char) (0x80 | ((cp >> 6) & 0x3F));
		out[(*o)++] = (char) (0x80 | (cp & 0x3F));
	}
	else
	{
		out[(*o)++] = (char) (0xF0 | (cp >> 18));
		out[(*o)++] = (char) (0x80 | ((cp >> 12) & 0x3F));
		out[(*o)++] = (char) (0x80 | ((cp >> 6) & 0x3F));
		out[(*o)++] = (char) (0x80 | (cp & 0x3F));
	}
}

static unsigned int
hex4(const char *s)
{
	unsigned int v = 0;

	for (int i = 0; i < 4; i++)
	{
		char		h = s[i];

		v = v * 16 + (h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10 : h - 'A' + 10);
	}
	return v;
}

/*
 * Past the string at t[p] (a '"'); when out is given, its decoded text
 * (out must hold the raw length of the string).
 */
static size_t
scan_string(const char *t, size_t len, size_t p, char *out)
{
	size_t		o = 0;

	p++;
	while (p < len && t[p] != '"')
	{
		if (t[p] != '\\' || p + 1 >= len)
		{
			if (out)
				out[o++] = t[p];
			p++;
			continue;
		}
		p++;
		if (t[p] == 'u' && p + 4 < len)
		{
			unsigned int cp = hex4(t + p + 1);

			p += 5;
			if (cp >= 0xD800 && cp <= 0xDBFF && p + 5 < len && t[p] == '\\' && t[p + 1] == 'u')
			{
				unsigned int lo = hex4(t + p + 2);

				if (lo >= 0xDC00 && lo <= 0xDFFF)
				{
					cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
					p += 6;
				}
			}
			if (out)
				put_utf8(out, &o, cp);
			continue;
		}
		if (out)
		{
			char		e = t[p];

			out[o++] = e == 'b' ? '\b' : e == 'f' ? '\f' : e == 'n' ? '\n' : e == 'r' ? '\r' : e == 't' ? '\t' : e;
		}
		p++;
	}
	if (out)
		out[o] = '\0';
	return p < len ? p + 1 : len;
}

/* past the value at t[p] */
static size_t
skip_value(const char *t, size_t len, size_t p)
{
	int			depth = 0;

	if (p >= len)
		return len;
	if (t[p] == '"')
		return scan_string(t, len, p, NULL);
	if (t[p] != '{' && t[p] != '[')
	{
		while (p < len && strchr(",]} \t\r\n", t[p]) == NULL)
			p++;
		return p;
	}
	while (p < len)
	{
		if (t[p] == '"')
		{
			p = scan_string(t, len, p, NULL);
			continue;
		}
		if (t[p] == '{' || t[p] == '[')
			depth++;
		else if (t[p] == '}' || t[p] == ']')
		{
			depth--;
			if (depth == 0)
				return p + 1;
		}
		p++;
	}
	return len;
}

/* the offset of member token of the object at t[pos] (the last one of that name, as jsonb keeps); -1 if none */
static long
find_member(const char *t, size_t len, size_t pos, const char *token)
{
	long		found = -1;
	size_t		p = skip_ws(t, len, pos + 1);

	while (p < len && t[p] == '"')
	{
		size_t		end = scan_string(t, len, p, NULL);
		char	   *key = xmalloc(end - p + 1);
		bool		match;
		size_t		v;

		scan_string(t, len, p, key);
		match = strcmp(key, token) == 0;
		free(key);
		p = skip_ws(t, len, end);
		if (p >= len || t[p] != ':')
			break;
		v = skip_ws(t, len, p + 1);
		if (match)
			found = (long) v;
		p = skip_ws(t, len, skip_value(t, len, v));
		if (p >= len || t[p] != ',')
			break;
		p = skip_ws(t, len, p + 1);
	}
	return found;
}

/* the offset of element token (a decimal index) of the array at t[pos]; -1 if none */
static long
find_element(const char *t, size_t len, size_t pos, const char *token)
{
	long		index;
	char	   *end;
	size_t		p;

	if (token[0] < '0' || token[0] > '9' || (token[0] == '0' && token[1] != '\0'))
		return -1;
	errno = 0;
	index = strtol(token, &end, 10);
	if (*end != '\0' || errno != 0)
		return -1;
	p = skip_ws(t, len, pos + 1);
	if (p < len && t[p] == ']')
		return -1;
	for (long i = 0; p < len; i++)
	{
		if (i == index)
			return (long) p;
		p = skip_ws(t, len, skip_value(t, len, p));
		if (p >= len || t[p] != ',')
			return -1;
		p = skip_ws(t, len, p + 1);
	}
	return -1;
}

/*
 * The offset in the text of the value a JSON pointer names, or of its
 * nearest parent that exists.  The text is JSON (checked before).
 */
static size_t
locate_pointer(const char *t, size_t len, const char *pointer)
{
	size_t		pos = skip_ws(t, len, 0);
	const char *p = pointer ? pointer : "";
	char	   *token = xmalloc(strlen(p) + 1);

	while (*p == '/')
	{
		size_t		n = 0;
		long		next;

		for (p++; *p && *p != '/'; p++)
		{
			if (p[0] == '~' && p[1] == '1')
			{
				token[n++] = '/';
				p++;
			}
			else if (p[0] == '~' && p[1] == '0')
			{
				token[n++] = '~';
				p++;
			}
			else
				token[n++] = *p;
		}
		token[n] = '\0';
		if (pos < len && t[pos] == '{')
			next = find_member(t, len, pos, token);
		else if (pos < len && t[pos] == '[')
			next = find_element(t, len, pos, token);
		else
			next = -1;
		if (next < 0)
			break;
		pos = (size_t) next;
	}
	free(token);
	return pos;
}

/* ---------------------------------------------------------------------------
 * Files
 * ---------------------------------------------------------------------------
 */

/* the whole of a file ("-": standard input), NUL-terminated; exits 2 when unreadable */
static char *
read_whole_file(const char *path, size_t *len)
{
	FILE	   *f;
	size_t		cap = 8192;
	size_t		n = 0;
	size_t		got;
	char	   *buf;

	if (strcmp(path, "-") == 0)
	{
		buf = cli_read_stdin();
		*len = strlen(buf);
		return buf;
	}
	f = fopen(path, "rb");
	if (f == NULL)
		cli_usage_error("could not open \"%s\": %s", path, strerror(errno));
	buf = xmalloc(cap);
	while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0)
	{
		n += got;
		if (n + 1 >= cap)
		{
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
	}
	if (ferror(f))
		cli_usage_error("could not read \"%s\": %s", path, strerror(errno));
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* ---------------------------------------------------------------------------
 * deploy
 * ---------------------------------------------------------------------------
 */

static int
sfn_deploy(int argc, char **argv)
{
	const char *name = NULL;
	const char *file = NULL;
	const char *type = NULL;
	const char *shown;
	char	   *raw;
	char	   *text;
	size_t		len;
	size_t		err_offset;
	const char *err_desc;
	json_object *def;
	PGconn	   *conn;
	PGresult   *res;
	const char *params[3];
	int			errors = 0;
	const char *action;
	char	   *arn;

	if (cli_wants_help(argc, argv,
					   "Usage: pg_outbox sfn deploy NAME FILE [--type STANDARD|EXPRESS]\n"
					   "Create state machine NAME from the Amazon States Language definition in FILE (- for\n"
					   "standard input), or update it when it exists with another definition.\n"
					   "  --type T    STANDARD (the default) or EXPRESS; an existing machine keeps its type\n"
					   "FILE must be JSON: a syntax error is shown as FILE:LINE:COLUMN and nothing is sent.\n"
					   "The definition is then validated; each problem is printed as\n"
					   "  FILE:LINE:COLUMN: CODE: message (at /json/pointer)\n"
					   "and nothing is deployed (exit 2).  Otherwise says whether NAME was created, updated\n"
					   "or unchanged (on standard error) and prints its ARN.  With --json: one object per\n"
					   "problem, or {\"action\", \"stateMachineArn\"}.\n"))
		return 0;
	for (int i = 1; i < argc; i++)
	{
		const char *v;

		if ((v = cli_option(argc, argv, &i, "--type")) != NULL)
		{
			if (strcmp(v, "STANDARD") != 0 && strcmp(v, "EXPRESS") != 0)
				cli_usage_error("sfn deploy: --type must be STANDARD or EXPRESS, not \"%s\"", v);
			type = v;
		}
		else if (argv[i][0] == '-' && argv[i][1] != '\0')
			cli_usage_error("sfn deploy: unknown option \"%s\"", argv[i]);
		else if (name == NULL)
			name = argv[i];
		else if (file == NULL)
			file = argv[i];
		else
			cli_usage_error("sfn deploy: too many arguments");
	}
	if (name == NULL || file == NULL)
		cli_usage_error("sfn deploy: a state machine name and a definition file are required");

	raw = read_whole_file(file, &len);
	shown = strcmp(file, "-") == 0 ? "<stdin>" : file;
	/* a UTF-8 byte order mark is not JSON; editors add it */
	text = raw;
	if (len >= 3 && memcmp(raw, "\xEF\xBB\xBF", 3) == 0)
	{
		text += 3;
		len -= 3;
	}
	def = parse_json_text(text, len, &err_offset, &err_desc);
	if (def == NULL)
	{
		int			line,
					column;

		text_position(text, err_offset, &line, &column);
		fprintf(stderr, "%s:%d:%d: invalid JSON: %s\n", shown, line, column, err_desc);
		exit(EXIT_USAGE);
	}
	json_object_put(def);

	conn = cli_connect();
	params[0] = text;
	res = cli_exec(conn, "SELECT severity, code, message, location"
				   " FROM outbox.validate_state_machine_definition($1::jsonb)", 1, params);
	for (int r = 0; r < PQntuples(res); r++)
	{
		const char *severity = PQgetvalue(res, r, 0);
		const char *location = PQgetvalue(res, r, 3);
		int			line,
					column;

		text_position(text, locate_pointer(text, len, location), &line, &column);
		if (strcmp(severity, "ERROR") == 0)
			errors++;
		if (cli.json)
		{
			json_object *o = json_object_new_object();

			json_object_object_add(o, "file", json_object_new_string(shown));
			json_object_object_add(o, "line", json_object_new_int(line));
			json_object_object_add(o, "column", json_object_new_int(column));
			json_object_object_add(o, "severity", json_object_new_string(severity));
			json_object_object_add(o, "code", json_object_new_string(PQgetvalue(res, r, 1)));
			json_object_object_add(o, "message", json_object_new_string(PQgetvalue(res, r, 2)));
			json_object_object_add(o, "location", json_object_new_string(location));
			cli_print_json(o);
			json_object_put(o);
		}
		else
			fprintf(stderr, "%s:%d:%d: %s%s: %s (at %s)\n", shown, line, column,
					strcmp(severity, "ERROR") == 0 ? "" : "warning: ",
					PQgetvalue(res, r, 1), PQgetvalue(res, r, 2), location);
	}
	PQclear(res);
	if (errors > 0)
	{
		fprintf(stderr, "%s: %s: %d problem%s; nothing was deployed\n", progname, shown, errors,
				errors == 1 ? "" : "s");
		PQfinish(conn);
		return EXIT_USAGE;
	}

	/* create, update or leave it */
	params[0] = name;
	params[1] = text;
	res = cli_exec(conn, "SELECT m.arn, m.type, (outbox.describe_state_machine(m.name) -> 'definition') = $2::jsonb"
				   " FROM outbox.list_state_machines() AS m WHERE m.name = $1", 2, params);
	if (PQntuples(res) == 0)
	{
		PQclear(res);
		params[2] = type ? type : "STANDARD";
		res = cli_exec(conn, "SELECT outbox.create_state_machine($1, $2::jsonb, $3)", 3, params);
		action = "created";
	}
	else if (type && strcmp(type, PQgetvalue(res, 0, 1)) != 0)
	{
		fprintf(stderr, "%s: state machine \"%s\" is %s; the type of a state machine cannot be changed"
				" (delete it and deploy again)\n", progname, name, PQgetvalue(res, 0, 1));
		PQclear(res);
		PQfinish(conn);
		return EXIT_USAGE;
	}
	else if (strcmp(PQgetvalue(res, 0, 2), "t") == 0)
		action = "unchanged";
	else
	{
		PQclear(res);
		res = cli_exec(conn, "SELECT outbox.update_state_machine($1, $2::jsonb)", 2, params);
		action = "updated";
	}
	arn = xstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	if (cli.json)
	{
		json_object *o = json_object_new_object();

		json_object_object_add(o, "action", json_object_new_string(action));
		json_object_object_add(o, "stateMachineArn", json_object_new_string(arn));
		cli_print_json(o);
		json_object_put(o);
	}
	else if (!cli.quiet)
	{
		fprintf(stderr, "%s: state machine \"%s\" %s\n", progname, name, action);
		printf("%s\n", arn);
	}
	free(arn);
	free(raw);
	PQfinish(conn);
	return 0;
}

/* ---------------------------------------------------------------------------
 * describe, and the polling of start --wait
 * ---------------------------------------------------------------------------
 */

/* describe_execution as a json-c object (exits on a server error) */
static json_object *
describe_execution(PGconn *conn, const char *arn)
{
	const char *params[1] = {arn};
	PGresult   *res = cli_exec(conn, "SELECT outbox.describe_execution($1)", 1, params);
	json_object *o = json_tokener_parse(PQgetvalue(res, 0, 0));

	PQclear(res);
	if (o == NULL)
	{
		fprintf(stderr, "%s: the server's description of \"%s\" is not JSON\n", progname, arn);
		exit(EXIT_SQL);
	}
	return o;
}

static const char *const describe_keys[] = {
	"executionArn", "stateMachineArn", "name", "status", "type", "startDate", "stopDate",
	"input", "output", "error", "cause", "redriveCount", "redriveStatus", "redriveDate", NULL
};

static void
print_description(json_object *d)
{
	int			width = 0;
	int			n = 0;
	const char **keys;

	keys = xmalloc(sizeof(char *) * (json_object_object_length(d) + 1));
	for (int k = 0; describe_keys[k]; k++)
		if (json_object_object_get_ex(d, describe_keys[k], NULL))
			keys[n++] = describe_keys[k];
	json_object_object_foreach(d, key, val)
	{
		bool		known = false;

		(void) val;
		for (int k = 0; describe_keys[k] && !known; k++)
			known = strcmp(describe_keys[k], key) == 0;
		if (!known)
			keys[n++] = key;
	}
	for (int k = 0; k < n; k++)
		if (display_width(keys[k]) > width)
			width = display_width(keys[k]);
	for (int k = 0; k < n; k++)
	{
		const char *v = json_text(d, keys[k]);

		print_padded(keys[k], width);
		printf("  %s\n", v ? v : "");
	}
	free(keys);
}

/* an ended execution's error and cause, for people, on standard error */
static void
report_unsuccessful(json_object *d)
{
	const char *error = json_text(d, "error");
	const char *cause = json_text(d, "cause");

	fprintf(stderr, "%s: execution \"%s\" %s\n", progname, json_text(d, "name") ? json_text(d, "name") : "",
			json_text(d, "status") ? json_text(d, "status") : "?");
	if (error)
		fprintf(stderr, "error: %s\n", error);
	if (cause)
		fprintf(stderr, "cause: %s\n", cause);
}

static int
sfn_describe(int argc, char **argv)
{
	const char *arn = NULL;
	PGconn	   *conn;
	json_object *d;

	if (cli_wants_help(argc, argv,
					   "Usage: pg_outbox sfn describe EXECUTION_ARN\n"
					   "An execution: its machine, name, status, dates, input, output, error and cause,\n"
					   "redrives; aligned keys and values, or with --json the server's object on one line.\n"))
		return 0;
	for (int i = 1; i < argc; i++)
	{
		if (argv[i][0] == '-' && argv[i][1] != '\0')
			cli_usage_error("sfn describe: unknown option \"%s\"", argv[i]);
		else if (arn == NULL)
			arn = argv[i];
		else
			cli_usage_error("sfn describe: too many arguments");
	}
	if (arn == NULL)
		cli_usage_error("sfn describe: an execution ARN is required");
	conn = cli_connect();
	d = describe_execution(conn, arn);
	if (cli.json)
		cli_print_json(d);
	else
		print_description(d);
	json_object_put(d);
	PQfinish(conn);
	return 0;
}

/* ---------------------------------------------------------------------------
 * start
 * ---------------------------------------------------------------------------
 */

static int
sfn_start(int argc, char **argv)
{
	const char *machine = NULL;
	const char *input = NULL;
	const char *exec_name = NULL;
	bool		wait = false;
	char	   *text;
	size_t		err_offset;
	const char *err_desc;
	json_object *parsed;
	const char *params[3];
	PGconn	   *conn;
	PGresult   *res;
	char	   *arn;
	json_object *d;
	int			delay = 20;
	int			rc;

	if (cli_wants_help(argc, argv,
					   "Usage: pg_outbox sfn start NAME [INPUT|-] [--name EXECUTION_NAME] [--wait]\n"
					   "Start an execution of state machine NAME with INPUT (JSON text; - reads standard\n"
					   "input; {} without it) and print its ARN.\n"
					   "  --name N   the execution's name (a UUID without it)\n"
					   "  --wait     wait until it ends, then print its output; when it does not succeed,\n"
					   "             print its status, error and cause on standard error and exit 1\n"
					   "With --json: {\"executionArn\"}, or with --wait the execution's description.\n"))
		return 0;
	for (int i = 1; i < argc; i++)
	{
		const char *v;

		if ((v = cli_option(argc, argv, &i, "--name")) != NULL)
			exec_name = v;
		else if (strcmp(argv[i], "--wait") == 0)
			wait = true;
		else if (argv[i][0] == '-' && argv[i][1] != '\0')
			cli_usage_error("sfn start: unknown option \"%s\"", argv[i]);
		else if (machine == NULL)
			machine = argv[i];
		else if (input == NULL)
			input = argv[i];
		else
			cli_usage_error("sfn start: too many arguments");
	}
	if (machine == NULL)
		cli_usage_error("sfn start: a state machine name is required");
	if (input == NULL)
		text = xstrdup("{}");
	else if (strcmp(input, "-") == 0)
		text = cli_read_stdin();
	else
		text = xstrdup(input);
	parsed = parse_json_text(text, strlen(text), &err_offset, &err_desc);
	if (parsed == NULL)
	{
		int			line,
					column;

		text_position(text, err_offset, &line, &column);
		cli_usage_error("sfn start: the input is not JSON: %s at line %d, column %d", err_desc, line, column);
	}
	json_object_put(parsed);

	conn = cli_connect();
	params[0] = machine;
	params[1] = text;
	params[2] = exec_name;
	res = cli_exec(conn, "SELECT outbox.start_execution($1, $2::jsonb, $3)", 3, params);
	arn = xstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	if (!wait)
	{
		if (cli.json)
		{
			json_object *o = json_object_new_object();

			json_object_object_add(o, "executionArn", json_object_new_string(arn));
			cli_print_json(o);
			json_object_put(o);
		}
		else
			printf("%s\n", arn);
		free(arn);
		free(text);
		PQfinish(conn);
		return 0;
	}
	if (!cli.json && !cli.quiet)
	{
		printf("%s\n", arn);
		fflush(stdout);
	}
	for (;;)
	{
		d = describe_execution(conn, arn);
		if (execution_ended(json_text(d, "status")))
			break;
		json_object_put(d);
		sleep_ms(delay);
		if (delay < 500)
			delay *= 2;
	}
	rc = strcmp(json_text(d, "status"), "SUCCEEDED") == 0 ? 0 : EXIT_SQL;
	if (cli.json)
		cli_print_json(d);
	else if (rc == 0)
	{
		json_object *o = NULL;

		/* the output as JSON (a string output stays quoted) */
		json_object_object_get_ex(d, "output", &o);
		printf("%s\n", o ? json_plain(o) : "null");
	}
	else
		report_unsuccessful(d);
	json_object_put(d);
	free(arn);
	free(text);
	PQfinish(conn);
	return rc;
}

/* ---------------------------------------------------------------------------
 * Execution history: events attributed to states
 * ---------------------------------------------------------------------------
 */

typedef enum Outcome
{
	OUTCOME_NONE,
	OUTCOME_SUCCEEDED,
	OUTCOME_CAUGHT,
	OUTCOME_FAILED,
	OUTCOME_ABORTED
} Outcome;

typedef struct Event
{
	int			id;
	int			prev;
	char	   *time;			/* for people */
	char	   *iso;			/* for --json */
	double		epoch;
	char	   *type;
	json_object *details;		/* NULL when there are none */
	int			state;			/* index in the log's states, -1 for none */
} Event;

typedef struct StateRun
{
	char	   *name;
	char	   *type;			/* Task, Pass, ... (from its Entered event) */
	int			entered;
	int			closed;
	int			caught;
	bool		pending_failure;	/* failed since its last entry or success */
	Outcome		outcome;		/* of its last closed entry */
	double		first;
	double		last_enter;
	double		last_close;
} StateRun;

typedef struct EventLog
{
	Event	   *events;
	int			nevents;
	int			cap;
	int		   *by_id;			/* id -> index in events + 1; 0: not seen */
	int			id_cap;
	StateRun   *states;
	int			nstates;
	int			state_cap;
	int			last_id;
} EventLog;

static bool
has_suffix(const char *s, const char *suffix)
{
	size_t		n = strlen(s);
	size_t		m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static bool
has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int
state_index(EventLog *log, const char *name)
{
	for (int i = 0; i < log->nstates; i++)
		if (strcmp(log->states[i].name, name) == 0)
			return i;
	if (log->nstates == log->state_cap)
	{
		log->state_cap = log->state_cap ? log->state_cap * 2 : 16;
		log->states = xrealloc(log->states, sizeof(StateRun) * log->state_cap);
	}
	memset(&log->states[log->nstates], 0, sizeof(StateRun));
	log->states[log->nstates].name = xstrdup(name);
	log->states[log->nstates].type = xstrdup("");
	return log->nstates++;
}

/* Add the rows of a history query (id, prev, time, iso, epoch, type, details). */
static void
log_add_rows(EventLog *log, PGresult *res)
{
	for (int r = 0; r < PQntuples(res); r++)
	{
		Event	   *e;

		if (log->nevents == log->cap)
		{
			log->cap = log->cap ? log->cap * 2 : 64;
			log->events = xrealloc(log->events, sizeof(Event) * log->cap);
		}
		e = &log->events[log->nevents];
		e->id = atoi(PQgetvalue(res, r, 0));
		e->prev = PQgetisnull(res, r, 1) ? 0 : atoi(PQgetvalue(res, r, 1));
		e->time = xstrdup(PQgetvalue(res, r, 2));
		e->iso = xstrdup(PQgetvalue(res, r, 3));
		e->epoch = atof(PQgetvalue(res, r, 4));
		e->type = xstrdup(PQgetvalue(res, r, 5));
		e->details = PQgetisnull(res, r, 6) ? NULL : json_tokener_parse(PQgetvalue(res, r, 6));
		e->state = -1;
		if (e->id >= log->id_cap)
		{
			int			old = log->id_cap;

			log->id_cap = (e->id + 1) * 2;
			log->by_id = xrealloc(log->by_id, sizeof(int) * log->id_cap);
			memset(log->by_id + old, 0, sizeof(int) * (log->id_cap - old));
		}
		if (e->id >= 0)
			log->by_id[e->id] = log->nevents + 1;
		if (e->id > log->last_id)
			log->last_id = e->id;
		log->nevents++;
	}
}

/*
 * The state of an event: the one it names, or that of its previous event
 * (which is attributed first: ids grow along the chain).
 */
static void
log_attribute(EventLog *log, Event *e)
{
	const char *name;

	if (has_prefix(e->type, "Execution"))
		e->state = -1;
	else if ((name = json_text(e->details, "name")) != NULL)
		e->state = state_index(log, name);
	else if (e->prev > 0 && e->prev < log->id_cap && log->by_id[e->prev] > 0)
		e->state = log->events[log->by_id[e->prev] - 1].state;
	else
		e->state = -1;
}

/* Follow an event in the states' runs (events in id order). */
static void
log_track(EventLog *log, Event *e)
{
	StateRun   *s;

	if (has_prefix(e->type, "Execution"))
	{
		bool		succeeded = strcmp(e->type, "ExecutionSucceeded") == 0;

		if (strcmp(e->type, "ExecutionStarted") == 0)
			return;
		/* the execution ended: states still open end with it */
		for (int i = 0; i < log->nstates; i++)
		{
			s = &log->states[i];
			if (s->entered <= s->closed)
				continue;
			if (succeeded)
				s->outcome = OUTCOME_SUCCEEDED;
			else if (s->pending_failure || strcmp(s->type, "Fail") == 0)
				s->outcome = OUTCOME_FAILED;
			else
				s->outcome = OUTCOME_ABORTED;
			s->closed = s->entered;
			s->last_close = e->epoch;
		}
		return;
	}
	if (e->state < 0 || has_prefix(e->type, "MapIteration"))
		return;
	s = &log->states[e->state];
	if (has_suffix(e->type, "StateEntered"))
	{
		free(s->type);
		s->type = strndup(e->type, strlen(e->type) - strlen("StateEntered"));
		if (s->entered == 0)
			s->first = e->epoch;
		s->entered++;
		s->last_enter = e->epoch;
		s->pending_failure = false;
	}
	else if (has_suffix(e->type, "StateExited"))
	{
		s->outcome = s->pending_failure ? OUTCOME_CAUGHT : OUTCOME_SUCCEEDED;
		s->caught += s->pending_failure;
		s->pending_failure = false;
		if (s->closed < s->entered)
			s->closed++;
		s->last_close = e->epoch;
	}
	else if (has_suffix(e->type, "Aborted"))
	{
		s->outcome = OUTCOME_ABORTED;
		if (s->closed < s->entered)
			s->closed++;
		s->last_close = e->epoch;
	}
	else if (has_suffix(e->type, "Failed") || has_suffix(e->type, "TimedOut"))
		s->pending_failure = true;
	else if (has_suffix(e->type, "Succeeded"))
		s->pending_failure = false;
}

static int
event_cmp(const void *a, const void *b)
{
	const Event *x = *(const Event *const *) a;
	const Event *y = *(const Event *const *) b;

	return (x->id > y->id) - (x->id < y->id);
}

/* Attribute and track the events from index from on, in id order. */
static void
log_process(EventLog *log, int from)
{
	int			n = log->nevents - from;
	Event	  **order = xmalloc(sizeof(Event *) * (n > 0 ? n : 1));

	for (int i = 0; i < n; i++)
		order[i] = &log->events[from + i];
	qsort(order, n, sizeof(Event *), event_cmp);
	for (int i = 0; i < n; i++)
	{
		log_attribute(log, order[i]);
		log_track(log, order[i]);
	}
	free(order);
}

/* a short account of an event's details, for a table */
static char *
short_details(const Event *e)
{
	json_object *d = e->details;
	const char *error = json_text(d, "error");
	const char *cause = json_text(d, "cause");
	const char *v;
	char	   *buf;
	char	   *out;
	size_t		n;

	if (d == NULL)
		return xstrdup("");
	if (error || cause)
	{
		n = strlen(error ? error : "") + strlen(cause ? cause : "") + 3;
		buf = xmalloc(n);
		snprintf(buf, n, "%s%s%s", error ? error : "", error && cause ? ": " : "", cause ? cause : "");
	}
	else if ((v = json_text(d, "output")) != NULL || (v = json_text(d, "input")) != NULL)
	{
		const char *what = json_object_object_get_ex(d, "output", NULL) ? "output" : "input";
		json_object *val = NULL;

		json_object_object_get_ex(d, what, &val);
		v = val ? json_plain(val) : "null";
		n = strlen(what) + strlen(v) + 2;
		buf = xmalloc(n);
		snprintf(buf, n, "%s %s", what, v);
	}
	else if ((v = json_text(d, "resource")) != NULL)
	{
		const char *rt = json_text(d, "resourceType");

		n = strlen(v) + strlen(rt ? rt : "") + 2;
		buf = xmalloc(n);
		snprintf(buf, n, "%s%s%s", rt ? rt : "", rt ? ":" : "", v);
	}
	else if ((v = json_text(d, "index")) != NULL)
	{
		n = strlen(v) + 7;
		buf = xmalloc(n);
		snprintf(buf, n, "index %s", v);
	}
	else if ((v = json_text(d, "length")) != NULL)
	{
		n = strlen(v) + 8;
		buf = xmalloc(n);
		snprintf(buf, n, "length %s", v);
	}
	else
		return xstrdup("");
	out = one_line(buf, SFN_DETAILS_WIDTH);
	free(buf);
	return out;
}

static const char *
event_state(const EventLog *log, const Event *e)
{
	return e->state >= 0 ? log->states[e->state].name : "";
}

static void
print_event_json(const EventLog *log, const Event *e)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_int(e->id));
	json_object_object_add(o, "previousEventId", json_object_new_int(e->prev));
	json_object_object_add(o, "timestamp", json_object_new_string(e->iso));
	json_object_object_add(o, "type", json_object_new_string(e->type));
	if (e->state >= 0)
		json_object_object_add(o, "state", json_object_new_string(event_state(log, e)));
	json_object_object_add(o, "details", e->details ? json_object_get(e->details) : NULL);
	cli_print_json(o);
	json_object_put(o);
}

/* one event on a line of its own, for a stream (no table to align with) */
static void
print_event_line(const EventLog *log, const Event *e)
{
	char	   *details = short_details(e);

	printf("%4d  %s  ", e->id, e->time);
	print_padded(e->type, 22);
	fputs("  ", stdout);
	print_padded(event_state(log, e), 12);
	printf("  %s\n", details);
	free(details);
}

#define HISTORY_SQL \
	"SELECT id, previous_event_id, " SQL_TIME("\"timestamp\"") ", " SQL_ISO("\"timestamp\"") "," \
	" extract(epoch FROM \"timestamp\"), type, details" \
	" FROM outbox.get_execution_history($1, $2::boolean, $3::boolean) WHERE id > $4::integer"

static int
sfn_history(int argc, char **argv)
{
	const char *arn = NULL;
	bool		reverse = false;
	bool		data = true;
	const char *params[4];
	PGconn	   *conn;
	PGresult   *res;
	EventLog	log;

	if (cli_wants_help(argc, argv,
					   "Usage: pg_outbox sfn history EXECUTION_ARN [--reverse] [--no-data]\n"
					   "An execution's events, oldest first: id, time, type, the state it belongs to and\n"
					   "a short account of its details (error and cause, output or input, resource).\n"
					   "  --reverse    newest first\n"
					   "  --no-data    leave inputs and outputs out\n"
					   "With --json: one event per line, {\"id\", \"previousEventId\", \"timestamp\", \"type\",\n"
					   "\"state\", \"details\"}.\n"))
		return 0;
	for (int i = 1; i < argc; i++)
	{
		if (strcmp(argv[i], "--reverse") == 0)
			reverse = true;
		else if (strcmp(argv[i], "--no-data") == 0)
			data = false;
		else if (argv[i][0] == '-' && argv[i][1] != '\0')
			cli_usage_error("sfn history: unknown option \"%s\"", argv[i]);
		else if (arn == NULL)
			arn = argv[i];
		else
			cli_usage_error("sfn history: too many arguments");
	}
	if (arn == NULL)
		cli_usage_error("sfn history: an execution ARN is required");
	conn = cli_connect();
	params[0] = arn;
	params[1] = reverse ? "true" : "false";
	params[2] = data ? "true" : "false";
	params[3] = "0";
	res = cli_exec(conn, HISTORY_SQL, 4, params);
	memset(&log, 0, sizeof(log));
	log_add_rows(&log, res);
	PQclear(res);
	log_process(&log, 0);
	if (cli.json)
	{
		for (int i = 0; i < log.nevents; i++)
			print_event_json(&log, &log.events[i]);
	}
	else
	{
		static const char *const names[] = {"id", "time", "type", "state", "details"};
		char	  **cells = xmalloc(sizeof(char *) * 5 * (log.nevents ? log.nevents : 1));

		for (int i = 0; i < log.nevents; i++)
		{
			Event	   *e = &log.events[i];
			char		id[16];

			snprintf(id, sizeof(id), "%d", e->id);
			cells[i * 5] = xstrdup(id);
			cells[i * 5 + 1] = xstrdup(e->time);
			cells[i * 5 + 2] = xstrdup(e->type);
			cells[i * 5 + 3] = xstrdup(event_state(&log, e));
			cells[i * 5 + 4] = short_details(e);
		}
		print_table(cells, log.nevents, 5, names);
		for (int i = 0; i < log.nevents * 5; i++)
			free(cells[i]);
		free(cells);
	}
	PQfinish(conn);
	return 0;
}

/* ---------------------------------------------------------------------------
 * list
 * ---------------------------------------------------------------------------
 */

static int
sfn_list(int argc, char **argv)
{
	const char *machine = NULL;
	char	   *status = NULL;
	const char *max = "100";
	const char *params[3];
	PGconn	   *conn;
	PGresult   *res;

	if (cli_wants_help(argc, argv,
					   "Usage: pg_outbox sfn list NAME [--status STATUS] [--max N]\n"
					   "       pg_outbox sfn list\n"
					   "The executions of state machine NAME, newest first: name, status, start and stop\n"
					   "times, redrives and ARN; without NAME, the state machines you own.\n"
					   "  --status S   only RUNNING, SUCCEEDED, FAILED, TIMED_OUT or ABORTED ones\n"
					   "  --max N      at most N executions (100)\n"
					   "With --json: one object per line.\n"))
		return 0;
	for (int i = 1; i < argc; i++)
	{
		const char *v;

		if ((v = cli_option(argc, argv, &i, "--status")) != NULL)
		{
			status = xstrdup(v);
			for (char *p = status; *p; p++)
				if (*p >= 'a' && *p <= 'z')
					*p -= 'a' - 'A';
		}
		else if ((v = cli_option(argc, argv, &i, "--max")) != NULL)
		{
			cli_int(v, "--max", 1, 1000);
			max = v;
		}
		else if (argv[i][0] == '-' && argv[i][1] != '\0')
			cli_usage_error("sfn list: unknown option \"%s\"", argv[i]);
		else if (machine == NULL)
			machine = argv[i];
		else
			cli_usage_error("sfn list: too many arguments");
	}
	if (machine == NULL && status != NULL)
		cli_usage_error("sfn list: --status needs a state machine name");
	conn = cli_connect();
	if (machine == NULL)
	{
		res = cli_exec(conn, "SELECT name, type, owner, " SQL_TIME("created_at") ", arn, " SQL_ISO("created_at")
					   " FROM outbox.list_state_machines() ORDER BY name", 0, NULL);
		if (cli.json)
		{
			for (int r = 0; r < PQntuples(res); r++)
			{
				json_object *o = json_object_new_object();

				json_object_object_add(o, "name", json_object_new_string(PQgetvalue(res, r, 0)));
				json_object_object_add(o, "stateMachineArn", json_object_new_string(PQgetvalue(res, r, 4)));
				json_object_object_add(o, "type", json_object_new_string(PQgetvalue(res, r, 1)));
				json_object_object_add(o, "owner", json_object_new_string(PQgetvalue(res, r, 2)));
				json_object_object_add(o, "creationDate", json_object_new_string(PQgetvalue(res, r, 5)));
				cli_print_json(o);
				json_object_put(o);
			}
		}
		else
		{
			static const int cols[] = {0, 1, 2, 3, 4};
			static const char *const names[] = {"name", "type", "owner", "created", "arn"};

			cli_print_columns(res, cols, names, 5);
		}
		PQclear(res);
		PQfinish(conn);
		return 0;
	}
	params[0] = machine;
	params[1] = status;
	params[2] = max;
	res = cli_exec(conn, "SELECT name, status, " SQL_TIME("start_date") ", coalesce(" SQL_TIME("stop_date") ", ''),"
				   " redrive_count, execution_arn, " SQL_ISO("start_date") ", " SQL_ISO("stop_date") ", type"
				   " FROM outbox.list_executions($1, $2, $3::integer)", 3, params);
	if (cli.json)
	{
		for (int r = 0; r < PQntuples(res); r++)
		{
			json_object *o = json_object_new_object();

			json_object_object_add(o, "executionArn", json_object_new_string(PQgetvalue(res, r, 5)));
			json_object_object_add(o, "name", json_object_new_string(PQgetvalue(res, r, 0)));
			json_object_object_add(o, "status", json_object_new_string(PQgetvalue(res, r, 1)));
			json_object_object_add(o, "startDate", json_object_new_string(PQgetvalue(res, r, 6)));
			if (!PQgetisnull(res, r, 7))
				json_object_object_add(o, "stopDate", json_object_new_string(PQgetvalue(res, r, 7)));
			json_object_object_add(o, "redriveCount", json_object_new_int(atoi(PQgetvalue(res, r, 4))));
			json_object_object_add(o, "type", json_object_new_string(PQgetvalue(res, r, 8)));
			cli_print_json(o);
			json_object_put(o);
		}
	}
	else
	{
		static const int cols[] = {0, 1, 2, 3, 4, 5};
		static const char *const names[] = {"name", "status", "started", "stopped", "redrives", "execution_arn"};

		cli_print_columns(res, cols, names, 6);
	}
	PQclear(res);
	PQfinish(conn);
	free(status);
	return 0;
}

/* ---------------------------------------------------------------------------
 * stop
 * ---------------------------------------------------------------------------
 */

static int
sfn_stop(int argc, char **argv)
{
	const char *arn = NULL;
	const char *error = NULL;
	const char *cause = NULL;
	const char *params[3];
	PGconn	   *conn;
	PGresult   *res;

	if (cli_wants_help(argc, argv,
					   "Usage: pg_outbox sfn stop EXECUTION_ARN [--error ERROR] [--cause CAUSE]\n"
					   "Stop a running execution: it ends ABORTED with this error and cause.  Prints the\n"
					   "stop date (an execution that has already ended is left as it is: its stop date).\n"
					   "With --json: {\"stopDate\"}.\n"))
		return 0;
	for (int i = 1; i < argc; i++)
	{
		const char *v;

		if ((v = cli_option(argc, argv, &i, "--error")) != NULL)
			error = v;
		else if ((v = cli_option(argc, argv, &i, "--cause")) != NULL)
			cause = v;
		else if (argv[i][0] == '-' && argv[i][1] != '\0')
			cli_usage_error("sfn stop: unknown option \"%s\"", argv[i]);
		else if (arn == NULL)
			arn = argv[i];
		else
			cli_usage_error("sfn stop: too many arguments");
	}
	if (arn == NULL)
		cli_usage_error("sfn stop: an execution ARN is required");
	conn = cli_connect();
	params[0] = arn;
	params[1] = error;
	params[2] = cause;
	res = cli_exec(conn, "SELECT " SQL_TIME("d") ", " SQL_ISO("d")
				   " FROM outbox.stop_execution($1, $2, $3) AS d", 3, params);
	if (cli.json)
	{
		json_object *o = json_object_new_object();

		json_object_object_add(o, "stopDate", json_object_new_string(PQgetvalue(res, 0, 1)));
		cli_print_json(o);
		json_object_put(o);
	}
	else if (!cli.quiet)
		printf("%s\n", PQgetvalue(res, 0, 0));
	PQclear(res);
	PQfinish(conn);
	return 0;
}

/* ---------------------------------------------------------------------------
 * watch
 * ---------------------------------------------------------------------------
 */

static const char *
outcome_word(const StateRun *s)
{
	if (s->entered > s->closed)
		return "running";
	switch (s->outcome)
	{
		case OUTCOME_SUCCEEDED:
			return "succeeded";
		case OUTCOME_CAUGHT:
			return "caught";
		case OUTCOME_FAILED:
			return "failed";
		case OUTCOME_ABORTED:
			return "aborted";
		default:
			return "";
	}
}

static const char *
outcome_color(const char *word)
{
	if (strcmp(word, "succeeded") == 0 || strcmp(word, "SUCCEEDED") == 0)
		return "\033[32m";
	if (strcmp(word, "running") == 0 || strcmp(word, "RUNNING") == 0 || strcmp(word, "caught") == 0)
		return "\033[33m";
	if (strcmp(word, "aborted") == 0)
		return "\033[2m";
	return "\033[31m";
}

/* the screen of watch on a terminal: the execution, then its states */
static void
draw_watch(const EventLog *log, json_object *d, double start, double now)
{
	const char *status = json_text(d, "status");
	const char *error = json_text(d, "error");
	const char *cause = json_text(d, "cause");
	static const char *const names[] = {"state", "type", "status", "runs", "started", "time"};
	char	  **cells = xmalloc(sizeof(char *) * 6 * (log->nstates ? log->nstates : 1));

	printf("\033[H\033[2J\033[1mpg_outbox sfn watch — %s (%s)\033[0m\n", json_text(d, "name") ? json_text(d, "name") : "",
		   machine_name(json_text(d, "stateMachineArn")));
	printf("status %s%s\033[0m   elapsed %.3f s   events %d\n", outcome_color(status ? status : ""),
		   status ? status : "?", now - start, log->last_id);
	if (error || cause)
		printf("error %s%s%s\n", error ? error : "", cause ? ": " : "", cause ? cause : "");
	putchar('\n');
	for (int i = 0; i < log->nstates; i++)
	{
		const StateRun *s = &log->states[i];
		double		end = s->entered > s->closed ? now : s->last_close;
		char		buf[64];

		cells[i * 6] = xstrdup(s->name);
		cells[i * 6 + 1] = xstrdup(s->type);
		cells[i * 6 + 2] = xstrdup(outcome_word(s));
		snprintf(buf, sizeof(buf), "%d", s->entered);
		cells[i * 6 + 3] = xstrdup(buf);
		snprintf(buf, sizeof(buf), "+%.3fs", s->first > start ? s->first - start : 0.0);
		cells[i * 6 + 4] = xstrdup(buf);
		snprintf(buf, sizeof(buf), "%.3fs", end > s->first ? end - s->first : 0.0);
		cells[i * 6 + 5] = xstrdup(buf);
	}
	if (log->nstates == 0)
		printf("(no state entered yet)\n");
	else
	{
		/* the status column in color: print the table by hand */
		int			width[6];

		for (int c = 0; c < 6; c++)
		{
			width[c] = display_width(names[c]);
			for (int r = 0; r < log->nstates; r++)
				if (display_width(cells[r * 6 + c]) > width[c])
					width[c] = display_width(cells[r * 6 + c]);
		}
		printf("\033[1m");
		for (int c = 0; c < 6; c++)
		{
			if (c)
				fputs("  ", stdout);
			print_padded(names[c], c == 5 ? 0 : width[c]);
		}
		printf("\033[0m\n");
		for (int r = 0; r < log->nstates; r++)
		{
			for (int c = 0; c < 6; c++)
			{
				if (c)
					fputs("  ", stdout);
				if (c == 2)
					fputs(outcome_color(cells[r * 6 + c]), stdout);
				print_padded(cells[r * 6 + c], c == 5 ? 0 : width[c]);
				if (c == 2)
					fputs("\033[0m", stdout);
			}
			putchar('\n');
		}
	}
	for (int i = 0; i < log->nstates * 6; i++)
		free(cells[i]);
	free(cells);
	fflush(stdout);
}

static int
sfn_watch(int argc, char **argv)
{
	const char *arn = NULL;
	int			interval = 500;
	bool		tty = isatty(STDOUT_FILENO);
	const char *params[4];
	char		after[16];
	PGconn	   *conn;
	PGresult   *res;
	EventLog	log;
	json_object *d = NULL;
	bool		ended = false;
	double		start;
	int			rc;

	if (cli_wants_help(argc, argv,
					   "Usage: pg_outbox sfn watch EXECUTION_ARN [--interval MS]\n"
					   "Follow an execution until it ends, polling every --interval milliseconds (500).\n"
					   "On a terminal, a screen redrawn with each state seen so far: its type, status\n"
					   "(running, succeeded, caught, failed, aborted), runs, when it started and how long\n"
					   "it took; otherwise each new event on a line (id, time, type, state, details), then\n"
					   "the execution's status.  With --json: each new event as a JSON object on a line.\n"
					   "Exits 0 when the execution succeeds, 1 otherwise.\n"))
		return 0;
	for (int i = 1; i < argc; i++)
	{
		const char *v;

		if ((v = cli_option(argc, argv, &i, "--interval")) != NULL)
			interval = cli_int(v, "--interval", 10, 60000);
		else if (argv[i][0] == '-' && argv[i][1] != '\0')
			cli_usage_error("sfn watch: unknown option \"%s\"", argv[i]);
		else if (arn == NULL)
			arn = argv[i];
		else
			cli_usage_error("sfn watch: too many arguments");
	}
	if (arn == NULL)
		cli_usage_error("sfn watch: an execution ARN is required");
	if (cli.json)
		tty = false;

	conn = cli_connect();
	memset(&log, 0, sizeof(log));
	start = 0;
	while (!ended)
	{
		int			before = log.nevents;
		double		server_now;

		/* the status first: when it has ended, the history read next is complete */
		if (d)
			json_object_put(d);
		params[0] = arn;
		res = cli_exec(conn, "SELECT d, extract(epoch FROM (d ->> 'startDate')::timestamptz),"
					   " extract(epoch FROM coalesce((d ->> 'stopDate')::timestamptz, clock_timestamp()))"
					   " FROM outbox.describe_execution($1) AS d", 1, params);
		d = json_tokener_parse(PQgetvalue(res, 0, 0));
		start = atof(PQgetvalue(res, 0, 1));
		server_now = atof(PQgetvalue(res, 0, 2));
		PQclear(res);
		if (d == NULL)
		{
			fprintf(stderr, "%s: the server's description of \"%s\" is not JSON\n", progname, arn);
			exit(EXIT_SQL);
		}
		ended = execution_ended(json_text(d, "status"));

		snprintf(after, sizeof(after), "%d", log.last_id);
		params[0] = arn;
		params[1] = "false";
		params[2] = tty ? "false" : "true";	/* the screen shows no data */
		params[3] = after;
		res = cli_exec(conn, HISTORY_SQL, 4, params);
		log_add_rows(&log, res);
		PQclear(res);
		log_process(&log, before);

		if (tty)
			draw_watch(&log, d, start, server_now);
		else
		{
			for (int i = before; i < log.nevents; i++)
			{
				if (cli.json)
					print_event_json(&log, &log.events[i]);
				else
					print_event_line(&log, &log.events[i]);
			}
			fflush(stdout);
		}
		if (!ended)
			sleep_ms(interval);
	}
	rc = strcmp(json_text(d, "status"), "SUCCEEDED") == 0 ? 0 : EXIT_SQL;
	if (!tty && !cli.json)
	{
		const char *error = json_text(d, "error");
		const char *cause = json_text(d, "cause");

		params[0] = json_text(d, "startDate");
		params[1] = json_text(d, "stopDate");
		printf("execution %s %s", json_text(d, "name") ? json_text(d, "name") : "", json_text(d, "status"));
		if (params[1])
		{
			res = cli_exec(conn, "SELECT round(extract(epoch FROM $2::timestamptz - $1::timestamptz), 3)", 2, params);
			printf(" after %s s", PQgetvalue(res, 0, 0));
			PQclear(res);
		}
		if (error || cause)
			printf(": %s%s%s", error ? error : "", error && cause ? ": " : "", cause ? cause : "");
		printf("\n");
	}
	json_object_put(d);
	PQfinish(conn);
	return rc;
}

/* ---------------------------------------------------------------------------
 * graph
 * ---------------------------------------------------------------------------
 */

static int
sfn_graph(int argc, char **argv)
{
	const char *machine = NULL;
	const char *format = "dot";
	const char *execution = NULL;
	const char *params[2];
	PGconn	   *conn;
	PGresult   *res;
	const char *graph;

	if (cli_wants_help(argc, argv,
					   "Usage: pg_outbox sfn graph NAME [--format dot|mermaid]\n"
					   "       pg_outbox sfn graph [NAME] --execution EXECUTION_ARN [--format dot|mermaid]\n"
					   "Print state machine NAME as a Graphviz (dot, the default) or Mermaid graph; with\n"
					   "--execution, an execution of it, its states marked with how they ran.\n"
					   "  pg_outbox sfn graph orders | dot -Tsvg > orders.svg\n"
					   "With --json: {\"format\", \"graph\"}.\n"))
		return 0;
	for (int i = 1; i < argc; i++)
	{
		const char *v;

		if ((v = cli_option(argc, argv, &i, "--format")) != NULL)
		{
			if (strcmp(v, "dot") != 0 && strcmp(v, "mermaid") != 0)
				cli_usage_error("sfn graph: --format must be dot or mermaid, not \"%s\"", v);
			format = v;
		}
		else if ((v = cli_option(argc, argv, &i, "--execution")) != NULL)
			execution = v;
		else if (argv[i][0] == '-' && argv[i][1] != '\0')
			cli_usage_error("sfn graph: unknown option \"%s\"", argv[i]);
		else if (machine == NULL)
			machine = argv[i];
		else
			cli_usage_error("sfn graph: too many arguments");
	}
	if (machine == NULL && execution == NULL)
		cli_usage_error("sfn graph: a state machine name (or --execution ARN) is required");
	conn = cli_connect();
	if (execution)
	{
		if (machine)
		{
			json_object *d = describe_execution(conn, execution);
			const char *of = machine_name(json_text(d, "stateMachineArn"));

			if (strcmp(of, machine) != 0)
			{
				fprintf(stderr, "%s: execution \"%s\" belongs to state machine \"%s\", not \"%s\"\n",
						progname, execution, of, machine);
				json_object_put(d);
				PQfinish(conn);
				return EXIT_USAGE;
			}
			json_object_put(d);
		}
		params[0] = execution;
		params[1] = format;
		res = cli_exec(conn, "SELECT outbox.execution_graph($1::text, $2::text)", 2, params);
	}
	else
	{
		params[0] = machine;
		params[1] = format;
		res = cli_exec(conn, "SELECT outbox.state_machine_graph($1::text, $2::text)", 2, params);
	}
	graph = PQgetvalue(res, 0, 0);
	if (cli.json)
	{
		json_object *o = json_object_new_object();

		json_object_object_add(o, "format", json_object_new_string(format));
		json_object_object_add(o, "graph", json_object_new_string(graph));
		cli_print_json(o);
		json_object_put(o);
	}
	else
	{
		size_t		n = strlen(graph);

		fputs(graph, stdout);
		if (n == 0 || graph[n - 1] != '\n')
			putchar('\n');
	}
	PQclear(res);
	PQfinish(conn);
	return 0;
}

/* ---------------------------------------------------------------------------
 * Dispatch
 * ---------------------------------------------------------------------------
 */

int
cmd_sfn(int argc, char **argv)
{
	const char *sub;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-?") == 0 ||
		strcmp(argv[1], "help") == 0)
	{
		fputs(sfn_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	sub = argv[1];
	argc--;
	argv++;
	if (strcmp(sub, "deploy") == 0)
		return sfn_deploy(argc, argv);
	if (strcmp(sub, "start") == 0)
		return sfn_start(argc, argv);
	if (strcmp(sub, "describe") == 0)
		return sfn_describe(argc, argv);
	if (strcmp(sub, "history") == 0)
		return sfn_history(argc, argv);
	if (strcmp(sub, "list") == 0)
		return sfn_list(argc, argv);
	if (strcmp(sub, "stop") == 0)
		return sfn_stop(argc, argv);
	if (strcmp(sub, "watch") == 0)
		return sfn_watch(argc, argv);
	if (strcmp(sub, "graph") == 0)
		return sfn_graph(argc, argv);
	cli_usage_error("unknown sfn command \"%s\" (see pg_outbox sfn --help)", sub);
}
