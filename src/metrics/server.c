// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The HTTP endpoint: libmicrohttpd with one internal thread, so scrapes are
 * served one at a time and a slow scraper cannot pile up collections.  A
 * scrape calls the program's collector, which returns a copy; the copy is
 * formatted and sent with no lock of the program held.  The format is
 * negotiated from Accept: OpenMetrics 1.0.0 when the scraper lists it (as
 * Prometheus does), the Prometheus text format 0.0.4 otherwise.
 */
#include "metrics/metrics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#ifdef UDAMON_HAVE_MHD
#include <microhttpd.h>
#endif

#define METRICS_CT_OM \
	"application/openmetrics-text; version=1.0.0; charset=utf-8"
#define METRICS_CT_TEXT "text/plain; version=0.0.4; charset=utf-8"

int metrics_parse_addr(const char *spec, void *sockaddr_storage,
		       unsigned int *socklen, char *why, size_t whylen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res;
	char host[256];
	const char *port, *colon;
	unsigned long p;
	char *end;
	int err;

	colon = strrchr(spec, ':');
	if (spec[0] == '[') {
		const char *close = strchr(spec, ']');

		if (!close || close[1] != ':') {
			snprintf(why, whylen,
				 "'%s': expected [ADDRESS]:PORT for IPv6",
				 spec);
			return -EINVAL;
		}
		snprintf(host, sizeof(host), "%.*s", (int)(close - spec - 1),
			 spec + 1);
		port = close + 2;
	} else if (colon) {
		if ((size_t)(colon - spec) >= sizeof(host)) {
			snprintf(why, whylen, "'%s': address too long", spec);
			return -EINVAL;
		}
		snprintf(host, sizeof(host), "%.*s", (int)(colon - spec), spec);
		port = colon + 1;
	} else {
		/* only a port: loopback, so nothing is exposed by accident */
		snprintf(host, sizeof(host), "127.0.0.1");
		port = spec;
	}
	errno = 0;
	p = strtoul(port, &end, 10);
	if (!*port || *end || errno || p > 65535 || *port == '-' ||
	    *port == '+') {
		snprintf(why, whylen, "'%s': the port must be 0 to 65535",
			 spec);
		return -EINVAL;
	}
	if (!host[0]) {
		snprintf(why, whylen, "'%s': the address is empty", spec);
		return -EINVAL;
	}
	err = getaddrinfo(host, port, &hints, &res);
	if (err) {
		snprintf(why, whylen, "'%s': %s", host, gai_strerror(err));
		return -EINVAL;
	}
	memcpy(sockaddr_storage, res->ai_addr, res->ai_addrlen);
	*socklen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

#ifdef UDAMON_HAVE_MHD

struct metrics_server {
	struct MHD_Daemon *mhd;
	metrics_collect_fn collect;
	void *arg;
	char address[INET6_ADDRSTRLEN + 16];
};

static bool wants_openmetrics(struct MHD_Connection *conn)
{
	const char *accept = MHD_lookup_connection_value(
		conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);

	return accept && strstr(accept, "application/openmetrics-text");
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned int status,
			     const char *ctype, char *body, size_t len)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(len, body,
					       MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result reply_text(struct MHD_Connection *conn,
				  unsigned int status, const char *msg)
{
	char *body = strdup(msg);

	if (!body)
		return MHD_NO;
	return reply(conn, status, "text/plain; charset=utf-8", body,
		     strlen(body));
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload_data,
				  size_t *upload_data_size, void **req_cls)
{
	struct metrics_server *srv = cls;
	struct metrics_set set = { 0 };
	bool om;
	char *text;
	size_t len;
	int err;

	if (strcmp(method, MHD_HTTP_METHOD_GET) &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
				  "only GET and HEAD\n");
	/* No body is expected; the first call only sees the headers. */
	if (*upload_data_size)
		return reply_text(conn, MHD_HTTP_BAD_REQUEST,
				  "no request body expected\n");
	if (strcmp(url, "/metrics"))
		return reply_text(conn, MHD_HTTP_NOT_FOUND,
				  "udamon serves /metrics only\n");
	om = wants_openmetrics(conn);
	err = srv->collect(srv->arg, &set);
	if (!err)
		err = metrics_format(&set, om, &text, &len);
	metrics_set_release(&set);
	if (err) {
		char msg[128];

		snprintf(msg, sizeof(msg), "collecting metrics failed: %s\n",
			 strerror(-err));
		return reply_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, msg);
	}
	return reply(conn, MHD_HTTP_OK, om ? METRICS_CT_OM : METRICS_CT_TEXT,
		     text, len);
}

int metrics_server_start(const char *spec, metrics_collect_fn fn, void *arg,
			 struct metrics_server **out, char *why, size_t whylen)
{
	struct sockaddr_storage ss;
	const union MHD_DaemonInfo *info;
	struct metrics_server *srv;
	unsigned int socklen, flags;
	char host[INET6_ADDRSTRLEN];
	unsigned int port;
	int err;

	err = metrics_parse_addr(spec, &ss, &socklen, why, whylen);
	if (err)
		return err;
	srv = calloc(1, sizeof(*srv));
	if (!srv) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	srv->collect = fn;
	srv->arg = arg;
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/*
	 * Port 0 asks the kernel for a free one, read back below.  A few
	 * connections suffice for scrapers; idle ones are dropped.
	 */
	srv->mhd = MHD_start_daemon(
		flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_SOCK_ADDR,
		(struct sockaddr *)&ss, MHD_OPTION_CONNECTION_LIMIT, 16u,
		MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
	if (!srv->mhd) {
		snprintf(why, whylen, "cannot listen on %s: %s", spec,
			 strerror(errno ? errno : EADDRINUSE));
		free(srv);
		return -EADDRINUSE;
	}
	info = MHD_get_daemon_info(srv->mhd, MHD_DAEMON_INFO_BIND_PORT);
	port = info ? info->port : 0;
	if (ss.ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr,
			  host, sizeof(host));
		snprintf(srv->address, sizeof(srv->address), "[%s]:%u", host,
			 port);
	} else {
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, host,
			  sizeof(host));
		snprintf(srv->address, sizeof(srv->address), "%s:%u", host,
			 port);
	}
	*out = srv;
	return 0;
}

const char *metrics_server_address(const struct metrics_server *srv)
{
	return srv->address;
}

void metrics_server_stop(struct metrics_server *srv)
{
	if (!srv)
		return;
	MHD_stop_daemon(srv->mhd);
	free(srv);
}

#else /* !UDAMON_HAVE_MHD */

int metrics_server_start(const char *spec, metrics_collect_fn fn, void *arg,
			 struct metrics_server **out, char *why, size_t whylen)
{
	snprintf(
		why, whylen,
		"this build has no metrics endpoint (libmicrohttpd was missing)");
	return -EOPNOTSUPP;
}

const char *metrics_server_address(const struct metrics_server *srv)
{
	return "";
}

void metrics_server_stop(struct metrics_server *srv)
{
}

#endif
