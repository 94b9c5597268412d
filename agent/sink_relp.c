/* sink_relp.c - RELP (librelp) to an rsyslog imrelp input.
 *
 * When is a batch acknowledged? librelp 1.11 sends each message as a RELP
 * "syslog" command and matches the server's "rsp" frames internally; its
 * API offers no count of unacknowledged frames. relpCltSendSyslog returns
 * once the frame is queued inside the window, not once it is acked, and a
 * session that breaks keeps the unacked frames in memory only.
 *
 * So each batch is one RELP session, and the fence is the session's close:
 * destroying the client sends "close" and waits (up to the timeout) for
 * its "rsp 200". The server answers commands in order on the one TCP
 * stream, so that answer comes after the answers to every syslog command
 * before it, and librelp processes them in order. Any answer other than
 * 200, a broken session, a timeout or a missing close answer reaches us
 * through the engine's onErr callback, which counts errors per sink. The
 * batch counts as delivered only when every send returned RELP_RET_OK and
 * no error was reported from connect to the end of the close. Otherwise the
 * whole batch is sent again (the duplicates are the batch in flight).
 *
 * Cost: one connect and open/close exchange per batch (batch = 500 by
 * default), measured by bench/bench_relp.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <librelp.h>

#include "sink.h"

#define RELP_WINDOW_MAX 1024

struct relp_sink {
	const struct agent_sink *conf;
	relpEngine_t *engine;
	char port[16];
	char hostname[256];
	char *msg;
	unsigned errors; /* onErr calls since the batch began */
	char err[256];
};

static void relp_on_err(void *usr, char *objinfo, char *errmsg, relpRetVal code)
{
	struct relp_sink *s = usr;

	if (s == NULL)
		return;
	s->errors++;
	snprintf(s->err, sizeof(s->err), "%s: %s (librelp %d)", objinfo ? objinfo : "relp",
		 errmsg ? errmsg : "error", (int)code);
}

static void relp_on_generic_err(char *objinfo, char *errmsg, relpRetVal code)
{
	deliver_log("relp: %s: %s (librelp %d)", objinfo ? objinfo : "", errmsg ? errmsg : "",
		    (int)code);
}

static void relp_on_auth_err(void *usr, char *authinfo, char *errmsg, relpRetVal code)
{
	struct relp_sink *s = usr;

	if (s == NULL)
		return;
	s->errors++;
	snprintf(s->err, sizeof(s->err), "TLS authentication: %s: %s (librelp %d)",
		 authinfo ? authinfo : "", errmsg ? errmsg : "", (int)code);
}

/* librelp calls its debug hook unconditionally and has no default one. */
static void relp_dbg(char *fmt, ...)
{
	(void)fmt;
}

