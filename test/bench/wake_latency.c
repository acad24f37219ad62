/*-------------------------------------------------------------------------
 *
 * wake_latency.c
 *	  Benchmark helper: how long after a sender's COMMIT returns does a
 *	  long-polling receiver get the message?
 *
 * One connection long-polls (receive_message with wait_time_seconds 20),
 * the other sends one message per round in autocommit.  The latency of a
 * round is the time from the sender's COMMIT returning to the receiver's
 * result arriving.  Prints p50, p90, p99 and max in milliseconds.
 *
 * usage: wake_latency CONNINFO QUEUE ROUNDS
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  test/bench/wake_latency.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>

#include <libpq-fe.h>

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static int
cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a;
	double		y = *(const double *) b;

	return (x > y) - (x < y);
}

static void
die(PGconn *conn, const char *what)
{
	fprintf(stderr, "%s: %s", what, PQerrorMessage(conn));
	exit(1);
}

int
main(int argc, char **argv)
{
	PGconn	   *receiver;
	PGconn	   *sender;
	const char *queue;
	int			rounds;
	double	   *lat;
	char		sql[512];
	int			i;

	if (argc != 4)
	{
		fprintf(stderr, "usage: %s CONNINFO QUEUE ROUNDS\n", argv[0]);
		return 2;
	}
	queue = argv[2];
	rounds = atoi(argv[3]);
	lat = calloc(rounds, sizeof(double));
	receiver = PQconnectdb(argv[1]);
	sender = PQconnectdb(argv[1]);
	if (PQstatus(receiver) != CONNECTION_OK)
		die(receiver, "receiver");
	if (PQstatus(sender) != CONNECTION_OK)
		die(sender, "sender");

	for (i = 0; i < rounds; i++)
	{
		PGresult   *res;
		double		committed;
		fd_set		fds;
		int			sock = PQsocket(receiver);
		struct timeval pause = {0, 20000};

		snprintf(sql, sizeof(sql),
				 "SELECT body FROM outbox.receive_message('%s', 1, 0, 20)", queue);
		if (!PQsendQuery(receiver, sql))
			die(receiver, "send receive");
		/* let the receiver reach its wait */
		select(0, NULL, NULL, NULL, &pause);

		snprintf(sql, sizeof(sql), "SELECT outbox.send_message('%s', 'round %d')", queue, i);
		res = PQexec(sender, sql);
		if (PQresultStatus(res) != PGRES_TUPLES_OK)
			die(sender, "send");
		PQclear(res);
		committed = now_ms();

		for (;;)
		{
			if (!PQconsumeInput(receiver))
				die(receiver, "consume");
			if (!PQisBusy(receiver))
				break;
			FD_ZERO(&fds);
			FD_SET(sock, &fds);
			select(sock + 1, &fds, NULL, NULL, NULL);
		}
		lat[i] = now_ms() - committed;
		while ((res = PQgetResult(receiver)) != NULL)
		{
			if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
			{
				fprintf(stderr, "round %d: receiver got %d rows: %s", i, PQntuples(res), PQresultErrorMessage(res));
				exit(1);
			}
			PQclear(res);
		}
		/* the message stays visible (timeout 0): delete it */
		snprintf(sql, sizeof(sql),
				 "SELECT outbox.delete_message('%s', receipt_handle) FROM outbox.receive_message('%s', 10, 0)",
				 queue, queue);
		res = PQexec(sender, sql);
		PQclear(res);
	}
	qsort(lat, rounds, sizeof(double), cmp_double);
	printf("%.3f %.3f %.3f %.3f\n", lat[rounds / 2], lat[(int) (rounds * 0.9)],
		   lat[(int) (rounds * 0.99)], lat[rounds - 1]);
	PQfinish(receiver);
	PQfinish(sender);
	return 0;
}
