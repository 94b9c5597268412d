/* fetch.c - the pull: GET URL and URL.sig with libcurl.
 *
 * The server is not trusted (the signature is what is trusted), but it can
 * still hurt the agent, so every transfer is bounded: https only, no
 * redirects (a redirect is refused with its target named, so that the
 * administrator fixes the URL rather than the agent following it to another
 * host), bodies capped while they arrive (a missing or lying Content-Length
 * changes nothing), a total time limit and a low-speed limit for bodies that
 * trickle, no content decoding (no decompression bombs). */
#include "sync.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define FETCH_LOW_SPEED_BYTES 64 /* per second, ... */
#define FETCH_LOW_SPEED_SECS 20  /* ... sustained this long: the server is stalling */
#define FETCH_CONNECT_SECS 15

struct fetch_body {
	char *data;
	size_t len, cap, max;
	bool too_large;
};

struct fetch_headers {
	char etag[STATE_ETAG_MAX];
	char location[256];
};

int sync_fetch_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

static size_t fetch_write(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct fetch_body *b = arg;
	size_t n = size * nmemb; /* size is 1 for bodies (libcurl's contract) */

	if (n > b->max - b->len) {
		b->too_large = true;
		return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap == 0 ? 65536 : b->cap;
		char *grown;
		while (cap < b->len + n + 1)
			cap *= 2;
		if (cap > b->max + 1)
			cap = b->max + 1;
		grown = realloc(b->data, cap);
		if (grown == NULL)
			return 0;
		b->data = grown;
		b->cap = cap;
	}
	memcpy(b->data + b->len, ptr, n);
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

/* "Name: value\r\n" -> value without surrounding blanks, if it fits. */
static void fetch_header_value(const char *line, size_t len, size_t name_len, char *out,
			       size_t cap)
{
	size_t start = name_len, end = len;

	while (start < end && (line[start] == ' ' || line[start] == '\t'))
		start++;
	while (end > start && (line[end - 1] == '\r' || line[end - 1] == '\n' ||
			       line[end - 1] == ' ' || line[end - 1] == '\t'))
		end--;
	if (end - start + 1 > cap) {
		out[0] = '\0'; /* an oversize value is dropped, never cut */
		return;
	}
	for (size_t i = start; i < end; i++) {
		unsigned char c = (unsigned char)line[i];
		if (c < 0x20 || c >= 0x7f) {
			out[0] = '\0'; /* it goes back into a request header: printable only */
			return;
		}
	}
	memcpy(out, line + start, end - start);
	out[end - start] = '\0';
}

static size_t fetch_header(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct fetch_headers *h = arg;
	size_t n = size * nmemb;

	if (n >= 5 && strncasecmp(ptr, "ETag:", 5) == 0)
		fetch_header_value(ptr, n, 5, h->etag, sizeof(h->etag));
	else if (n >= 9 && strncasecmp(ptr, "Location:", 9) == 0)
		fetch_header_value(ptr, n, 9, h->location, sizeof(h->location));
	return n;
}

/* One GET into body (capped at max). *status gets the HTTP status. */
static int fetch_one(const struct agent_config *cfg, const char *url, const char *etag,
		     struct fetch_body *body, struct fetch_headers *hdr, long *status, char *why,
		     size_t whylen)
{
	char errbuf[CURL_ERROR_SIZE] = "", inm[STATE_ETAG_MAX + 32];
	struct curl_slist *headers = NULL;
	CURL *c = curl_easy_init();
	CURLcode cc;
	int rv = SYNC_ELOCAL;

	if (c == NULL) {
		sync_why(why, whylen, "cannot start libcurl (out of memory)");
		return SYNC_ELOCAL;
	}
	if (etag != NULL && etag[0] != '\0') {
		snprintf(inm, sizeof(inm), "If-None-Match: %s", etag);
		headers = curl_slist_append(NULL, inm);
		if (headers == NULL)
			goto out;
	}
	cc = CURLE_OK;
#define FETCH_SET(opt, val) \
	do { if (cc == CURLE_OK) cc = curl_easy_setopt(c, opt, val); } while (0)
	FETCH_SET(CURLOPT_URL, url);
	FETCH_SET(CURLOPT_PROTOCOLS_STR, "https");
	FETCH_SET(CURLOPT_REDIR_PROTOCOLS_STR, "https");
	FETCH_SET(CURLOPT_FOLLOWLOCATION, 0L);
	FETCH_SET(CURLOPT_NOSIGNAL, 1L);
	FETCH_SET(CURLOPT_ERRORBUFFER, errbuf);
	FETCH_SET(CURLOPT_SSL_VERIFYPEER, 1L);
	FETCH_SET(CURLOPT_SSL_VERIFYHOST, 2L);
	FETCH_SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (cfg->ca_file != NULL) {
		/* Only this CA: the system's store is not added to it. */
		FETCH_SET(CURLOPT_CAINFO, cfg->ca_file);
		FETCH_SET(CURLOPT_CAPATH, (char *)NULL);
	}
	if (cfg->client_cert != NULL) {
		FETCH_SET(CURLOPT_SSLCERT, cfg->client_cert);
		FETCH_SET(CURLOPT_SSLKEY, cfg->client_key);
	}
	FETCH_SET(CURLOPT_TIMEOUT, (long)cfg->policy_timeout);
	FETCH_SET(CURLOPT_CONNECTTIMEOUT,
		  (long)(cfg->policy_timeout < FETCH_CONNECT_SECS ? cfg->policy_timeout
								 : FETCH_CONNECT_SECS));
	FETCH_SET(CURLOPT_LOW_SPEED_LIMIT, (long)FETCH_LOW_SPEED_BYTES);
	FETCH_SET(CURLOPT_LOW_SPEED_TIME, (long)FETCH_LOW_SPEED_SECS);
	FETCH_SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)body->max);
	FETCH_SET(CURLOPT_WRITEFUNCTION, fetch_write);
	FETCH_SET(CURLOPT_WRITEDATA, body);
	FETCH_SET(CURLOPT_HEADERFUNCTION, fetch_header);
	FETCH_SET(CURLOPT_HEADERDATA, hdr);
	FETCH_SET(CURLOPT_USERAGENT, "garde-agent/" GARDE_VERSION);
	if (headers != NULL)
		FETCH_SET(CURLOPT_HTTPHEADER, headers);
