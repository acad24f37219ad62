/*-------------------------------------------------------------------------
 *
 * cli.c
 *	  pg_outbox, the command-line client: options, connection, dispatch,
 *	  error reporting and output.
 *
 * Connection options are libpq's: -d takes a database name or any
 * connection string (URI or key=value, service=...), -h/-p/-U override,
 * and PGHOST, PGDATABASE, PGSERVICE and the rest of libpq's environment
 * apply.  Server errors print with their SQLSTATE, detail and hint.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/cli/cli.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

CliOptions	cli;
const char *progname = "pg_outbox";

static void
usage(FILE *out)
{
	fprintf(out,
			"pg_outbox: queues, topics, event buses and state machines of a PostgreSQL\n"
			"database with the pg_outbox extension, from the shell\n"
			"\n"
			"Usage:\n"
			"  pg_outbox [CONNECTION] [--json] COMMAND [ARGS]\n"
			"\n"
			"Commands:\n"
			"  send QUEUE [BODY|-]     send a message (BODY, or stdin with - or no BODY)\n"
			"  receive QUEUE           receive messages (they stay until deleted)\n"
			"  delete QUEUE HANDLE...  delete received messages by receipt handle\n"
			"  purge QUEUE             delete every message of a queue\n"
			"  queues                  list queues with their depth\n"
			"  consume QUEUE -- CMD... run CMD for every message, deleting it when CMD succeeds\n"
			"  publish TOPIC [MSG|-]   publish a message to a topic\n"
			"  put-events [BUS]        put events read as JSON lines from stdin\n"
			"  tail TOPIC | --bus BUS  print what a topic or bus carries, live, until stopped\n"
			"  stats                   a live view of queues, topics, buses, workers and due work\n"
			"  sfn COMMAND             state machines: deploy, start, describe, history, list,\n"
			"                          stop, watch, graph (see pg_outbox sfn --help)\n"
			"\n"
			"Run \"pg_outbox COMMAND --help\" for a command's options.\n"
			"\n"
			"Connection (libpq; the environment, PGSERVICE and service files apply):\n"
			"  -d, --dbname=NAME|CONNSTR   database name or connection string\n"
			"  -h, --host=HOST             server host or socket directory\n"
			"  -p, --port=PORT             server port\n"
			"  -U, --username=USER         user name\n"
			"\n"
			"Output:\n"
			"  --json                      one JSON object per line instead of tables\n"
			"  -q, --quiet                 print nothing on success (send, delete, purge)\n"
			"\n"
			"Exit status: 0 success, 1 the server refused (SQL error), 2 bad usage or input,\n"
			"3 no connection.\n");
}

void
cli_usage_error(const char *fmt,...)
{
	va_list		ap;

	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(EXIT_USAGE);
}

/* Connect with the global options, or exit 3. */
PGconn *
cli_connect(void)
{
	const char *keys[6];
	const char *vals[6];
	int			n = 0;
	PGconn	   *conn;

	if (cli.conninfo)
	{
		keys[n] = "dbname";
		vals[n++] = cli.conninfo;
	}
	if (cli.host)
	{
		keys[n] = "host";
		vals[n++] = cli.host;
	}
	if (cli.port)
	{
		keys[n] = "port";
		vals[n++] = cli.port;
	}
	if (cli.user)
	{
		keys[n] = "user";
		vals[n++] = cli.user;
	}
	keys[n] = "application_name";
	vals[n++] = "pg_outbox";
	keys[n] = NULL;
	vals[n] = NULL;
	conn = PQconnectdbParams(keys, vals, 1);
	if (conn == NULL || PQstatus(conn) != CONNECTION_OK)
	{
		fprintf(stderr, "%s: could not connect: %s", progname,
				conn ? PQerrorMessage(conn) : "out of memory\n");
		if (conn)
			PQfinish(conn);
		exit(EXIT_CONNECT);
	}
	return conn;
}

/* Print a server error: "pg_outbox: ERROR 42704: queue "x" does not exist" + detail/hint. */
void
cli_report(PGresult *res)
{
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
	const char *hint = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT);

	if (msg == NULL)
	{
		fprintf(stderr, "%s: %s", progname, PQresultErrorMessage(res));
		return;
	}
	fprintf(stderr, "%s: ERROR %s: %s\n", progname, state ? state : "?????", msg);
	if (detail)
		fprintf(stderr, "DETAIL: %s\n", detail);
	if (hint)
		fprintf(stderr, "HINT: %s\n", hint);
}

/* Run a statement; NULL (after reporting) on error. */
PGresult *
cli_try(PGconn *conn, const char *sql, int nparams, const char *const *params)
{
	PGresult   *res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(res);

	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
		return res;
	cli_report(res);
	PQclear(res);
	return NULL;
}

/* Run a statement; exit 1 (or 3 when the connection is gone) on error. */
PGresult *
cli_exec(PGconn *conn, const char *sql, int nparams, const char *const *params)
{
	PGresult   *res = cli_try(conn, sql, nparams, params);

	if (res == NULL)
		exit(PQstatus(conn) == CONNECTION_OK ? EXIT_SQL : EXIT_CONNECT);
	return res;
}

char *
cli_read_stdin(void)
{
	size_t		cap = 8192;
	size_t		len = 0;
	char	   *buf = malloc(cap);
	size_t		n;

	if (buf == NULL)
		cli_usage_error("out of memory");
	while ((n = fread(buf + len, 1, cap - len - 1, stdin)) > 0)
	{
		len += n;
		if (len + 1 >= cap)
		{
			cap *= 2;
			buf = realloc(buf, cap);
			if (buf == NULL)
				cli_usage_error("out of memory");
		}
	}
	buf[len] = '\0';
	return buf;
}

