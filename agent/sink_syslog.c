/* sink_syslog.c - RFC 5424 over TCP with octet-counting framing (RFC 6587
 * section 3.4.1: "LEN SP MSG"), optionally in TLS (RFC 5425).
 *
 * Plain syslog has no acknowledgement. A batch counts as delivered once
 * every byte has been accepted by the kernel (write/SSL_write returned):
 * events still in the socket buffers when the collector or the network
 * dies are lost without any sign, which is why garde-agent.conf(5) says to
 * prefer relp or http. To narrow the gap, before each batch the connection
 * is probed (a collector never sends on it, so readable means closed) and
 * reopened if the peer has gone. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "sink.h"

#define SYSLOG_BUF (1u << 20)

struct syslog_sink {
	const struct agent_sink *conf;
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
	char hostname[256];
	char *buf; /* the frames of a batch, written in as few calls as possible */
	size_t len;
};

static int tcp_connect(const struct agent_sink *c, char *why, size_t whylen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_family = AF_UNSPEC };
	struct addrinfo *res = NULL, *ai;
	char port[16];
	int fd = -1, err;

	snprintf(port, sizeof(port), "%u", c->port);
	err = getaddrinfo(c->host, port, &hints, &res);
	if (err != 0) {
		snprintf(why, whylen, "%s:%s: %s", c->host, port, gai_strerror(err));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		struct pollfd pfd;
		struct timeval tv = { .tv_sec = (time_t)c->timeout };
		socklen_t sl = sizeof(err);

		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
			    ai->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS)
			goto next;
		pfd.fd = fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, (int)c->timeout * 1000) != 1)
			goto next;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl) != 0 || err != 0) {
			errno = err;
			goto next;
		}
		/* Blocking from here, every write bounded by the timeout. */
		if (fcntl(fd, F_SETFL, 0) != 0 ||
		    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0 ||
		    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0)
			goto next;
		break;
next:
		err = errno;
		close(fd);
		fd = -1;
		errno = err;
	}
	if (fd < 0)
		snprintf(why, whylen, "cannot connect to %s:%s: %s", c->host, port,
			 errno ? strerror(errno) : "timed out");
	freeaddrinfo(res);
	return fd;
}

static void ssl_why(char *why, size_t whylen, const char *what)
{
	char e[200];

	ERR_error_string_n(ERR_get_error(), e, sizeof(e));
	snprintf(why, whylen, "%s: %s", what, e);
}

