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
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "consume_int.h"

/* A received message: waiting for a free slot, or running (pid > 0). */
typedef struct Held
{
	char	   *handle;
	char	   *message_id;
	char	   *body;
	size_t		body_len;
	char	   *receive_count;
	char	   *attributes;
	pid_t		pid;
	double		visible_until;	/* when the message would become visible again */
} Held;

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

static double now_seconds(void);
static void sleep_ms(int ms);

bool
consume_stop_requested(void)
{
	return stop_requested != 0;
}

void
consume_request_stop(void)
{
	stop_requested = 1;
}

double
consume_now(void)
{
	return now_seconds();
}

void
consume_sleep_ms(int ms)
{
	sleep_ms(ms);
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

/*
 * Spawn attributes for a command: the default dispositions of the signals
 * consume handles or ignores, and the signal mask it had before blocking
 * SIGCHLD.
 */
void
consume_spawnattr(posix_spawnattr_t *attr, const sigset_t *oldmask)
{
	sigset_t	dfl;

	posix_spawnattr_init(attr);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGINT);
	sigaddset(&dfl, SIGTERM);
	sigaddset(&dfl, SIGPIPE);
	posix_spawnattr_setsigdefault(attr, &dfl);
	posix_spawnattr_setsigmask(attr, oldmask);
	posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
}

/* "PREFIX" + NAME upper-cased, with anything but letters and digits as _ */
static char *
env_entry(const char *prefix, const char *name, const char *value)
{
	size_t		n = strlen(prefix) + strlen(name) + strlen(value) + 2;
	char	   *e = malloc(n);
	char	   *p = e + sprintf(e, "%s", prefix);

	for (const char *c = name; *c; c++)
		*p++ = isalnum((unsigned char) *c) ? toupper((unsigned char) *c) : '_';
	sprintf(p, "=%s", value);
	return e;
}

/*
 * Start COMMAND for one message with posix_spawn (no copy of this process's
 * page tables): the body on a pipe to its standard input, the message in
 * its environment.
 */
static pid_t
start_command(char **command, const char *queue, Held *m, const sigset_t *oldmask)
{
	extern char **environ;
	int			pipefd[2];
	pid_t		pid;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	json_object *attrs = json_tokener_parse(m->attributes);
	int			nenv = 0;
	int			nextra = 3 + (attrs ? json_object_object_length(attrs) : 0);
	char	  **envp;
	int			rc;

	for (char **e = environ; *e; e++)
		nenv++;
	envp = calloc(nenv + nextra + 1, sizeof(char *));
	for (int i = 0; i < nenv; i++)
		envp[i] = environ[i];
	envp[nenv++] = env_entry("OUTBOX_QUEUE", "", queue);
	envp[nenv++] = env_entry("OUTBOX_MESSAGE_ID", "", m->message_id);
	envp[nenv++] = env_entry("OUTBOX_RECEIVE_COUNT", "", m->receive_count);
	if (attrs)
	{
		json_object_object_foreach(attrs, key, val)
		{
			json_object *sv;

			if (json_object_object_get_ex(val, "StringValue", &sv))
				envp[nenv++] = env_entry("OUTBOX_ATTR_", key, json_object_get_string(sv));
		}
		json_object_put(attrs);
	}

	if (pipe(pipefd) != 0)
		return -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pipefd[0], 0);
	posix_spawn_file_actions_addclose(&fa, pipefd[0]);
	posix_spawn_file_actions_addclose(&fa, pipefd[1]);
	consume_spawnattr(&attr, oldmask);
	rc = posix_spawnp(&pid, command[0], &fa, &attr, command, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	/* free only our own entries (those after the inherited ones) */
	for (int i = 0; environ[i]; i++)
		envp[i] = NULL;
	for (int i = 0; i < nenv; i++)
		free(envp[i]);
	free(envp);
	close(pipefd[0]);
	if (rc != 0)
	{
		close(pipefd[1]);
		errno = rc;
		return -1;
	}
	/* the body: the command may not read it all (SIGPIPE is ignored) */
	for (size_t off = 0; off < m->body_len;)
	{
		ssize_t		w = write(pipefd[1], m->body + off, m->body_len - off);

		if (w <= 0)
			break;
		off += w;
	}
	close(pipefd[1]);
	return pid;
}

static void
free_held(Held *m)
{
	free(m->handle);
	free(m->message_id);
	free(m->body);
	free(m->receive_count);
	free(m->attributes);
	memset(m, 0, sizeof(*m));
}

