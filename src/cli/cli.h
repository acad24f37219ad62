/*-------------------------------------------------------------------------
 *
 * cli.h
 *	  The pg_outbox command-line client: shared declarations.
 *
 * The client is a plain libpq program; json-c builds and reads the JSON it
 * exchanges with the server and prints with --json.  Every subcommand
 * calls the SQL API with parameters (never by pasting text into SQL).
 *
 * Exit codes: 0 success, 1 the server refused (an SQL error), 2 bad usage
 * or input, 3 no connection.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/cli/cli.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef OUTBOX_CLI_H
#define OUTBOX_CLI_H

#include <stdbool.h>
#include <json-c/json.h>
#include <libpq-fe.h>

#define EXIT_SQL		1
#define EXIT_USAGE		2
#define EXIT_CONNECT	3

typedef struct CliOptions
{
	const char *conninfo;		/* -d / --dbname: a name or a connection string */
	const char *host;
	const char *port;
	const char *user;
	bool		json;			/* --json: machine-readable output */
	bool		quiet;
} CliOptions;

extern CliOptions cli;
extern const char *progname;

/* cli.c */
extern PGconn *cli_connect(void);
extern PGresult *cli_exec(PGconn *conn, const char *sql, int nparams, const char *const *params);
extern PGresult *cli_try(PGconn *conn, const char *sql, int nparams, const char *const *params);
extern void cli_report(PGresult *res);
extern void cli_usage_error(const char *fmt,...) __attribute__((format(printf, 1, 2), noreturn));
extern char *cli_read_stdin(void);
extern void cli_print_json(json_object *obj);
extern void cli_print_columns(PGresult *res, const int *cols, const char *const *names, int n);

/* an option of a command: "--name value" or "--name=value"; NULL if not it */
extern const char *cli_option(int argc, char **argv, int *i, const char *name);
extern int	cli_int(const char *value, const char *option, int lo, int hi);
extern bool cli_wants_help(int argc, char **argv, const char *text);
extern void cli_add_attribute(json_object *attrs, const char *spec, const char *type);

/* queue.c */
extern int	cmd_send(int argc, char **argv);
extern int	cmd_receive(int argc, char **argv);
extern int	cmd_delete(int argc, char **argv);
extern int	cmd_purge(int argc, char **argv);
extern int	cmd_queues(int argc, char **argv);

/* events.c */
extern int	cmd_publish(int argc, char **argv);
extern int	cmd_put_events(int argc, char **argv);
extern int	cmd_tail(int argc, char **argv);

/* stats.c */
extern int	cmd_stats(int argc, char **argv);

/* consume.c */
extern int	cmd_consume(int argc, char **argv);

/* sfn.c */
extern int	cmd_sfn(int argc, char **argv);

#endif							/* OUTBOX_CLI_H */
