/*-------------------------------------------------------------------------
 *
 * consume.c
 *	  pg_outbox consume QUEUE -- COMMAND...: a consumer loop for shell
 *	  commands.
 *
 * The loop long-polls the queue, runs COMMAND once per message (the body
 * on its standard input, the message's id, receive count and attributes in
 * its environment), deletes the message when COMMAND exits 0, and leaves it
 * to the queue's visibility timeout and redrive policy otherwise (or hides
 * it for --backoff seconds).  While a command runs, the message's
 * visibility is extended before it expires (a heartbeat), so a slow
 * command never has its message handed to another consumer.
 *
 * Stopping: SIGINT or SIGTERM stops receiving (a long poll in progress is
 * cancelled, which receives nothing), lets the running commands finish and
 * settles their messages, then exits 0: nothing is lost or run twice.
 * Connection loss (a server restart) is retried with back-off; a message
 * whose deletion could not be confirmed comes back after its visibility
 * timeout (at-least-once).
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/cli/consume.c
 *
 *-------------------------------------------------------------------------
 */
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

typedef struct Job
{
	pid_t		pid;
	char	   *handle;
	char	   *message_id;
	double		visible_until;	/* when the message would become visible again */
} Job;

static volatile sig_atomic_t stop_requested = 0;
static PGcancel *volatile current_cancel = NULL;

static void
on_stop(int sig)
{
	stop_requested = 1;
	if (current_cancel)
	{
		char		err[256];

		(void) PQcancel(current_cancel, err, sizeof(err));
	}
}

static double
now_seconds(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return tv.tv_sec + tv.tv_usec / 1e6;
}

static void
sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* Connect, retrying with back-off until it works or a stop is requested. */
static PGconn *
connect_retrying(void)
{
	int			delay = 250;

	for (;;)
	{
		PGconn	   *conn;
		const char *keys[5] = {"dbname", "host", "port", "user", NULL};
		const char *vals[5] = {cli.conninfo, cli.host, cli.port, cli.user, NULL};

		conn = PQconnectdbParams(keys, vals, 1);
		if (PQstatus(conn) == CONNECTION_OK)
			return conn;
		fprintf(stderr, "%s: consume: could not connect, retrying: %s", progname, PQerrorMessage(conn));
		PQfinish(conn);
		if (stop_requested)
			return NULL;
		sleep_ms(delay);
		delay = delay < 8000 ? delay * 2 : 10000;
	}
}

/* Run a statement, reconnecting once if the connection was lost. */
static PGresult *
exec_robust(PGconn **conn, const char *sql, int n, const char *const *params, bool *lost)
{
	PGresult   *res;

	*lost = false;
	if (PQstatus(*conn) != CONNECTION_OK)
	{
		PQreset(*conn);
		if (PQstatus(*conn) != CONNECTION_OK)
		{
			*lost = true;
			return NULL;
		}
	}
	res = PQexecParams(*conn, sql, n, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) == PGRES_TUPLES_OK || PQresultStatus(res) == PGRES_COMMAND_OK)
		return res;
	if (PQstatus(*conn) != CONNECTION_OK)
		*lost = true;
	else
		cli_report(res);
	PQclear(res);
	return NULL;
}

static void
set_env_name(const char *prefix, const char *name, const char *value)
{
	char		buf[512];
	size_t		n = snprintf(buf, sizeof(buf), "%s", prefix);

	for (const char *p = name; *p && n < sizeof(buf) - 1; p++)
		buf[n++] = isalnum((unsigned char) *p) ? toupper((unsigned char) *p) : '_';
	buf[n] = '\0';
	setenv(buf, value, 1);
}

/* Fork COMMAND for one message; the body goes to its standard input. */
static pid_t
start_command(char **command, const char *queue, PGresult *res, int t)
{
	int			pipefd[2];
	pid_t		pid;
	const char *body = PQgetvalue(res, t, 2);
	size_t		len = PQgetlength(res, t, 2);

	if (pipe(pipefd) != 0)
		return -1;
	pid = fork();
	if (pid < 0)
	{
		close(pipefd[0]);
		close(pipefd[1]);
		return -1;
	}
	if (pid == 0)
	{
		json_object *attrs = json_tokener_parse(PQgetvalue(res, t, 4));

		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		dup2(pipefd[0], 0);
		close(pipefd[0]);
		close(pipefd[1]);
		setenv("OUTBOX_QUEUE", queue, 1);
		setenv("OUTBOX_MESSAGE_ID", PQgetvalue(res, t, 0), 1);
		setenv("OUTBOX_RECEIVE_COUNT", PQgetvalue(res, t, 3), 1);
		if (attrs)
		{
			json_object_object_foreach(attrs, key, val)
			{
				json_object *sv;

				if (json_object_object_get_ex(val, "StringValue", &sv))
					set_env_name("OUTBOX_ATTR_", key, json_object_get_string(sv));
			}
		}
		execvp(command[0], command);
		fprintf(stderr, "%s: consume: cannot run \"%s\": %s\n", progname, command[0], strerror(errno));
		_exit(127);
	}
	close(pipefd[0]);
	/* the body: the command may not read it all (SIGPIPE is ignored) */
	for (size_t off = 0; off < len;)
	{
		ssize_t		w = write(pipefd[1], body + off, len - off);

		if (w <= 0)
			break;
		off += w;
	}
	close(pipefd[1]);
	return pid;
}

