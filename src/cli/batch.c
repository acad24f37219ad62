/*-------------------------------------------------------------------------
 *
 * batch.c
 *	  pg_outbox consume --batch: messages as JSON lines to one
 *	  long-running command.
 *
 * The command is started once.  Each received message is written to its
 * standard input as one JSON object per line ({"MessageId", "ReceiptHandle",
 * "Body", "Attributes", "MessageAttributes"}); the command acknowledges a
 * message by writing its MessageId on a line of its standard output, and
 * acknowledged messages are deleted in batches.  Messages it does not
 * acknowledge stay in flight: their visibility is renewed while the command
 * runs, and if the command exits they come back after their visibility
 * timeout (the command is restarted after a second).  SIGINT/SIGTERM stops
 * receiving and closes the command's input; the command finishes what it
 * has, its acknowledgements are settled, and consume exits 0.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/cli/batch.c
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "consume_int.h"

#define WINDOW		2000		/* messages held at most */
#define RECEIVE_MAX 500

typedef struct Held
{
	char	   *id;
	char	   *handle;
	double		visible_until;
} Held;

typedef struct Buf
{
	char	   *data;
	size_t		len;
	size_t		cap;
} Buf;

static void
buf_add(Buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap)
	{
		b->cap = (b->len + n + 1) * 2;
		b->data = realloc(b->data, b->cap);
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
}

static void
buf_consume(Buf *b, size_t n)
{
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
}

static pid_t
start_batch_command(char **command, int *in_fd, int *out_fd, const sigset_t *oldmask)
{
	int			to_child[2];
	int			from_child[2];
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	pid_t		pid;
	int			rc;

	if (pipe(to_child) != 0 || pipe(from_child) != 0)
		return -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, to_child[0], 0);
	posix_spawn_file_actions_adddup2(&fa, from_child[1], 1);
	posix_spawn_file_actions_addclose(&fa, to_child[0]);
	posix_spawn_file_actions_addclose(&fa, to_child[1]);
	posix_spawn_file_actions_addclose(&fa, from_child[0]);
	posix_spawn_file_actions_addclose(&fa, from_child[1]);
	consume_spawnattr(&attr, oldmask);
	rc = posix_spawnp(&pid, command[0], &fa, &attr, command, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(to_child[0]);
	close(from_child[1]);
	if (rc != 0)
	{
		close(to_child[1]);
		close(from_child[0]);
		errno = rc;
		return -1;
	}
	fcntl(to_child[1], F_SETFL, O_NONBLOCK);
	fcntl(from_child[0], F_SETFL, O_NONBLOCK);
	*in_fd = to_child[1];
	*out_fd = from_child[0];
	return pid;
}

