/* pam_bench.c - times whole logins the way a service does them: one
 * process, pam_start_confdir / pam_authenticate / pam_acct_mgmt / pam_end
 * per login, answering every prompt with the next HOTP code. Linked with
 * libcrypto, as sshd and dovecot are, so that a module's libcrypto costs
 * nothing extra to load. Prints the median and 90th percentile in µs. */
#include <openssl/crypto.h>
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "otp.h"

struct bench_conv {
	struct otp_token token; /* HOTP; token.counter is the next code's counter */
	char code[OTP_CODE_BUF];
};

static int answer(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	struct bench_conv *bc = data;
	struct pam_response *r = calloc((size_t)n, sizeof(*r));

	if (r == NULL)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF || msg[i]->msg_style == PAM_PROMPT_ECHO_ON)
			r[i].resp = strdup(bc->code);
	}
	*resp = r;
	return PAM_SUCCESS;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

int main(int argc, char **argv)
{
	struct bench_conv bc = { .token = { .kind = OTP_HOTP, .algo = OTP_SHA1, .digits = 6 } };
	struct pam_conv conv = { answer, &bc };
	const char *confdir, *service, *user, *rhost, *label;
	long iterations;
	double *times;
	int failures = 0;

	if (argc != 9) {
		fprintf(stderr, "usage: pam_bench LABEL CONFDIR SERVICE USER RHOST ITERATIONS "
				"HOTP-SECRET-HEX START-COUNTER\n");
		return 2;
	}
	label = argv[1];
	confdir = argv[2];
	service = argv[3];
	user = argv[4];
	rhost = argv[5];
	iterations = strtol(argv[6], NULL, 10);
	if (iterations < 1 || iterations > 10000000)
		return 2;
	for (size_t i = 0; argv[7][2 * i] != '\0' && i < OTP_SECRET_MAX; i++) {
		unsigned byte;
		if (sscanf(argv[7] + 2 * i, "%2x", &byte) != 1)
			return 2;
		bc.token.secret[i] = (uint8_t)byte;
		bc.token.secret_len = i + 1;
	}
	bc.token.counter = strtoull(argv[8], NULL, 10);
	times = calloc((size_t)iterations, sizeof(*times));
	if (times == NULL)
		return 1;
	/* Make libcrypto really loaded and initialised, as in sshd. */
	OPENSSL_init_crypto(0, NULL);

	for (long i = 0; i < iterations; i++) {
		pam_handle_t *pamh = NULL;
		double t0;
		int rv;

		otp_generate(&bc.token, 0, bc.code, sizeof(bc.code));
		bc.token.counter++;
		t0 = now_us();
		rv = pam_start_confdir(service, user, &conv, confdir, &pamh);
		if (rv == PAM_SUCCESS && rhost[0] != '\0')
			rv = pam_set_item(pamh, PAM_RHOST, rhost);
		if (rv == PAM_SUCCESS)
			rv = pam_authenticate(pamh, 0);
		if (rv == PAM_SUCCESS)
			rv = pam_acct_mgmt(pamh, 0);
		pam_end(pamh, rv);
		times[i] = now_us() - t0;
		failures += rv != PAM_SUCCESS;
	}
	qsort(times, (size_t)iterations, sizeof(*times), cmp_double);
	printf("%-44s median %9.1f us   p90 %9.1f us   (%ld logins, %d refused)\n", label,
	       times[iterations / 2], times[iterations * 9 / 10], iterations, failures);
	free(times);
	return failures == 0 ? 0 : 1;
}
