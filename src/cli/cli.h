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

/*
 * Monitoring, records and reports (record.c, report.c, tree.c; shared
 * helpers in util.h).  Exit status: 0 ok, 1 usage, 2 failure, 3 missing.
 */
#include <stdbool.h>
int cli_record(int argc, char **argv);
int cli_report(int argc, char **argv);
int cli_sweep(int argc, char **argv);
int cli_start(int argc, char **argv);
int cli_tune(int argc, char **argv);
int cli_pause(int argc, char **argv);
int cli_resume(int argc, char **argv);
int cli_stop(int argc, char **argv);
int cli_status(int argc, char **argv);
/*
 * access.c: "udamon report access" (argv[0] is "access"); and the check
 * that --at (-1: none), --time-range (@t_to 0: none) and --addr-range
 * (@a_to 0: none) lie within @rec: CLI_EUSAGE after a message if not.
 */
struct udamon_record;
int cli_report_access(int argc, char **argv);
int cli_check_record_ranges(const struct udamon_record *rec, const char *path,
			    unsigned int target, double at, double t_from,
			    double t_to, unsigned long a_from,
			    unsigned long a_to);
int cli_checkpoint(int argc, char **argv);
int cli_restore(int argc, char **argv);

#endif /* UDAMON_CLI_H */