int
consume_batch(const char *queue, char **command, ConsumeSettings *cs)
{
	PGconn	   *conn = cli_connect();
	Held	   *held = calloc(WINDOW, sizeof(Held));
	char	  **handles = calloc(2 * WINDOW, sizeof(char *));
	int			nheld = 0;
	int			ndone = 0;
	double		first_done = 0;
	Buf			out = {0};
	Buf			in = {0};
	int			in_fd = -1;
	int			out_fd = -1;
	pid_t		pid = -1;
	long		acked = 0;
	double		restart_at = 0;
	bool		input_closed = false;
	sigset_t	oldmask;
	sigset_t	none;

	sigemptyset(&none);
	sigprocmask(SIG_BLOCK, &none, &oldmask);

	for (;;)
	{
		struct pollfd pfd[2];
		int			np = 0;
		double		now = consume_now();

		/* (re)start the command */
		if (pid < 0 && !consume_stop_requested() && now >= restart_at)
		{
			pid = start_batch_command(command, &in_fd, &out_fd, &oldmask);
			if (pid < 0)
			{
				fprintf(stderr, "%s: consume: cannot run \"%s\": %s\n", progname, command[0], strerror(errno));
				break;
			}
			input_closed = false;
			out.len = 0;
			in.len = 0;
		}

		/* receive while the window has room and the command runs */
		if (pid > 0 && !consume_stop_requested() && nheld < WINDOW && out.len < 1024 * 1024)
		{
			int			want = WINDOW - nheld < RECEIVE_MAX ? WINDOW - nheld : RECEIVE_MAX;
			PGresult   *res = consume_receive(&conn, queue, want, cs->visibility,
											  nheld > 0 || out.len > 0 ? 0 : 1);

			if (res)
			{
				for (int t = 0; t < PQntuples(res); t++)
				{
					json_object *o = json_object_new_object();
					const char *line;

					json_object_object_add(o, "MessageId", json_object_new_string(PQgetvalue(res, t, 0)));
					json_object_object_add(o, "ReceiptHandle", json_object_new_string(PQgetvalue(res, t, 1)));
					json_object_object_add(o, "Body", json_object_new_string_len(PQgetvalue(res, t, 2),
																				PQgetlength(res, t, 2)));
					json_object_object_add(o, "ReceiveCount", json_object_new_string(PQgetvalue(res, t, 3)));
					json_object_object_add(o, "MessageAttributes", json_tokener_parse(PQgetvalue(res, t, 4)));
					line = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
					buf_add(&out, line, strlen(line));
					buf_add(&out, "\n", 1);
					json_object_put(o);
					held[nheld].id = strdup(PQgetvalue(res, t, 0));
					held[nheld].handle = strdup(PQgetvalue(res, t, 1));
					held[nheld].visible_until = now + cs->visibility;
					nheld++;
				}
				if (PQntuples(res) == 0 && cs->exit_when_empty)
					consume_request_stop();
				PQclear(res);
			}
			else if (conn == NULL)
				break;
		}

		/* on stop, close the command's input once what it was sent is out */
		if (consume_stop_requested() && pid > 0 && !input_closed && out.len == 0)
		{
			close(in_fd);
			input_closed = true;
		}

		if (pid > 0)
		{
			if (!input_closed && out.len > 0)
			{
				pfd[np].fd = in_fd;
				pfd[np++].events = POLLOUT;
			}
			pfd[np].fd = out_fd;
			pfd[np++].events = POLLIN;
			(void) poll(pfd, np, 50);
		}

		/* write what we can */
		if (pid > 0 && !input_closed && out.len > 0)
		{
			ssize_t		w = write(in_fd, out.data, out.len);

			if (w > 0)
				buf_consume(&out, w);
		}

		/* read acknowledgements */
		if (pid > 0)
		{
			char		chunk[65536];
			ssize_t		r;
			bool		eof = false;

			while ((r = read(out_fd, chunk, sizeof(chunk))) > 0)
				buf_add(&in, chunk, r);
			if (r == 0)
				eof = true;
			for (;;)
			{
				char	   *nl = memchr(in.data, '\n', in.len);
				size_t		n;
				bool		found = false;

				if (in.len == 0 || nl == NULL)
					break;
				n = nl - in.data;
				for (int j = 0; j < nheld; j++)
					if (strlen(held[j].id) == n && memcmp(held[j].id, in.data, n) == 0)
					{
						if (ndone == 0)
							first_done = consume_now();
						handles[ndone++] = held[j].handle;
						free(held[j].id);
						held[j] = held[--nheld];
						found = true;
						break;
					}
				if (!found && n > 0)
					fprintf(stderr, "%s: consume: ignoring output line that is not a pending MessageId: %.*s\n",
							progname, (int) (n > 80 ? 80 : n), in.data);
				buf_consume(&in, n + 1);
			}
			if (eof)
			{
				int			status;

				waitpid(pid, &status, 0);
				if (!input_closed)
					close(in_fd);
				close(out_fd);
				pid = -1;
				if (!consume_stop_requested())
				{
					fprintf(stderr, "%s: consume: the command exited (status %d); %d unacknowledged message(s) come back after their visibility timeout; restarting\n",
							progname, WIFEXITED(status) ? WEXITSTATUS(status) : -1, nheld);
					restart_at = consume_now() + 1;
				}
				/* unacknowledged messages: leave them to their visibility timeout */
				for (int j = 0; j < nheld; j++)
				{
					free(held[j].id);
					free(held[j].handle);
				}
				nheld = 0;
			}
		}

		/*
		 * Delete acknowledged messages in batches: every 200, after 50 ms,
		 * or when the command stops (a commit per batch, not per message).
		 */
		if (ndone > 0 && (ndone >= 200 || pid < 0 || consume_stop_requested() ||
						  consume_now() - first_done > 0.05))
		{
			acked += ndone;
			consume_settle(&conn, queue, handles, ndone, -1);
			for (int j = 0; j < ndone; j++)
				free(handles[j]);
			ndone = 0;
		}

		/* renew what is held (handles[] past the pending deletes is free) */
		{
			int			nrenew = 0;

			now = consume_now();
			for (int j = 0; j < nheld; j++)
				if (now > held[j].visible_until - cs->visibility / 3.0)
				{
					handles[ndone + nrenew++] = held[j].handle;
					held[j].visible_until = now + cs->visibility;
				}
			consume_settle(&conn, queue, handles + ndone, nrenew, cs->visibility);
		}

		if (consume_stop_requested() && pid < 0 && ndone == 0)
			break;
		if (pid < 0 && !consume_stop_requested())
			consume_sleep_ms(50);
	}

	if (cli.json)
		printf("{\"Processed\": %ld}\n", acked);
	else if (!cli.quiet)
		fprintf(stderr, "%s: consume: %ld acknowledged\n", progname, acked);
	if (conn)
		PQfinish(conn);
	free(held);
	free(handles);
	free(out.data);
	free(in.data);
	return 0;
}
