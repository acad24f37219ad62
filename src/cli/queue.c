/*-------------------------------------------------------------------------
 *
 * queue.c
 *	  pg_outbox send, receive, delete, purge and queues.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/cli/queue.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

int
cmd_send(int argc, char **argv)
{
	const char *queue = NULL;
	const char *body = NULL;
	const char *group = NULL;
	const char *dedup = NULL;
	const char *delay = NULL;
	json_object *attrs = json_object_new_object();
	const char *params[6];
	PGconn	   *conn;
	PGresult   *res;

	if (cli_wants_help(argc, argv,
				   "Usage: pg_outbox send QUEUE [BODY|-] [OPTIONS]\n"
				   "Send one message; the body is BODY, or standard input with - or without BODY.\n"
				   "  --attr NAME=VALUE          a String message attribute (repeatable)\n"
				   "  --attr-number NAME=VALUE   a Number message attribute (repeatable)\n"
				   "  --group ID                 MessageGroupId (FIFO queues)\n"
				   "  --dedup-id ID              MessageDeduplicationId (FIFO queues)\n"
				   "  --delay SECONDS            DelaySeconds (0 to 900)\n"
				   "Prints the MessageId (and SequenceNumber on FIFO queues).\n"))
		return 0;
	for (int i = 1; i < argc; i++)
	{
		const char *v;

		if ((v = cli_option(argc, argv, &i, "--attr")) != NULL)
			cli_add_attribute(attrs, v, "String");
		else if ((v = cli_option(argc, argv, &i, "--attr-number")) != NULL)
			cli_add_attribute(attrs, v, "Number");
		else if ((v = cli_option(argc, argv, &i, "--group")) != NULL)
			group = v;
		else if ((v = cli_option(argc, argv, &i, "--dedup-id")) != NULL)
			dedup = v;
		else if ((v = cli_option(argc, argv, &i, "--delay")) != NULL)
			delay = v;
		else if (argv[i][0] == '-' && argv[i][1] != '\0')
			cli_usage_error("send: unknown option \"%s\"", argv[i]);
		else if (queue == NULL)
			queue = argv[i];
		else if (body == NULL)
			body = argv[i];
		else
			cli_usage_error("send: too many arguments");
	}
	if (queue == NULL)
		cli_usage_error("send: a queue name is required");
	if (delay)
		(void) cli_int(delay, "--delay", 0, 900);
	if (body == NULL || strcmp(body, "-") == 0)
		body = cli_read_stdin();

	conn = cli_connect();
	params[0] = queue;
	params[1] = body;
	params[2] = delay;
	params[3] = json_object_object_length(attrs) > 0 ? json_object_to_json_string(attrs) : NULL;
	params[4] = group;
	params[5] = dedup;
	res = cli_exec(conn, "SELECT message_id, sequence_number, md5_of_message_body"
				   " FROM outbox.send_message($1, $2::text, $3::integer, $4::jsonb, $5, $6)", 6, params);
	if (cli.json)
	{
		json_object *o = json_object_new_object();

		json_object_object_add(o, "MessageId", json_object_new_string(PQgetvalue(res, 0, 0)));
		if (!PQgetisnull(res, 0, 1))
			json_object_object_add(o, "SequenceNumber", json_object_new_string(PQgetvalue(res, 0, 1)));
		json_object_object_add(o, "MD5OfMessageBody", json_object_new_string(PQgetvalue(res, 0, 2)));
		cli_print_json(o);
		json_object_put(o);
	}
	else if (!cli.quiet)
	{
		if (PQgetisnull(res, 0, 1))
			printf("%s\n", PQgetvalue(res, 0, 0));
		else
			printf("%s %s\n", PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1));
	}
	PQclear(res);
	PQfinish(conn);
	json_object_put(attrs);
	return 0;
}

int
cmd_receive(int argc, char **argv)
{
	const char *queue = NULL;
	const char *max = "1";
	const char *wait = "0";
	const char *visibility = NULL;
	const char *params[4];
	PGconn	   *conn;
	PGresult   *res;

	if (cli_wants_help(argc, argv,
				   "Usage: pg_outbox receive QUEUE [OPTIONS]\n"
				   "Receive messages; they are hidden for the visibility timeout and come back\n"
				   "unless deleted (pg_outbox delete QUEUE HANDLE).\n"
				   "  --max N                at most N messages (default 1)\n"
				   "  --wait SECONDS         long-poll up to SECONDS for a first message (default 0)\n"
				   "  --visibility SECONDS   visibility timeout (default: the queue's)\n"
				   "With --json: one object per message, with its ReceiptHandle.\n"))
		return 0;
	for (int i = 1; i < argc; i++)
	{
		const char *v;

		if ((v = cli_option(argc, argv, &i, "--max")) != NULL)
			max = v;
		else if ((v = cli_option(argc, argv, &i, "--wait")) != NULL)
			wait = v;
		else if ((v = cli_option(argc, argv, &i, "--visibility")) != NULL)
			visibility = v;
		else if (argv[i][0] == '-')
			cli_usage_error("receive: unknown option \"%s\"", argv[i]);
		else if (queue == NULL)
			queue = argv[i];
		else
			cli_usage_error("receive: too many arguments");
	}
	if (queue == NULL)
		cli_usage_error("receive: a queue name is required");
	(void) cli_int(max, "--max", 1, 1000000);
	(void) cli_int(wait, "--wait", 0, 20);
	if (visibility)
		(void) cli_int(visibility, "--visibility", 0, 43200);

	conn = cli_connect();
	params[0] = queue;
	params[1] = max;
	params[2] = visibility;
	params[3] = wait;
	res = cli_exec(conn, "SELECT message_id, receipt_handle, body, md5_of_body, attributes,"
				   " coalesce(message_attributes, '{}'), receive_count"
				   " FROM outbox.receive_message($1, $2::integer, $3::integer, $4::integer)", 4, params);
	if (cli.json)
	{
		for (int t = 0; t < PQntuples(res); t++)
		{
			json_object *o = json_object_new_object();

			json_object_object_add(o, "MessageId", json_object_new_string(PQgetvalue(res, t, 0)));
			json_object_object_add(o, "ReceiptHandle", json_object_new_string(PQgetvalue(res, t, 1)));
			json_object_object_add(o, "Body", json_object_new_string(PQgetvalue(res, t, 2)));
			json_object_object_add(o, "MD5OfBody", json_object_new_string(PQgetvalue(res, t, 3)));
			json_object_object_add(o, "Attributes", json_tokener_parse(PQgetvalue(res, t, 4)));
			json_object_object_add(o, "MessageAttributes", json_tokener_parse(PQgetvalue(res, t, 5)));
			cli_print_json(o);
			json_object_put(o);
		}
	}
	else if (PQntuples(res) > 0)
	{
		static const int cols[] = {0, 6, 1, 2};
		static const char *const names[] = {"message_id", "receives", "receipt_handle", "body"};

		cli_print_columns(res, cols, names, 4);
	}
	PQclear(res);
	PQfinish(conn);
	return 0;
}

int
cmd_delete(int argc, char **argv)
{
	json_object *handles = json_object_new_array();
	const char *params[2];
	PGconn	   *conn;
	PGresult   *res;

	if (cli_wants_help(argc, argv,
				   "Usage: pg_outbox delete QUEUE HANDLE...\n"
				   "Delete received messages by receipt handle; prints how many were deleted.\n"))
		return 0;
	if (argc < 3)
		cli_usage_error("delete: a queue name and at least one receipt handle are required");
	for (int i = 2; i < argc; i++)
		json_object_array_add(handles, json_object_new_string(argv[i]));
	conn = cli_connect();
	params[0] = argv[1];
	params[1] = json_object_to_json_string(handles);
	res = cli_exec(conn, "SELECT outbox.delete_message_batch($1, ARRAY(SELECT jsonb_array_elements_text($2::jsonb)))",
				   2, params);
	if (cli.json)
		printf("{\"Deleted\": %s}\n", PQgetvalue(res, 0, 0));
	else if (!cli.quiet)
		printf("deleted %s\n", PQgetvalue(res, 0, 0));
	PQclear(res);
	PQfinish(conn);
	json_object_put(handles);
	return 0;
}

int
cmd_purge(int argc, char **argv)
{
	const char *params[1];
	PGconn	   *conn;
	PGresult   *res;

	if (cli_wants_help(argc, argv, "Usage: pg_outbox purge QUEUE\nDelete every message of the queue.\n"))
		return 0;
	if (argc != 2)
		cli_usage_error("purge: exactly one queue name is required");
	conn = cli_connect();
	params[0] = argv[1];
	res = cli_exec(conn, "SELECT outbox.purge_queue($1)", 1, params);
	if (cli.json)
		printf("{\"Purged\": %s}\n", PQgetvalue(res, 0, 0));
	else if (!cli.quiet)
		printf("purged %s\n", PQgetvalue(res, 0, 0));
	PQclear(res);
	PQfinish(conn);
	return 0;
}

int
cmd_queues(int argc, char **argv)
{
	const char *prefix = NULL;
	const char *params[1];
	PGconn	   *conn;
	PGresult   *res;

	if (cli_wants_help(argc, argv,
				   "Usage: pg_outbox queues [--prefix PREFIX]\n"
				   "The queues you have rights on: visible, in flight and delayed messages.\n"))
		return 0;
	for (int i = 1; i < argc; i++)
	{
		const char *v;

		if ((v = cli_option(argc, argv, &i, "--prefix")) != NULL)
			prefix = v;
		else
			cli_usage_error("queues: unexpected argument \"%s\"", argv[i]);
	}
	conn = cli_connect();
	params[0] = prefix;
	res = cli_exec(conn, "SELECT q AS queue, (a ->> 'ApproximateNumberOfMessages')::bigint AS visible,"
				   " (a ->> 'ApproximateNumberOfMessagesNotVisible')::bigint AS in_flight,"
				   " (a ->> 'ApproximateNumberOfMessagesDelayed')::bigint AS delayed,"
				   " CASE WHEN q LIKE '%.fifo' THEN 'fifo' ELSE 'standard' END AS type"
				   " FROM outbox.list_queues($1) AS q, LATERAL outbox.get_queue_attributes(q) AS a"
				   " ORDER BY q", 1, params);
	if (cli.json)
	{
		for (int t = 0; t < PQntuples(res); t++)
		{
			json_object *o = json_object_new_object();

			json_object_object_add(o, "QueueName", json_object_new_string(PQgetvalue(res, t, 0)));
			json_object_object_add(o, "Visible", json_object_new_int64(atoll(PQgetvalue(res, t, 1))));
			json_object_object_add(o, "InFlight", json_object_new_int64(atoll(PQgetvalue(res, t, 2))));
			json_object_object_add(o, "Delayed", json_object_new_int64(atoll(PQgetvalue(res, t, 3))));
			json_object_object_add(o, "Type", json_object_new_string(PQgetvalue(res, t, 4)));
			cli_print_json(o);
			json_object_put(o);
		}
	}
	else
	{
		static const int cols[] = {0, 1, 2, 3, 4};
		static const char *const names[] = {"queue", "visible", "in_flight", "delayed", "type"};

		cli_print_columns(res, cols, names, 5);
	}
	PQclear(res);
	PQfinish(conn);
	return 0;
}