int
cmd_consume(int argc, char **argv)
{
	const char *queue = NULL;
	int			concurrency = 1;
	int			wait = 20;
	int			visibility = 30;
	int			backoff = -1;
	long		limit = -1;
	bool		exit_when_empty = false;
	char	  **command = NULL;
	PGconn	   *conn;
	Job		   *jobs;
	long		processed = 0;
	long		failed = 0;
	struct sigaction sa;

	for (int i = 1; i < argc; i++)
	{
		const char *v;

		if (strcmp(argv[i], "--help") == 0)
		{
			printf("Usage: pg_outbox consume QUEUE [OPTIONS] -- COMMAND [ARGS...]\n"
				   "Run COMMAND once per message: the body on standard input; OUTBOX_QUEUE,\n"
				   "OUTBOX_MESSAGE_ID, OUTBOX_RECEIVE_COUNT and OUTBOX_ATTR_<NAME> (String and\n"
				   "Number attributes) in the environment.  Exit status 0 deletes the message;\n"
				   "anything else leaves it to the visibility timeout and the redrive policy.\n"
				   "  --concurrency N       run up to N commands at once (default 1)\n"
				   "  --visibility SECONDS  visibility timeout of received messages, renewed while\n"
				   "                        the command runs (default 30)\n"
				   "  --wait SECONDS        long-poll wait (default 20)\n"
				   "  --backoff SECONDS     after a failure, hide the message this long instead of\n"
				   "                        waiting out its visibility timeout\n"
				   "  --limit N             stop after N messages\n"
				   "  --exit-when-empty     stop when a receive finds nothing\n"
				   "SIGINT/SIGTERM: no new messages; running commands finish and are settled.\n");
			return 0;
		}
		if (strcmp(argv[i], "--") == 0)
		{
			command = argv + i + 1;
			break;
		}
		if ((v = cli_option(argc, argv, &i, "--concurrency")) != NULL)
			concurrency = cli_int(v, "--concurrency", 1, 256);
		else if ((v = cli_option(argc, argv, &i, "--visibility")) != NULL)
			visibility = cli_int(v, "--visibility", 2, 43200);
		else if ((v = cli_option(argc, argv, &i, "--wait")) != NULL)
			wait = cli_int(v, "--wait", 0, 20);
		else if ((v = cli_option(argc, argv, &i, "--backoff")) != NULL)
			backoff = cli_int(v, "--backoff", 0, 43200);
		else if ((v = cli_option(argc, argv, &i, "--limit")) != NULL)
			limit = cli_int(v, "--limit", 1, 2000000000);
		else if (strcmp(argv[i], "--exit-when-empty") == 0)
			exit_when_empty = true;
		else if (argv[i][0] == '-')
			cli_usage_error("consume: unknown option \"%s\"", argv[i]);
		else if (queue == NULL)
			queue = argv[i];
		else
			cli_usage_error("consume: unexpected argument \"%s\" (put the command after --)", argv[i]);
	}
	if (queue == NULL)
		cli_usage_error("consume: a queue name is required");
	if (command == NULL || command[0] == NULL)
		cli_usage_error("consume: a command is required after --");

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	conn = cli_connect();
	{
		/* fail early and clearly on a queue that does not exist */
		const char *p[1] = {queue};
		PGresult   *res = cli_exec(conn, "SELECT outbox.get_queue_attributes($1, '{QueueArn}')", 1, p);

		PQclear(res);
	}
	jobs = calloc(concurrency, sizeof(Job));

	for (;;)
	{
		int			running = 0;
		int			free_slots;

		for (int j = 0; j < concurrency; j++)
			if (jobs[j].pid > 0)
				running++;
		free_slots = concurrency - running;
		if (limit >= 0 && processed + failed + running >= limit)
			free_slots = 0;

		/* receive for the free slots; long-poll only when nothing runs */
		if (free_slots > 0 && !stop_requested)
		{
			char		nbuf[16];
			char		vbuf[16];
			char		wbuf[16];
			const char *p[4];
			PGresult   *res;
			bool		lost;

			snprintf(nbuf, sizeof(nbuf), "%d", free_slots);
			snprintf(vbuf, sizeof(vbuf), "%d", visibility);
			snprintf(wbuf, sizeof(wbuf), "%d", running > 0 ? 0 : wait);
			p[0] = queue;
			p[1] = nbuf;
			p[2] = vbuf;
			p[3] = wbuf;
			current_cancel = PQgetCancel(conn);
			res = exec_robust(&conn, "SELECT message_id, receipt_handle, body, receive_count,"
							  " coalesce(message_attributes, '{}')"
							  " FROM outbox.receive_message($1, $2::integer, $3::integer, $4::integer)",
							  4, p, &lost);
			{
				PGcancel   *c = current_cancel;

				current_cancel = NULL;
				if (c)
					PQfreeCancel(c);
			}
			if (res == NULL && lost)
			{
				PQfinish(conn);
				if ((conn = connect_retrying()) == NULL)
					break;
				continue;
			}
			if (res == NULL && !stop_requested)
			{
				/* the server refused: report (done), pause, go on */
				sleep_ms(1000);
				continue;
			}
			if (res)
			{
				double		t0 = now_seconds();

				for (int t = 0, j = 0; t < PQntuples(res); t++)
				{
					while (jobs[j].pid > 0)
						j++;
					jobs[j].pid = start_command(command, queue, res, t);
					if (jobs[j].pid < 0)
					{
						fprintf(stderr, "%s: consume: could not start the command: %s\n", progname, strerror(errno));
						jobs[j].pid = 0;
						continue;
					}
					jobs[j].handle = strdup(PQgetvalue(res, t, 1));
					jobs[j].message_id = strdup(PQgetvalue(res, t, 0));
					jobs[j].visible_until = t0 + visibility;
					running++;
				}
				if (PQntuples(res) == 0 && running == 0 && exit_when_empty)
				{
					PQclear(res);
					break;
				}
				PQclear(res);
			}
		}

		if (running == 0)
		{
			if (stop_requested || (limit >= 0 && processed + failed >= limit))
				break;
			continue;
		}

		/* wait a little for commands; settle the ones that finished */
		sleep_ms(running >= concurrency || stop_requested ? 20 : 2);
		for (int j = 0; j < concurrency; j++)
		{
			int			status;
			pid_t		r;
			const char *p[3];
			char		vbuf[16];
			PGresult   *res;
			bool		lost;

			if (jobs[j].pid <= 0)
				continue;
			r = waitpid(jobs[j].pid, &status, WNOHANG);
			p[0] = queue;
			p[1] = jobs[j].handle;
			if (r == 0)
			{
				/* still running: renew the visibility before it runs out */
				if (now_seconds() > jobs[j].visible_until - visibility / 3.0)
				{
					snprintf(vbuf, sizeof(vbuf), "%d", visibility);
					p[2] = vbuf;
					res = exec_robust(&conn, "SELECT outbox.change_message_visibility($1, $2, $3::integer)",
									  3, p, &lost);
					if (res)
					{
						jobs[j].visible_until = now_seconds() + visibility;
						PQclear(res);
					}
				}
				continue;
			}
			if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			{
				res = exec_robust(&conn, "SELECT outbox.delete_message($1, $2)", 2, p, &lost);
				processed++;
			}
			else
			{
				failed++;
				if (WIFEXITED(status))
					fprintf(stderr, "%s: consume: message %s: command exited with status %d\n",
							progname, jobs[j].message_id, WEXITSTATUS(status));
				else
					fprintf(stderr, "%s: consume: message %s: command killed by signal %d\n",
							progname, jobs[j].message_id, WTERMSIG(status));
				res = NULL;
				if (backoff >= 0)
				{
					snprintf(vbuf, sizeof(vbuf), "%d", backoff);
					p[2] = vbuf;
					res = exec_robust(&conn, "SELECT outbox.change_message_visibility($1, $2, $3::integer)",
									  3, p, &lost);
				}
			}
			if (res)
				PQclear(res);
			free(jobs[j].handle);
			free(jobs[j].message_id);
			jobs[j].pid = 0;
		}
	}

	if (cli.json)
		printf("{\"Processed\": %ld, \"Failed\": %ld}\n", processed, failed);
	else if (!cli.quiet)
		fprintf(stderr, "%s: consume: %ld processed, %ld failed\n", progname, processed, failed);
	if (conn)
		PQfinish(conn);
	free(jobs);
	return 0;
}
