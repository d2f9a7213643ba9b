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
int cli_start(int argc, char **argv);
int cli_tune(int argc, char **argv);
int cli_pause(int argc, char **argv);
int cli_resume(int argc, char **argv);
int cli_stop(int argc, char **argv);
int cli_status(int argc, char **argv);
/* png.c: whether PNG output was built in; write RGB rows to a PNG file. */
bool cli_png_supported(void);
int cli_png_write(const char *path, const unsigned char *rgb,
		  unsigned int width, unsigned int height);

#endif /* UDAMON_CLI_H */