/* A JSON array of receipt handles, for the batch functions. */
static char *
handles_json(char **handles, int n)
{
	json_object *a = json_object_new_array();
	char	   *s;

	for (int i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_string(handles[i]));
	s = strdup(json_object_to_json_string(a));
	json_object_put(a);
	return s;
}

/* Delete (visibility < 0) or change the visibility of a set of messages. */
void
consume_settle(PGconn **conn, const char *queue, char **handles, int n, int visibility)
{
	char	   *json;
	char		vbuf[16];
	const char *p[3];
	PGresult   *res;
	bool		lost;

	if (n == 0)
		return;
	json = handles_json(handles, n);
	p[0] = queue;
	p[1] = json;
	snprintf(vbuf, sizeof(vbuf), "%d", visibility);
	p[2] = vbuf;
	if (visibility < 0)
		res = exec_robust(conn, "SELECT outbox.delete_message_batch($1,"
						  " ARRAY(SELECT jsonb_array_elements_text($2::jsonb)))", 2, p, &lost);
	else
		res = exec_robust(conn, "SELECT outbox.change_message_visibility_batch($1,"
						  " ARRAY(SELECT jsonb_array_elements_text($2::jsonb)), $3::integer)", 3, p, &lost);
	if (res)
		PQclear(res);
	else if (lost)
		fprintf(stderr, "%s: consume: the connection was lost; %d message(s) come back after their visibility timeout\n",
				progname, n);
	free(json);
}

/*
 * Receive up to n messages (long-polling up to wait seconds), cancellable
 * by a stop request; reconnects when the connection was lost.  NULL when
 * nothing could be received (*conn is NULL when a stop came during a
 * reconnect).
 */
