// SPDX-License-Identifier: LGPL-2.1-or-later
/* The TAP runner behind tests/lib/tap.h: fork per case, timeout, summary. */
#include "tap.h"

#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int tap_failures;
static bool tap_skipped;
static char tap_skip_reason[256];

void tap_diag(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("# ", stdout);
	vfprintf(stdout, fmt, ap);
	fputc('\n', stdout);
	va_end(ap);
	fflush(stdout);
}

void tap_skip(const char *why)
{
	tap_skipped = true;
	snprintf(tap_skip_reason, sizeof(tap_skip_reason), "%s", why);
}

/* Exit codes of a forked case: 0 pass, 1 fail, 77 skip. */
static int run_case_inproc(const struct tap_case *c)
{
	tap_failures = 0;
	tap_skipped = false;
	c->fn();
	if (tap_failures)
		return 1;
	return tap_skipped ? 77 : 0;
}

static int run_case_forked(const struct tap_case *c, char *reason,
			   size_t reason_len)
{
	int pipefd[2];
	pid_t pid;
	int status;
	ssize_t n;

	if (pipe(pipefd))
		return 1;
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		int rc;

		close(pipefd[0]);
		alarm(c->timeout_s ? c->timeout_s : 60);
		rc = run_case_inproc(c);
		if (rc == 77) {
			ssize_t w = write(pipefd[1], tap_skip_reason,
					  strlen(tap_skip_reason));
			(void)w;
		}
		fflush(stdout);
		/* exit(), not _exit(): LeakSanitizer checks at exit. */
		exit(rc);
	}
	close(pipefd[1]);
	n = read(pipefd[0], reason, reason_len - 1);
	reason[n > 0 ? n : 0] = '\0';
	close(pipefd[0]);
	if (waitpid(pid, &status, 0) < 0)
		return 1;
	if (WIFSIGNALED(status)) {
		tap_diag("%s: killed by signal %d%s", c->name, WTERMSIG(status),
			 WTERMSIG(status) == SIGALRM ? " (timeout)" : "");
		return 1;
	}
	return WEXITSTATUS(status);
}

int tap_main(const struct tap_case *cases, size_t nr)
{
	bool nofork = getenv("UDAMON_TEST_NOFORK") != NULL;
	const char *only = getenv("UDAMON_TEST_ONLY");
	size_t i, passed = 0, failed = 0;

	printf("TAP version 13\n1..%zu\n", nr);
	for (i = 0; i < nr; i++) {
		char reason[256] = "";
		int rc;

		if (only && strcmp(only, cases[i].name)) {
			printf("ok %zu - %s # SKIP not selected\n", i + 1,
			       cases[i].name);
			passed++;
			continue;
		}
		if (nofork) {
			rc = run_case_inproc(&cases[i]);
			snprintf(reason, sizeof(reason), "%s", tap_skip_reason);
		} else {
			rc = run_case_forked(&cases[i], reason, sizeof(reason));
		}
		if (rc == 0 || rc == 77) {
			passed++;
			printf("ok %zu - %s%s%s\n", i + 1, cases[i].name,
			       rc == 77 ? " # SKIP " : "",
			       rc == 77 ? reason : "");
		} else {
			failed++;
			printf("not ok %zu - %s\n", i + 1, cases[i].name);
		}
		fflush(stdout);
	}
	printf("# %zu passed, %zu failed\n", passed, failed);
	return failed ? 1 : 0;
}
