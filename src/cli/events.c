/*-------------------------------------------------------------------------
 *
 * events.c
 *	  pg_outbox publish, put-events and tail: topics and event buses from
 *	  the shell.
 *
 * tail follows a topic or a bus through a temporary queue of its own
 * ("tail-<pid>-<random>"): a raw subscription to the topic, or a rule on
 * the bus whose target is the queue.  Whatever way tail stops (the --max
 * or --for limit, SIGINT, SIGTERM, the server going away once the
 * connection is back) it removes the rule, the subscription and the
 * queue before exiting.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/cli/events.c
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

int
cmd_publish(int argc, char **argv)
{
	const char *topic = NULL;
	const char *message = NULL;
	const char *subject = NULL;
	const char *group = NULL;
	const char *dedup = NULL;
	json_object *attrs = json_object_new_object();
	const char *params[6];
	PGconn	   *conn;
	PGresult   *res;

	if (cli_wants_help(argc, argv,
					   "Usage: pg_outbox publish TOPIC [MESSAGE|-] [OPTIONS]\n"
					   "Publish one message; the message is MESSAGE, or standard input with - or without MESSAGE.\n"
					   "  --subject TEXT             the Subject\n"
					   "  --attr NAME=VALUE          a String message attribute (repeatable)\n"
					   "  --attr-number NAME=VALUE   a Number message attribute (repeatable)\n"
					   "  --group ID                 MessageGroupId (FIFO topics)\n"
					   "  --dedup-id ID              MessageDeduplicationId (FIFO topics)\n"
					   "Prints the MessageId.\n"))
		return 0;
	for (int i = 1; i < argc; i++)
	{
		const char *v;

		if ((v = cli_option(argc, argv, &i, "--attr")) != NULL)
			cli_add_attribute(attrs, v, "String");
		else if ((v = cli_option(argc, argv, &i, "--attr-number")) != NULL)
			cli_add_attribute(attrs, v, "Number");
		else if ((v = cli_option(argc, argv, &i, "--subject")) != NULL)
			subject = v;
		else if ((v = cli_option(argc, argv, &i, "--group")) != NULL)
			group = v;
		else if ((v = cli_option(argc, argv, &i, "--dedup-id")) != NULL)
			dedup = v;
		else if (argv[i][0] == '-' && argv[i][1] != '\0')
			cli_usage_error("publish: unknown option \"%s\"", argv[i]);
		else if (topic == NULL)
			topic = argv[i];
		else if (message == NULL)
			message = argv[i];
		else
			cli_usage_error("publish: too many arguments");
	}
	if (topic == NULL)
		cli_usage_error("publish: a topic name is required");
	if (message == NULL || strcmp(message, "-") == 0)
		message = cli_read_stdin();

	conn = cli_connect();
	params[0] = topic;
	params[1] = message;
	params[2] = subject;
	params[3] = json_object_object_length(attrs) > 0 ? json_object_to_json_string(attrs) : NULL;
	params[4] = group;
	params[5] = dedup;
	res = cli_exec(conn, "SELECT outbox.publish($1, $2, $3, $4::jsonb, $5, $6)", 6, params);
	if (cli.json)
	{
		json_object *o = json_object_new_object();

		json_object_object_add(o, "MessageId", json_object_new_string(PQgetvalue(res, 0, 0)));
		cli_print_json(o);
		json_object_put(o);
	}
	else if (!cli.quiet)
		printf("%s\n", PQgetvalue(res, 0, 0));
	PQclear(res);
	PQfinish(conn);
	json_object_put(attrs);
	return 0;
}

/* Send one batch of entries; print a line per entry; count the failures. */
static int
put_batch(PGconn *conn, json_object *batch, int first_line, const int *lines)
{
	const char *params[1];
	PGresult   *res;
	int			failed = 0;

	params[0] = json_object_to_json_string_ext(batch, JSON_C_TO_STRING_PLAIN);
	res = cli_exec(conn, "SELECT event_id, error_code, error_message FROM outbox.put_events($1::jsonb)", 1, params);
	for (int r = 0; r < PQntuples(res); r++)
	{
		bool		ok = !PQgetisnull(res, r, 0);

		failed += !ok;
		if (cli.json)
		{
			json_object *o = json_object_new_object();

			json_object_object_add(o, "Line", json_object_new_int(lines[r]));
			if (ok)
				json_object_object_add(o, "EventId", json_object_new_string(PQgetvalue(res, r, 0)));
			else
			{
				json_object_object_add(o, "ErrorCode", json_object_new_string(PQgetvalue(res, r, 1)));
				json_object_object_add(o, "ErrorMessage", json_object_new_string(PQgetvalue(res, r, 2)));
			}
			cli_print_json(o);
			json_object_put(o);
		}
		else if (ok && !cli.quiet)
			printf("%s\n", PQgetvalue(res, r, 0));
		else if (!ok)
			fprintf(stderr, "%s: line %d: %s: %s\n", progname, lines[r], PQgetvalue(res, r, 1), PQgetvalue(res, r, 2));
	}
	PQclear(res);
	(void) first_line;
	return failed;
}

