/* sink_http.c - JSON batches POSTed with libcurl; a 2xx answer is the
 * acknowledgement.
 *
 * Body formats (http_format):
 *   ndjson      one event per line (a webhook, Logstash http input, Vector)
 *   es-bulk     Elasticsearch _bulk: {"index":{"_id":"EVENT-ID"}} then the
 *               event, per line. The event id as _id makes a resent batch
 *               overwrite rather than duplicate. A 200 whose body says
 *               "errors":true is a failure (some items were refused).
 *   splunk-hec  Splunk HTTP Event Collector: {"event":EVENT} per event.
 * http_token, when set, is sent as the Authorization header value as is
 * ("Splunk TOKEN", "Bearer TOKEN", "ApiKey ..."). Redirects are not
 * followed; only http and https are allowed. */
#define _GNU_SOURCE /* asprintf */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "jsonscan.h"
#include "sink.h"

#define HTTP_BODY_MAX (8u << 20)
#define HTTP_REPLY_MAX 65536

enum http_format { FMT_NDJSON, FMT_ES_BULK, FMT_SPLUNK };

struct http_sink {
	const struct agent_sink *conf;
	enum http_format fmt;
	CURL *curl;
	struct curl_slist *headers;
	char *body;
	size_t len, cap;
	char reply[HTTP_REPLY_MAX + 1];
	size_t reply_len;
	char curl_err[CURL_ERROR_SIZE];
};

static size_t http_reply_cb(char *p, size_t size, size_t nmemb, void *arg)
{
	struct http_sink *s = arg;
	size_t n = size * nmemb, room = HTTP_REPLY_MAX - s->reply_len;

	/* Kept only to find "errors":true; the rest is read and dropped. */
	memcpy(s->reply + s->reply_len, p, n < room ? n : room);
	s->reply_len += n < room ? n : room;
	s->reply[s->reply_len] = '\0';
	return n;
}

