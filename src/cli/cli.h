/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The udamon command-line front end: one function per subcommand, each
 * taking the arguments after the subcommand's name and returning the
 * process exit status.  main.c dispatches by name.
 */
#ifndef UDAMON_CLI_H
#define UDAMON_CLI_H

struct cli_command {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv);
};

/* udamon ns: run a command with udamon's tree over /sys/kernel/mm/damon */
int cli_ns(int argc, char **argv);

#endif /* UDAMON_CLI_H */