void
cli_print_json(json_object *obj)
{
	puts(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* An aligned table of some columns of a result, for people. */
void
cli_print_columns(PGresult *res, const int *cols, const char *const *names, int n)
{
	int			nt = PQntuples(res);
	int		   *width = calloc(n, sizeof(int));

	for (int c = 0; c < n; c++)
	{
		width[c] = strlen(names[c]);
		for (int t = 0; t < nt; t++)
			if (PQgetlength(res, t, cols[c]) > width[c])
				width[c] = PQgetlength(res, t, cols[c]);
	}
	for (int c = 0; c < n; c++)
		printf("%s%-*s", c ? "  " : "", c == n - 1 ? 0 : width[c], names[c]);
	printf("\n");
	for (int t = 0; t < nt; t++)
	{
		for (int c = 0; c < n; c++)
			printf("%s%-*s", c ? "  " : "", c == n - 1 ? 0 : width[c], PQgetvalue(res, t, cols[c]));
		printf("\n");
	}
	free(width);
}

int
main(int argc, char **argv)
{
	int			i = 1;
	const char *cmd;
	int			rc = 0;

	memset(&cli, 0, sizeof(cli));
	/* global options, before the command */
	for (; i < argc && argv[i][0] == '-'; i++)
	{
		const char *a = argv[i];
		const char **target = NULL;
		const char *value = NULL;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-?") == 0)
		{
			usage(stdout);
			return 0;
		}
		if (strcmp(a, "--version") == 0)
		{
			printf("pg_outbox (client) 0.1.0\n");
			return 0;
		}
		if (strcmp(a, "--json") == 0)
		{
			cli.json = true;
			continue;
		}
		if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0)
		{
			cli.quiet = true;
			continue;
		}
		if (strcmp(a, "-d") == 0 || strncmp(a, "--dbname", 8) == 0)
			target = &cli.conninfo;
		else if (strcmp(a, "-h") == 0 || strncmp(a, "--host", 6) == 0)
			target = &cli.host;
		else if (strcmp(a, "-p") == 0 || strncmp(a, "--port", 6) == 0)
			target = &cli.port;
		else if (strcmp(a, "-U") == 0 || strncmp(a, "--username", 10) == 0)
			target = &cli.user;
		else
			cli_usage_error("unknown option \"%s\" (see pg_outbox --help)", a);
		value = strchr(a, '=') && a[1] == '-' ? strchr(a, '=') + 1 : NULL;
		if (value == NULL)
		{
			if (i + 1 >= argc)
				cli_usage_error("option \"%s\" needs a value", a);
			value = argv[++i];
		}
		*target = value;
	}
	if (i >= argc)
	{
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd = argv[i];
	argc -= i;
	argv += i;

	if (strcmp(cmd, "consume") == 0)
		rc = cmd_consume(argc, argv);
	else if (strcmp(cmd, "send") == 0)
		rc = cmd_send(argc, argv);
	else if (strcmp(cmd, "receive") == 0)
		rc = cmd_receive(argc, argv);
	else if (strcmp(cmd, "delete") == 0)
		rc = cmd_delete(argc, argv);
	else if (strcmp(cmd, "purge") == 0)
		rc = cmd_purge(argc, argv);
	else if (strcmp(cmd, "queues") == 0)
		rc = cmd_queues(argc, argv);
	else if (strcmp(cmd, "publish") == 0)
		rc = cmd_publish(argc, argv);
	else if (strcmp(cmd, "put-events") == 0)
		rc = cmd_put_events(argc, argv);
	else if (strcmp(cmd, "tail") == 0)
		rc = cmd_tail(argc, argv);
	else if (strcmp(cmd, "stats") == 0)
		rc = cmd_stats(argc, argv);
	else if (strcmp(cmd, "sfn") == 0)
		rc = cmd_sfn(argc, argv);
	else
		cli_usage_error("unknown command \"%s\" (see pg_outbox --help)", cmd);
	return rc;
}

/* --help anywhere in a command's arguments: print its text, true */
bool
cli_wants_help(int argc, char **argv, const char *text)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0)
		{
			fputs(text, stdout);
			return true;
		}
	return false;
}

/* --attr NAME=VALUE into a message-attributes object of the given DataType */
void
cli_add_attribute(json_object *attrs, const char *spec, const char *type)
{
	const char *eq = strchr(spec, '=');
	char	   *name;
	json_object *a;

	if (eq == NULL || eq == spec)
		cli_usage_error("invalid attribute \"%s\": NAME=VALUE is expected", spec);
	name = strndup(spec, eq - spec);
	a = json_object_new_object();
	json_object_object_add(a, "DataType", json_object_new_string(type));
	json_object_object_add(a, "StringValue", json_object_new_string(eq + 1));
	json_object_object_add(attrs, name, a);
	free(name);
}

const char *
cli_option(int argc, char **argv, int *i, const char *name)
{
	size_t		n = strlen(name);
	const char *a = argv[*i];

	if (strncmp(a, name, n) != 0)
		return NULL;
	if (a[n] == '=')
		return a + n + 1;
	if (a[n] != '\0')
		return NULL;
	if (*i + 1 >= argc)
		cli_usage_error("option \"%s\" needs a value", name);
	return argv[++*i];
}

int
cli_int(const char *value, const char *option, int lo, int hi)
{
	char	   *end;
	long		v = strtol(value, &end, 10);

	if (*value == '\0' || *end != '\0' || v < lo || v > hi)
		cli_usage_error("invalid value \"%s\" for %s: an integer from %d to %d is expected",
						value, option, lo, hi);
	return (int) v;
}
