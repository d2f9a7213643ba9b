/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* udamond --metrics: the tree's kdamonds on a Prometheus endpoint. */
#ifndef UDAMON_DAEMON_METRICS_H
#define UDAMON_DAEMON_METRICS_H

#include <stddef.h>

/*
 * Serve the metrics of every kdamond of the tree at @spec (ADDR:PORT,
 * [ADDR6]:PORT or PORT for loopback).  Call after daemonizing (it starts a
 * thread).  Return 0, or a negative errno with a reason in @why.
 */
int udamond_metrics_start(const char *spec, char *why, size_t whylen);
/* The address it listens on, for the log ("" when not started). */
const char *udamond_metrics_address(void);
/* Stop serving; a no-op when not started. */
void udamond_metrics_stop(void);

#endif /* UDAMON_DAEMON_METRICS_H */