/* The next line of *cursor (NUL-terminated in place); NULL at the end. */
static char *
next_line(char **cursor)
{
	char	   *line = *cursor;
	char	   *nl;

	if (line == NULL || *line == '\0')
		return NULL;
	nl = strchr(line, '\n');
	if (nl)
	{
		*nl = '\0';
		*cursor = nl + 1;
	}
	else
		*cursor = line + strlen(line);
	return line;
}

int
cmd_put_events(int argc, char **argv)
{
	const char *bus = NULL;
	char	   *input;
	char	   *line;
	char	   *cursor;
	int			lineno = 0;
	int			n = 0;
	int			failed = 0;
	int			lines[10];
	json_object *batch;
	PGconn	   *conn;

	if (cli_wants_help(argc, argv,
					   "Usage: pg_outbox put-events [BUS] < events.jsonl\n"
					   "Put the events read from standard input, one JSON object per line, in batches of 10:\n"
					   "  {\"Source\": \"...\", \"DetailType\": \"...\", \"Detail\": {...}, \"Resources\": [...], \"Time\": \"...\"}\n"
					   "Entries without EventBusName go to BUS (the default bus without one); Detail may be\n"
					   "an object or a string holding one.  Prints one EventId per line; failed entries are\n"
					   "reported on standard error with their line, and make the exit status 1.\n"))
		return 0;
	for (int i = 1; i < argc; i++)
	{
		if (argv[i][0] == '-' && argv[i][1] != '\0')
			cli_usage_error("put-events: unknown option \"%s\"", argv[i]);
		else if (bus == NULL)
			bus = argv[i];
		else
			cli_usage_error("put-events: too many arguments");
	}
	input = cli_read_stdin();

	/* check every line first: bad JSON sends nothing */
	{
		char	   *copy = strdup(input);

		cursor = copy;
		while ((line = next_line(&cursor)) != NULL)
		{
			json_object *o;
			enum json_tokener_error err;

			lineno++;
			if (strspn(line, " \t\r") == strlen(line))
				continue;
			o = json_tokener_parse_verbose(line, &err);
			if (o == NULL || !json_object_is_type(o, json_type_object))
				cli_usage_error("put-events: line %d is not a JSON object%s%s", lineno,
								o == NULL ? ": " : "", o == NULL ? json_tokener_error_desc(err) : "");
			json_object_put(o);
		}
		free(copy);
	}

	conn = cli_connect();
	batch = json_object_new_array();
	lineno = 0;
	cursor = input;
	while ((line = next_line(&cursor)) != NULL)
	{
		json_object *o;

		lineno++;
		if (strspn(line, " \t\r") == strlen(line))
			continue;
		o = json_tokener_parse(line);
		if (bus && !json_object_object_get_ex(o, "EventBusName", NULL))
			json_object_object_add(o, "EventBusName", json_object_new_string(bus));
		json_object_array_add(batch, o);
		lines[n++] = lineno;
		if (n == 10)
		{
			failed += put_batch(conn, batch, lines[0], lines);
			json_object_put(batch);
			batch = json_object_new_array();
			n = 0;
		}
	}
	if (n > 0)
		failed += put_batch(conn, batch, lines[0], lines);
	json_object_put(batch);
	PQfinish(conn);
	return failed > 0 ? EXIT_SQL : 0;
}

/* ---- tail ---- */

static volatile sig_atomic_t stop_tail = 0;

static void
on_signal(int sig)
{
	stop_tail = 1;
}

/* Remove what tail made; each step may already be gone. */
static void
tail_cleanup(PGconn *conn, const char *queue, const char *sub, const char *rule, const char *bus)
{
	const char *params[3];
	PGresult   *res;

	if (sub)
	{
		params[0] = sub;
		res = cli_try(conn, "SELECT outbox.unsubscribe($1)", 1, params);
		PQclear(res);
	}
	if (rule)
	{
		params[0] = rule;
		params[1] = "{q}";
		params[2] = bus;
		res = cli_try(conn, "SELECT outbox.remove_targets($1, $2::text[], $3)", 3, params);
		PQclear(res);
		params[1] = bus;
		res = cli_try(conn, "SELECT outbox.delete_rule($1, $2)", 2, params);
		PQclear(res);
	}
	params[0] = queue;
	res = cli_try(conn, "SELECT outbox.delete_queue($1)", 1, params);
	PQclear(res);
}