PGresult *
consume_receive(PGconn **conn, const char *queue, int n, int visibility, int wait)
{
	char		nbuf[16];
	char		vbuf[16];
	char		wbuf[16];
	const char *p[4];
	PGresult   *res;
	bool		lost;

	snprintf(nbuf, sizeof(nbuf), "%d", n);
	snprintf(vbuf, sizeof(vbuf), "%d", visibility);
	snprintf(wbuf, sizeof(wbuf), "%d", wait);
	p[0] = queue;
	p[1] = nbuf;
	p[2] = vbuf;
	p[3] = wbuf;
	current_cancel = PQgetCancel(*conn);
	res = exec_robust(conn, "SELECT message_id, receipt_handle, body, receive_count,"
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
		PQfinish(*conn);
		*conn = connect_retrying();
	}
	else if (res == NULL && !stop_requested)
		sleep_ms(1000);			/* the server refused (reported); pause */
	return res;
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
	bool		batch = false;
	char	  **command = NULL;
	PGconn	   *conn;
	Held	   *held;
	char	  **done_handles;
	int			prefetch;
	long		processed = 0;
	long		failed = 0;
	struct sigaction sa;
	sigset_t	chld;
	sigset_t	oldmask;

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
				   "  --batch               start COMMAND once and write each message to it as a JSON\n"
				   "                        line; COMMAND acknowledges a message by printing its\n"
				   "                        MessageId on a line (then it is deleted)\n"
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
		else if (strcmp(argv[i], "--batch") == 0)
			batch = true;
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

	if (batch)
	{
		ConsumeSettings cs = {visibility, wait, exit_when_empty};

		return consume_batch(queue, command, &cs);
	}

	conn = cli_connect();
	{
		/* fail early and clearly on a queue that does not exist */
		const char *p[1] = {queue};
		PGresult   *res = cli_exec(conn, "SELECT outbox.get_queue_attributes($1, '{QueueArn}')", 1, p);

		PQclear(res);
	}
	prefetch = concurrency * 2 > 10 ? concurrency * 2 : 10;
	held = calloc(prefetch, sizeof(Held));
	done_handles = calloc(prefetch, sizeof(char *));
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &oldmask);

	for (;;)
	{
		int			nheld = 0;
		int			running = 0;
		int			ndone = 0;
		double		now;

		/* settle the commands that finished */
		for (int j = 0; j < prefetch; j++)
		{
			int			status;

			if (held[j].pid <= 0)
				continue;
			if (waitpid(held[j].pid, &status, WNOHANG) == 0)
				continue;
			if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			{
				processed++;
				done_handles[ndone++] = held[j].handle;
				held[j].handle = NULL;
			}
			else
			{
				failed++;
				if (WIFEXITED(status))
					fprintf(stderr, "%s: consume: message %s: command exited with status %d\n",
							progname, held[j].message_id, WEXITSTATUS(status));
				else
					fprintf(stderr, "%s: consume: message %s: command killed by signal %d\n",
							progname, held[j].message_id, WTERMSIG(status));
				if (backoff >= 0)
					consume_settle(&conn, queue, &held[j].handle, 1, backoff);
			}
			free_held(&held[j]);
		}
		consume_settle(&conn, queue, done_handles, ndone, -1);
		for (int j = 0; j < ndone; j++)
			free(done_handles[j]);

		/* renew the visibility of messages about to come back */
		now = now_seconds();
		{
			int			nrenew = 0;

			for (int j = 0; j < prefetch; j++)
				if (held[j].handle && now > held[j].visible_until - visibility / 3.0)
				{
					done_handles[nrenew++] = held[j].handle;
					held[j].visible_until = now + visibility;
				}
			consume_settle(&conn, queue, done_handles, nrenew, visibility);
		}

		/* on a stop request, give back the messages that did not start */
		if (stop_requested)
		{
			int			nrelease = 0;

			for (int j = 0; j < prefetch; j++)
				if (held[j].handle && held[j].pid == 0)
					done_handles[nrelease++] = held[j].handle;
			consume_settle(&conn, queue, done_handles, nrelease, 0);
			for (int j = 0; j < prefetch; j++)
				if (held[j].handle && held[j].pid == 0)
					free_held(&held[j]);
		}

		/* start commands for waiting messages */
		for (int j = 0; j < prefetch; j++)
			if (held[j].pid > 0)
				running++;
		for (int j = 0; j < prefetch && running < concurrency; j++)
		{
			if (held[j].handle == NULL || held[j].pid != 0)
				continue;
			held[j].pid = start_command(command, queue, &held[j], &oldmask);
			if (held[j].pid < 0)
			{
				fprintf(stderr, "%s: consume: could not start the command: %s\n", progname, strerror(errno));
				held[j].pid = 0;
				break;
			}
			running++;
		}
		for (int j = 0; j < prefetch; j++)
			if (held[j].handle)
				nheld++;

		if (stop_requested && running == 0)
			break;
		if (limit >= 0 && processed + failed >= limit && nheld == 0)
			break;

		/* nothing waiting: receive more (long-poll only when idle) */
		if (!stop_requested && nheld == running && nheld < prefetch &&
			(limit < 0 || processed + failed + nheld < limit))
		{
			PGresult   *res;
			long		want = prefetch - nheld;

			if (limit >= 0 && want > limit - (processed + failed + nheld))
				want = limit - (processed + failed + nheld);
			res = consume_receive(&conn, queue, (int) want, visibility, running > 0 ? 0 : wait);
			if (res == NULL)
			{
				if (conn == NULL)
					break;
				continue;
			}
			now = now_seconds();
			for (int t = 0, j = 0; t < PQntuples(res); t++)
			{
				while (held[j].handle)
					j++;
				held[j].message_id = strdup(PQgetvalue(res, t, 0));
				held[j].handle = strdup(PQgetvalue(res, t, 1));
				held[j].body_len = PQgetlength(res, t, 2);
				held[j].body = malloc(held[j].body_len + 1);
				memcpy(held[j].body, PQgetvalue(res, t, 2), held[j].body_len + 1);
				held[j].receive_count = strdup(PQgetvalue(res, t, 3));
				held[j].attributes = strdup(PQgetvalue(res, t, 4));
				held[j].pid = 0;
				held[j].visible_until = now + visibility;
			}
			if (PQntuples(res) == 0 && running == 0 && exit_when_empty)
			{
				PQclear(res);
				break;
			}
			PQclear(res);
			continue;
		}

		/* wait for a command to finish (or a heartbeat to come due) */
		if (running > 0)
		{
			struct timespec ts = {0, 50 * 1000000L};

			(void) sigtimedwait(&chld, NULL, &ts);
		}
	}

	/* a stop with messages still held (a lost connection): give them back */
	{
		int			n = 0;

		for (int j = 0; j < prefetch; j++)
			if (held[j].handle && held[j].pid == 0)
				done_handles[n++] = held[j].handle;
		if (conn)
			consume_settle(&conn, queue, done_handles, n, 0);
	}
	if (cli.json)
		printf("{\"Processed\": %ld, \"Failed\": %ld}\n", processed, failed);
	else if (!cli.quiet)
		fprintf(stderr, "%s: consume: %ld processed, %ld failed\n", progname, processed, failed);
	if (conn)
		PQfinish(conn);
	free(held);
	free(done_handles);
	return 0;
}
