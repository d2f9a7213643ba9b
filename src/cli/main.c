// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * udamon: the command-line front end.  "udamon CMD [ARGS]" runs the
 * subcommand CMD; the table below is the one place subcommands are listed.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const struct cli_command commands[] = {
	{ "record", "monitor a workload or process and write a record",
	  cli_record },
	{ "report", "show a record: heatmap, wss, table, info, json",
	  cli_report },
	{ "sweep", "compare DAMOS parameter sets on a sim workload",
	  cli_sweep },
	{ "start", "start monitoring in a running udamond", cli_start },
	{ "tune", "change a running udamond context's parameters", cli_tune },
	{ "pause", "pause a running udamond context", cli_pause },
	{ "resume", "resume a paused udamond context", cli_resume },
	{ "stop", "stop a running udamond kdamond", cli_stop },
	{ "checkpoint", "save what a udamond kdamond learned to a file",
	  cli_checkpoint },
	{ "restore", "make a udamond kdamond continue from a checkpoint",
	  cli_restore },
	{ "status", "show what a running udamond monitors", cli_status },
	{ "ns",
	  "run a command with udamon's DAMON tree at /sys/kernel/mm/damon",
	  cli_ns },
};

#define NR_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
	size_t i;

	fprintf(out, "usage: udamon COMMAND [ARGS]\n\ncommands:\n");
	for (i = 0; i < NR_COMMANDS; i++)
		fprintf(out, "  %-10s %s\n", commands[i].name,
			commands[i].summary);
	fprintf(out, "\n'udamon COMMAND --help' describes a command; "
		     "'udamon --version' prints the version.\n");
}

int main(int argc, char **argv)
{
	size_t i;

	/* A bad command line exits 2, as every subcommand does. */
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("udamon %s\n", UDAMON_VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	for (i = 0; i < NR_COMMANDS; i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	if (argv[1][0] == '-')
		fprintf(stderr, "udamon: unknown option '%s'\n", argv[1]);
	else
		fprintf(stderr, "udamon: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