int
cmd_tail(int argc, char **argv)
{
	const char *topic = NULL;
	const char *bus = NULL;
	const char *pattern = "{\"source\": [{\"prefix\": \"\"}]}";
	int			max = 0;
	int			seconds = 0;
	char		queue[64];
	char		rule[64];
	char	   *sub = NULL;
	const char *params[4];
	PGconn	   *conn;
	PGresult   *res;
	int			seen = 0;
	time_t		until;
	struct sigaction sa;

	if (cli_wants_help(argc, argv,
					   "Usage: pg_outbox tail TOPIC [OPTIONS]\n"
					   "       pg_outbox tail --bus BUS [--pattern JSON] [OPTIONS]\n"
					   "Print the messages of a topic (raw), or the events of a bus that match the pattern\n"
					   "(every event by default), as they come, through a temporary queue removed on exit.\n"
					   "  --max N          stop after N messages\n"
					   "  --for SECONDS    stop after SECONDS\n"
					   "Stops on SIGINT or SIGTERM too.\n"))
		return 0;
	for (int i = 1; i < argc; i++)
	{
		const char *v;

		if ((v = cli_option(argc, argv, &i, "--bus")) != NULL)
			bus = v;
		else if ((v = cli_option(argc, argv, &i, "--pattern")) != NULL)
			pattern = v;
		else if ((v = cli_option(argc, argv, &i, "--max")) != NULL)
			max = cli_int(v, "--max", 1, 1000000000);
		else if ((v = cli_option(argc, argv, &i, "--for")) != NULL)
			seconds = cli_int(v, "--for", 1, 1000000000);
		else if (argv[i][0] == '-' && argv[i][1] != '\0')
			cli_usage_error("tail: unknown option \"%s\"", argv[i]);
		else if (topic == NULL)
			topic = argv[i];
		else
			cli_usage_error("tail: too many arguments");
	}
	if ((topic == NULL) == (bus == NULL))
		cli_usage_error("tail: give a topic, or --bus BUS");
	if (json_tokener_parse(pattern) == NULL)
		cli_usage_error("tail: --pattern is not JSON");

	srandom((unsigned) time(NULL) ^ (unsigned) getpid());
	snprintf(queue, sizeof(queue), "tail-%d-%08lx", (int) getpid(), (unsigned long) random());
	snprintf(rule, sizeof(rule), "%s", queue);
	conn = cli_connect();
	params[0] = queue;
	PQclear(cli_exec(conn, "SELECT outbox.create_queue($1)", 1, params));

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	if (topic)
	{
		params[0] = topic;
		params[1] = queue;
		res = cli_try(conn, "SELECT outbox.subscribe($1, 'sqs', $2, '{\"RawMessageDelivery\": true}')", 2, params);
		if (res == NULL)
		{
			tail_cleanup(conn, queue, NULL, NULL, NULL);
			PQfinish(conn);
			return EXIT_SQL;
		}
		sub = strdup(PQgetvalue(res, 0, 0));
		PQclear(res);
	}
	else
	{
		char	   *targets;

		params[0] = rule;
		params[1] = bus;
		params[2] = pattern;
		res = cli_try(conn, "SELECT outbox.put_rule($1, $2, $3::jsonb)", 3, params);
		if (res == NULL)
		{
			tail_cleanup(conn, queue, NULL, NULL, NULL);
			PQfinish(conn);
			return EXIT_SQL;
		}
		PQclear(res);
		{
			const char *p2[1] = {queue};
			PGresult   *a = cli_exec(conn, "SELECT outbox.get_queue_attributes($1) ->> 'QueueArn'", 1, p2);
			json_object *t = json_object_new_object();
			json_object *arr = json_object_new_array();

			json_object_object_add(t, "Id", json_object_new_string("q"));
			json_object_object_add(t, "Arn", json_object_new_string(PQgetvalue(a, 0, 0)));
			json_object_array_add(arr, t);
			targets = strdup(json_object_to_json_string(arr));
			json_object_put(arr);
			PQclear(a);
		}
		params[0] = rule;
		params[1] = targets;
		params[2] = bus;
		res = cli_try(conn, "SELECT outbox.put_targets($1, $2::jsonb, $3)", 3, params);
		if (res == NULL)
		{
			tail_cleanup(conn, queue, NULL, rule, bus);
			PQfinish(conn);
			return EXIT_SQL;
		}
		PQclear(res);
		free(targets);
	}
	if (!cli.quiet && !cli.json)
		fprintf(stderr, "%s: following %s \"%s\" (stop with ^C)\n", progname, topic ? "topic" : "event bus",
				topic ? topic : bus);

	until = seconds ? time(NULL) + seconds : 0;
	while (!stop_tail && (max == 0 || seen < max) && (until == 0 || time(NULL) < until))
	{
		params[0] = queue;
		res = cli_try(conn, "SELECT body, receipt_handle FROM outbox.receive_message($1, 10, NULL, 1)", 1, params);
		if (res == NULL)
			break;
		for (int r = 0; r < PQntuples(res) && (max == 0 || seen < max); r++)
		{
			const char *dp[2] = {queue, PQgetvalue(res, r, 1)};

			if (cli.json)
			{
				json_object *o = json_tokener_parse(PQgetvalue(res, r, 0));

				if (o == NULL)
					o = json_object_new_string(PQgetvalue(res, r, 0));
				cli_print_json(o);
				json_object_put(o);
			}
			else
				printf("%s\n", PQgetvalue(res, r, 0));
			fflush(stdout);
			PQclear(cli_try(conn, "SELECT outbox.delete_message($1, $2)", 2, dp));
			seen++;
		}
		PQclear(res);
	}
	tail_cleanup(conn, queue, sub, topic ? NULL : rule, bus);
	PQfinish(conn);
	return 0;
}