#undef FETCH_SET
	if (cc != CURLE_OK) {
		sync_why(why, whylen, "libcurl: %s", curl_easy_strerror(cc));
		goto out;
	}
	cc = curl_easy_perform(c);
	if (body->too_large || cc == CURLE_FILESIZE_EXCEEDED) {
		sync_why(why, whylen, "too large: %s is over %zu bytes", url, body->max);
		rv = SYNC_EREFUSED;
		goto out;
	}
	if (cc != CURLE_OK) {
		sync_why(why, whylen, "network error: %s: %s", url,
			  errbuf[0] != '\0' ? errbuf : curl_easy_strerror(cc));
		rv = SYNC_ENETWORK;
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	if (*status >= 300 && *status < 400 && *status != 304) {
		sync_why(why, whylen,
			  "network error: %s: redirect refused (HTTP %ld to '%s'): set policy.url to the final https URL",
			  url, *status, hdr->location[0] != '\0' ? hdr->location : "?");
		rv = SYNC_ENETWORK;
		goto out;
	}
	if (*status != 200 && *status != 304) {
		sync_why(why, whylen, "network error: %s: HTTP %ld", url, *status);
		rv = SYNC_ENETWORK;
		goto out;
	}
	rv = 0;
out:
	curl_slist_free_all(headers);
	curl_easy_cleanup(c);
	return rv;
}

int sync_fetch(const struct agent_config *cfg, const char *etag, struct sync_fetched *out,
	       char *why, size_t whylen)
{
	struct fetch_body pol = { .max = cfg->policy_max_bytes };
	struct fetch_body sig = { .max = SIG_MAX_BYTES };
	struct fetch_headers hdr, sig_hdr;
	char sig_url[4096];
	long status = 0;
	int rv;

	memset(out, 0, sizeof(*out));
	memset(&hdr, 0, sizeof(hdr));
	memset(&sig_hdr, 0, sizeof(sig_hdr));
	if ((size_t)snprintf(sig_url, sizeof(sig_url), "%s.sig", cfg->policy_url) >= sizeof(sig_url)) {
		sync_why(why, whylen, "%s: policy.url too long", cfg->path);
		return SYNC_ELOCAL;
	}
	rv = fetch_one(cfg, cfg->policy_url, etag, &pol, &hdr, &status, why, whylen);
	if (rv != 0)
		goto out;
	if (status == 304) {
		if (etag == NULL || etag[0] == '\0') {
			/* 304 to a request without If-None-Match is nonsense. */
			sync_why(why, whylen, "network error: %s: HTTP 304 to a plain GET", cfg->policy_url);
			rv = SYNC_ENETWORK;
			goto out;
		}
		out->not_modified = 1;
		goto out;
	}
	/* The signature is fetched after the policy: if the server replaces
	 * both in between, the pair does not match and is refused as a bad
	 * signature; the next poll gets a matching pair. */
	status = 0;
	rv = fetch_one(cfg, sig_url, NULL, &sig, &sig_hdr, &status, why, whylen);
	if (rv != 0)
		goto out;
	if (status != 200) {
		sync_why(why, whylen, "network error: %s: HTTP %ld", sig_url, status);
		rv = SYNC_ENETWORK;
		goto out;
	}
	out->policy = pol.data != NULL ? pol.data : calloc(1, 1);
	out->policy_len = pol.len;
	out->sig = sig.data != NULL ? sig.data : calloc(1, 1);
	out->sig_len = sig.len;
	pol.data = sig.data = NULL;
	if (out->policy == NULL || out->sig == NULL) {
		sync_why(why, whylen, "out of memory");
		sync_fetched_free(out);
		rv = SYNC_ELOCAL;
		goto out;
	}
	memcpy(out->etag, hdr.etag, sizeof(out->etag));
out:
	free(pol.data);
	free(sig.data);
	return rv;
}

void sync_fetched_free(struct sync_fetched *f)
{
	free(f->policy);
	free(f->sig);
	f->policy = f->sig = NULL;
	f->policy_len = f->sig_len = 0;
}