static int http_init(const struct agent_sink *conf, void **state, char *why, size_t whylen)
{
	struct http_sink *s = calloc(1, sizeof(*s));
	char *auth = NULL;

	*state = NULL;
	if (s == NULL) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	s->conf = conf;
	if (conf->http_format == NULL || strcmp(conf->http_format, "ndjson") == 0)
		s->fmt = FMT_NDJSON;
	else if (strcmp(conf->http_format, "es-bulk") == 0)
		s->fmt = FMT_ES_BULK;
	else if (strcmp(conf->http_format, "splunk-hec") == 0)
		s->fmt = FMT_SPLUNK;
	else {
		snprintf(why, whylen, "unknown http_format '%s' (ndjson, es-bulk, splunk-hec)",
			 conf->http_format);
		free(s);
		return -1;
	}
	/* Reference-counted in libcurl >= 7.84; sync.c calls it too. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || (s->curl = curl_easy_init()) == NULL) {
		snprintf(why, whylen, "cannot initialise libcurl");
		free(s);
		return -1;
	}
	s->headers = curl_slist_append(NULL, s->fmt == FMT_SPLUNK ? "Content-Type: application/json"
								  : "Content-Type: application/x-ndjson");
	s->headers = curl_slist_append(s->headers, "Expect:");
	if (conf->http_token != NULL && asprintf(&auth, "Authorization: %s", conf->http_token) > 0) {
		s->headers = curl_slist_append(s->headers, auth);
		explicit_bzero(auth, strlen(auth));
		free(auth);
	}
	curl_easy_setopt(s->curl, CURLOPT_URL, conf->url);
	curl_easy_setopt(s->curl, CURLOPT_HTTPHEADER, s->headers);
	curl_easy_setopt(s->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(s->curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(s->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(s->curl, CURLOPT_TIMEOUT, (long)conf->timeout);
	curl_easy_setopt(s->curl, CURLOPT_CONNECTTIMEOUT, (long)conf->timeout);
	curl_easy_setopt(s->curl, CURLOPT_WRITEFUNCTION, http_reply_cb);
	curl_easy_setopt(s->curl, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(s->curl, CURLOPT_ERRORBUFFER, s->curl_err);
	if (conf->ca_file != NULL)
		curl_easy_setopt(s->curl, CURLOPT_CAINFO, conf->ca_file);
	if (conf->client_cert != NULL)
		curl_easy_setopt(s->curl, CURLOPT_SSLCERT, conf->client_cert);
	if (conf->client_key != NULL)
		curl_easy_setopt(s->curl, CURLOPT_SSLKEY, conf->client_key);
	*state = s;
	return 0;
}

static int body_put(struct http_sink *s, const char *p, size_t n)
{
	if (s->cap - s->len < n) {
		size_t cap = s->cap ? s->cap : 65536;
		char *b;
		while (cap - s->len < n)
			cap *= 2;
		if (cap > HTTP_BODY_MAX || (b = realloc(s->body, cap)) == NULL)
			return -1;
		s->body = b;
		s->cap = cap;
	}
	memcpy(s->body + s->len, p, n);
	s->len += n;
	return 0;
}

static int http_body(struct http_sink *s, const struct sink_msg *msgs, size_t n)
{
	s->len = 0;
	for (size_t i = 0; i < n; i++) {
		int rv = 0;
		if (s->fmt == FMT_ES_BULK) {
			char id[80], line[128];
			if (jsonscan_get_str(msgs[i].json, msgs[i].len, "event.id", id, sizeof(id)) != 1)
				id[0] = '\0';
			/* The id is hex (checked at intake); no escaping needed. */
			if (id[0] != '\0')
				snprintf(line, sizeof(line), "{\"index\":{\"_id\":\"%s\"}}\n", id);
			else
				strcpy(line, "{\"index\":{}}\n");
			rv |= body_put(s, line, strlen(line));
		} else if (s->fmt == FMT_SPLUNK) {
			rv |= body_put(s, "{\"event\":", 9);
		}
		rv |= body_put(s, msgs[i].json, msgs[i].len);
		if (s->fmt == FMT_SPLUNK)
			rv |= body_put(s, "}", 1);
		rv |= body_put(s, "\n", 1);
		if (rv != 0)
			return -1;
	}
	return 0;
}

static int http_send(void *state, const struct sink_msg *msgs, size_t n, char *why,
		     size_t whylen)
{
	struct http_sink *s = state;
	long status = 0;
	CURLcode cr;

	if (http_body(s, msgs, n) != 0) {
		snprintf(why, whylen, "batch body over %u bytes or out of memory", HTTP_BODY_MAX);
		return -1;
	}
	s->reply_len = 0;
	s->reply[0] = '\0';
	s->curl_err[0] = '\0';
	curl_easy_setopt(s->curl, CURLOPT_POSTFIELDS, s->body);
	curl_easy_setopt(s->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)s->len);
	cr = curl_easy_perform(s->curl);
	if (cr != CURLE_OK) {
		snprintf(why, whylen, "POST %s: %s", s->conf->url,
			 s->curl_err[0] ? s->curl_err : curl_easy_strerror(cr));
		return -1;
	}
	curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status < 200 || status > 299) {
		snprintf(why, whylen, "POST %s: HTTP status %ld, not acknowledged", s->conf->url,
			 status);
		return -1;
	}
	if (s->fmt == FMT_ES_BULK && strstr(s->reply, "\"errors\":true") != NULL) {
		snprintf(why, whylen, "POST %s: the bulk reply says some items were refused",
			 s->conf->url);
		return -1;
	}
	return 0;
}

static void http_reset(void *state)
{
	(void)state; /* libcurl reconnects by itself */
}

static void http_free(void *state)
{
	struct http_sink *s = state;

	if (s == NULL)
		return;
	if (s->curl != NULL)
		curl_easy_cleanup(s->curl);
	curl_slist_free_all(s->headers);
	free(s->body);
	free(s);
	curl_global_cleanup();
}

const struct sink_ops sink_http_ops = {
	.type = "http",
	.init = http_init,
	.send = http_send,
	.reset = http_reset,
	.free = http_free,
};