static int syslog_init(const struct agent_sink *conf, void **state, char *why, size_t whylen)
{
	struct syslog_sink *s = calloc(1, sizeof(*s));

	*state = NULL;
	if (s == NULL || (s->buf = malloc(SYSLOG_BUF)) == NULL) {
		free(s);
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	s->conf = conf;
	s->fd = -1;
	if (gethostname(s->hostname, sizeof(s->hostname) - 1) != 0)
		strcpy(s->hostname, "-");
	if (conf->tls) {
		s->ctx = SSL_CTX_new(TLS_client_method());
		if (s->ctx == NULL ||
		    SSL_CTX_set_min_proto_version(s->ctx, TLS1_2_VERSION) != 1 ||
		    (conf->ca_file ? SSL_CTX_load_verify_locations(s->ctx, conf->ca_file, NULL)
				   : SSL_CTX_set_default_verify_paths(s->ctx)) != 1 ||
		    (conf->client_cert &&
		     SSL_CTX_use_certificate_chain_file(s->ctx, conf->client_cert) != 1) ||
		    (conf->client_key &&
		     SSL_CTX_use_PrivateKey_file(s->ctx, conf->client_key, SSL_FILETYPE_PEM) != 1)) {
			ssl_why(why, whylen, "TLS set-up (CA file, client certificate or key)");
			SSL_CTX_free(s->ctx);
			free(s->buf);
			free(s);
			return -1;
		}
		SSL_CTX_set_verify(s->ctx, SSL_VERIFY_PEER, NULL);
	}
	*state = s;
	return 0;
}

static void syslog_reset(void *state)
{
	struct syslog_sink *s = state;

	if (s->ssl != NULL) {
		SSL_free(s->ssl); /* no close_notify: the peer may be gone already */
		s->ssl = NULL;
	}
	if (s->fd >= 0) {
		close(s->fd);
		s->fd = -1;
	}
}

static int syslog_connect(struct syslog_sink *s, char *why, size_t whylen)
{
	s->fd = tcp_connect(s->conf, why, whylen);
	if (s->fd < 0)
		return -1;
	if (s->ctx == NULL)
		return 0;
	s->ssl = SSL_new(s->ctx);
	if (s->ssl == NULL || SSL_set_fd(s->ssl, s->fd) != 1 ||
	    SSL_set_tlsext_host_name(s->ssl, s->conf->host) != 1 ||
	    SSL_set1_host(s->ssl, s->conf->host) != 1 || SSL_connect(s->ssl) != 1) {
		long vr = s->ssl ? SSL_get_verify_result(s->ssl) : X509_V_OK;
		if (vr != X509_V_OK)
			snprintf(why, whylen, "TLS to %s: certificate not accepted: %s", s->conf->host,
				 X509_verify_cert_error_string(vr));
		else
			ssl_why(why, whylen, "TLS handshake");
		syslog_reset(s);
		return -1;
	}
	return 0;
}

/* True when the collector has closed (or reset) the connection. */
static int syslog_peer_gone(struct syslog_sink *s)
{
	struct pollfd pfd = { .fd = s->fd, .events = POLLIN };
	char c;

	if (poll(&pfd, 1, 0) != 1)
		return 0;
	return recv(s->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) <= 0 || (pfd.revents & (POLLERR | POLLHUP));
}

static int syslog_write(struct syslog_sink *s, char *why, size_t whylen)
{
	size_t off = 0;

	while (off < s->len) {
		ssize_t n;
		if (s->ssl != NULL) {
			int k = SSL_write(s->ssl, s->buf + off, (int)(s->len - off));
			n = k > 0 ? k : -1;
		} else {
			n = send(s->fd, s->buf + off, s->len - off, MSG_NOSIGNAL);
			if (n < 0 && errno == EINTR)
				continue;
		}
		if (n <= 0) {
			snprintf(why, whylen, "%s:%u: write failed: %s", s->conf->host, s->conf->port,
				 s->ssl ? "TLS error" : strerror(errno));
			return -1;
		}
		off += (size_t)n;
	}
	s->len = 0;
	return 0;
}

static int syslog_send(void *state, const struct sink_msg *msgs, size_t n, char *why,
		       size_t whylen)
{
	struct syslog_sink *s = state;
	char msg[RFC5424_MAX];

	if (s->fd >= 0 && syslog_peer_gone(s))
		syslog_reset(s);
	if (s->fd < 0 && syslog_connect(s, why, whylen) != 0)
		return -1;
	s->len = 0;
	for (size_t i = 0; i < n; i++) {
		int len = rfc5424_format(msgs[i].json, msgs[i].len, s->hostname, msg, sizeof(msg));
		int k;
		if (len < 0)
			continue;
		if (SYSLOG_BUF - s->len < (size_t)len + 16 && syslog_write(s, why, whylen) != 0)
			goto fail;
		k = snprintf(s->buf + s->len, 16, "%d ", len);
		memcpy(s->buf + s->len + k, msg, (size_t)len);
		s->len += (size_t)k + (size_t)len;
	}
	if (syslog_write(s, why, whylen) != 0)
		goto fail;
	return 0;
fail:
	syslog_reset(s);
	return -1;
}

static void syslog_free(void *state)
{
	struct syslog_sink *s = state;

	if (s == NULL)
		return;
	syslog_reset(s);
	SSL_CTX_free(s->ctx);
	free(s->buf);
	free(s);
}

const struct sink_ops sink_syslog_ops = {
	.type = "syslog",
	.init = syslog_init,
	.send = syslog_send,
	.reset = syslog_reset,
	.free = syslog_free,
};
