/*-------------------------------------------------------------------------
 *
 * stats.c
 *	  pg_outbox stats: a one-screen view, refreshed like top, of the
 *	  database's queues, topics, event buses, workers and due work.
 *
 * On a terminal the screen is cleared and redrawn every --interval
 * seconds until ^C; --once prints one screen; with --json each refresh is
 * one JSON object on a line of its own.  Only what the caller may see is
 * shown (the list functions check rights).
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/cli/stats.c
 *
 *-------------------------------------------------------------------------
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static volatile sig_atomic_t stop_stats = 0;

static void
on_signal(int sig)
{
	stop_stats = 1;
}

typedef struct Section
{
	const char *title;
	const char *json_key;
	const char *sql;
	int			ncols;
	const char *const *names;
} Section;

static const char *const queue_cols[] = {"queue", "visible", "in_flight", "delayed", "type"};
static const char *const topic_cols[] = {"topic", "subscriptions", "type"};
static const char *const bus_cols[] = {"event_bus", "rules"};
static const char *const worker_cols[] = {"worker", "pid", "state", "since", "doing", "run", "failed", "retried"};
static const char *const due_cols[] = {"kind", "due_now", "scheduled", "oldest_due"};
static const char *const execution_cols[] = {"state_machine", "running", "succeeded_1h", "failed_1h", "timed_out_1h",
"aborted_1h"};

static const Section sections[] = {
	{"Queues", "queues",
		"SELECT q, (a ->> 'ApproximateNumberOfMessages'), (a ->> 'ApproximateNumberOfMessagesNotVisible'),"
		" (a ->> 'ApproximateNumberOfMessagesDelayed'), CASE WHEN q LIKE '%.fifo' THEN 'fifo' ELSE 'standard' END"
		" FROM outbox.list_queues() AS q, LATERAL outbox.get_queue_attributes(q) AS a"
		" ORDER BY (a ->> 'ApproximateNumberOfMessages')::bigint DESC, q LIMIT 20",
	5, queue_cols},
	{"Topics", "topics",
		"SELECT topic_name, subscriptions::text, CASE WHEN fifo THEN 'fifo' ELSE 'standard' END"
		" FROM outbox.list_topics() ORDER BY subscriptions DESC, topic_name LIMIT 10",
	3, topic_cols},
	{"Event buses", "event_buses",
		"SELECT name, rules::text FROM outbox.list_event_buses() ORDER BY rules DESC, name LIMIT 10",
	2, bus_cols},
	{"Executions", "executions",
		"SELECT state_machine, running::text, succeeded_last_hour::text, failed_last_hour::text,"
		" timed_out_last_hour::text, aborted_last_hour::text FROM outbox.execution_counts() LIMIT 10",
	6, execution_cols},
	{"Workers", "workers",
		"SELECT worker_type, pid::text, state, coalesce(to_char(now() - state_since, 'HH24:MI:SS'), ''),"
		" coalesce(current_item, ''), coalesce(items_run::text, ''), coalesce(items_failed::text, ''),"
		" coalesce(items_retried::text, '')"
		" FROM outbox.workers WHERE database IS NULL OR database = current_database() ORDER BY worker_type, pid",
	8, worker_cols},
	{"Due work", "due_work",
		"SELECT kind, due_now::text, scheduled::text, coalesce(to_char(oldest_due_age, 'HH24:MI:SS'), '')"
		" FROM outbox.due_work ORDER BY kind",
	4, due_cols},
};

#define NSECTIONS (sizeof(sections) / sizeof(sections[0]))

static void
refresh(PGconn *conn, bool tty)
{
	json_object *all = cli.json ? json_object_new_object() : NULL;
	time_t		now = time(NULL);
	char		stamp[32];

	strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", localtime(&now));
	if (all)
		json_object_object_add(all, "time", json_object_new_string(stamp));
	else
	{
		if (tty)
			printf("\033[H\033[2J\033[1mpg_outbox %s — %s\033[0m\n", PQdb(conn), stamp);
		else
			printf("pg_outbox %s — %s\n", PQdb(conn), stamp);
	}
	for (size_t s = 0; s < NSECTIONS; s++)
	{
		const Section *sec = &sections[s];
		PGresult   *res = cli_exec(conn, sec->sql, 0, NULL);

		if (all)
		{
			json_object *rows = json_object_new_array();

			for (int t = 0; t < PQntuples(res); t++)
			{
				json_object *row = json_object_new_object();

				for (int c = 0; c < sec->ncols; c++)
					json_object_object_add(row, sec->names[c], json_object_new_string(PQgetvalue(res, t, c)));
				json_object_array_add(rows, row);
			}
			json_object_object_add(all, sec->json_key, rows);
		}
		else
		{
			int			cols[8];

			for (int c = 0; c < sec->ncols; c++)
				cols[c] = c;
			printf("\n%s%s%s\n", tty ? "\033[1m" : "", sec->title, tty ? "\033[0m" : "");
			if (PQntuples(res) == 0)
				printf("  (none)\n");
			else
				cli_print_columns(res, cols, sec->names, sec->ncols);
		}
		PQclear(res);
	}
	if (all)
	{
		cli_print_json(all);
		json_object_put(all);
	}
	fflush(stdout);
}

int
cmd_stats(int argc, char **argv)
{
	int			interval = 2;
	int			count = 0;
	bool		once = false;
	bool		tty = isatty(STDOUT_FILENO);
	struct sigaction sa;
	PGconn	   *conn;

	if (cli_wants_help(argc, argv,
					   "Usage: pg_outbox stats [--interval SECONDS] [--count N] [--once]\n"
					   "A live view of the queues (deepest first), topics, event buses, workers and due work,\n"
					   "redrawn every --interval seconds (2) until ^C; --once prints it once; --count N stops\n"
					   "after N refreshes.  With --json, one JSON object per refresh.\n"))
		return 0;
	for (int i = 1; i < argc; i++)
	{
		const char *v;

		if ((v = cli_option(argc, argv, &i, "--interval")) != NULL)
			interval = cli_int(v, "--interval", 1, 3600);
		else if ((v = cli_option(argc, argv, &i, "--count")) != NULL)
			count = cli_int(v, "--count", 1, 1000000);
		else if (strcmp(argv[i], "--once") == 0)
			once = true;
		else
			cli_usage_error("stats: unexpected argument \"%s\"", argv[i]);
	}
	if (once)
		count = 1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	conn = cli_connect();
	for (int n = 0; !stop_stats && (count == 0 || n < count); n++)
	{
		if (n > 0)
		{
			for (int slept = 0; slept < interval * 10 && !stop_stats; slept++)
				usleep(100000);
			if (stop_stats)
				break;
		}
		refresh(conn, tty && !once && !cli.json);
	}
	PQfinish(conn);
	return 0;
}