static int relp_init(const struct agent_sink *conf, void **state, char *why, size_t whylen)
{
	struct relp_sink *s = calloc(1, sizeof(*s));
	unsigned char cmd[] = "syslog"; /* librelp's prototypes are not const */

	*state = NULL;
	if (s == NULL || (s->msg = malloc(RFC5424_MAX)) == NULL) {
		free(s);
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	s->conf = conf;
	snprintf(s->port, sizeof(s->port), "%u", conf->port);
	if (gethostname(s->hostname, sizeof(s->hostname) - 1) != 0)
		strcpy(s->hostname, "-");
	if (relpEngineConstruct(&s->engine) != RELP_RET_OK ||
	    relpEngineSetDbgprint(s->engine, relp_dbg) != RELP_RET_OK ||
	    relpEngineSetEnableCmd(s->engine, cmd, eRelpCmdState_Required) != RELP_RET_OK ||
	    relpEngineSetOnErr(s->engine, relp_on_err) != RELP_RET_OK ||
	    relpEngineSetOnGenericErr(s->engine, relp_on_generic_err) != RELP_RET_OK ||
	    relpEngineSetOnAuthErr(s->engine, relp_on_auth_err) != RELP_RET_OK) {
		snprintf(why, whylen, "cannot set up librelp");
		if (s->engine != NULL)
			relpEngineDestruct(&s->engine);
		free(s->msg);
		free(s);
		return -1;
	}
	*state = s;
	return 0;
}

static int relp_client(struct relp_sink *s, relpClt_t **out, char *why, size_t whylen)
{
	const struct agent_sink *c = s->conf;
	relpClt_t *clt = NULL;
	int window = c->batch > RELP_WINDOW_MAX ? RELP_WINDOW_MAX : (int)c->batch;
	char mode[] = "name";
	relpRetVal r;

	r = relpEngineCltConstruct(s->engine, &clt);
	if (r != RELP_RET_OK) {
		snprintf(why, whylen, "librelp client: error %d", (int)r);
		return -1;
	}
	relpCltSetUsrPtr(clt, s);
	relpCltSetTimeout(clt, c->timeout);
	relpCltSetConnTimeout(clt, (int)c->timeout);
	relpCltSetWindowSize(clt, window > 1 ? window : 2);
	if (c->tls) {
		if ((r = relpCltEnableTLS(clt)) != RELP_RET_OK ||
		    (c->ca_file && (r = relpCltSetCACert(clt, c->ca_file)) != RELP_RET_OK) ||
		    (c->client_cert && (r = relpCltSetOwnCert(clt, c->client_cert)) != RELP_RET_OK) ||
		    (c->client_key && (r = relpCltSetPrivKey(clt, c->client_key)) != RELP_RET_OK) ||
		    (r = relpCltSetAuthMode(clt, mode)) != RELP_RET_OK ||
		    (r = relpCltAddPermittedPeer(clt, c->host)) != RELP_RET_OK) {
			snprintf(why, whylen, "librelp TLS set-up failed (error %d)", (int)r);
			relpEngineCltDestruct(s->engine, &clt);
			return -1;
		}
	}
	r = relpCltConnect(clt, AF_UNSPEC, (unsigned char *)s->port, (unsigned char *)c->host);
	if (r != RELP_RET_OK) {
		snprintf(why, whylen, "cannot connect to %s:%s: %s", c->host, s->port,
			 s->errors ? s->err : "librelp error");
		relpEngineCltDestruct(s->engine, &clt);
		return -1;
	}
	*out = clt;
	return 0;
}

static int relp_send(void *state, const struct sink_msg *msgs, size_t n, char *why,
		     size_t whylen)
{
	struct relp_sink *s = state;
	relpClt_t *clt = NULL;
	relpRetVal r = RELP_RET_OK;
	size_t i;

	s->errors = 0;
	s->err[0] = '\0';
	if (relp_client(s, &clt, why, whylen) != 0)
		return -1;
	relpCltHintBurstBegin(clt);
	for (i = 0; i < n; i++) {
		int len = rfc5424_format(msgs[i].json, msgs[i].len, s->hostname, s->msg,
					 RFC5424_MAX);
		if (len < 0) /* cannot happen: RFC5424_MAX fits the largest event */
			continue;
		r = relpCltSendSyslog(clt, (unsigned char *)s->msg, (size_t)len);
		if (r != RELP_RET_OK)
			break;
	}
	relpCltHintBurstEnd(clt);
	/* The acknowledgement fence: see the top of this file. */
	relpEngineCltDestruct(s->engine, &clt);
	if (r != RELP_RET_OK || s->errors != 0) {
		snprintf(why, whylen, "%s:%s: %zu of %zu sent, not acknowledged: %s",
			 s->conf->host, s->port, i, n,
			 s->errors ? s->err : "librelp send error");
		return -1;
	}
	return 0;
}

static void relp_reset(void *state)
{
	(void)state; /* no connection outlives a batch */
}

static void relp_free(void *state)
{
	struct relp_sink *s = state;

	if (s == NULL)
		return;
	if (s->engine != NULL)
		relpEngineDestruct(&s->engine);
	free(s->msg);
	free(s);
}

const struct sink_ops sink_relp_ops = {
	.type = "relp",
	.init = relp_init,
	.send = relp_send,
	.reset = relp_reset,
	.free = relp_free,
};
