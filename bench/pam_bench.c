/* pam_bench.c - times whole logins the way a service does them: one
 * process, pam_start_confdir / pam_authenticate / pam_acct_mgmt / pam_end
 * per login, answering every prompt with the next HOTP code (computed when
 * asked, as a phone would). Linked with libcrypto, as sshd and dovecot are,
 * so that a module's libcrypto costs nothing extra to load.
 *
 * Several stacks given together are timed in alternation (one login of
 * each, round after round), so that they share the machine's ups and downs:
 * on a shared VM two runs a minute apart can differ by more than the
 * difference being measured. Prints each stack's median and 90th
 * percentile in µs. */
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
		if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF || msg[i]->msg_style == PAM_PROMPT_ECHO_ON) {
			otp_generate(&bc->token, 0, bc->code, sizeof(bc->code));
			bc->token.counter++;
			r[i].resp = strdup(bc->code);
		}
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

struct bench_stack {
	const char *label, *service;
	double *times;
	int failures;
};

/* One whole login; returns its duration in µs and counts a refusal. */
static double login(const char *confdir, struct bench_stack *stack, const char *user,
		    const char *rhost, struct pam_conv *conv)
{
	pam_handle_t *pamh = NULL;
	double t0 = now_us();
	int rv = pam_start_confdir(stack->service, user, conv, confdir, &pamh);

	if (rv == PAM_SUCCESS && rhost[0] != '\0')
		rv = pam_set_item(pamh, PAM_RHOST, rhost);
	if (rv == PAM_SUCCESS)
		rv = pam_authenticate(pamh, 0);
	if (rv == PAM_SUCCESS)
		rv = pam_acct_mgmt(pamh, 0);
	pam_end(pamh, rv);
	stack->failures += rv != PAM_SUCCESS;
	return now_us() - t0;
}

int main(int argc, char **argv)
{
	struct bench_conv bc = { .token = { .kind = OTP_HOTP, .algo = OTP_SHA1, .digits = 6 } };
	struct pam_conv conv = { answer, &bc };
	struct bench_stack stacks[8];
	const char *confdir, *user, *rhost;
	long iterations;
	int n_stacks = 0, failures = 0;

	if (argc < 9 || (argc - 7) % 2 != 0 || (argc - 7) / 2 > 8) {
		fprintf(stderr, "usage: pam_bench CONFDIR USER RHOST ITERATIONS HOTP-SECRET-HEX "
				"START-COUNTER LABEL SERVICE [LABEL SERVICE]... (at most 8 stacks)\n");
		return 2;
	}
	confdir = argv[1];
	user = argv[2];
	rhost = argv[3];
	iterations = strtol(argv[4], NULL, 10);
	if (iterations < 1 || iterations > 10000000)
		return 2;
	for (size_t i = 0; argv[5][2 * i] != '\0' && i < OTP_SECRET_MAX; i++) {
		unsigned byte;
		if (sscanf(argv[5] + 2 * i, "%2x", &byte) != 1)
			return 2;
		bc.token.secret[i] = (uint8_t)byte;
		bc.token.secret_len = i + 1;
	}
	bc.token.counter = strtoull(argv[6], NULL, 10);
	for (int a = 7; a + 1 < argc; a += 2, n_stacks++) {
		stacks[n_stacks] = (struct bench_stack){ argv[a], argv[a + 1], NULL, 0 };
		stacks[n_stacks].times = calloc((size_t)iterations, sizeof(double));
		if (stacks[n_stacks].times == NULL)
			return 1;
	}
	/* Make libcrypto really loaded and initialised, as in sshd. */
	OPENSSL_init_crypto(0, NULL);

	for (long i = 0; i < iterations; i++)
		for (int s = 0; s < n_stacks; s++)
			stacks[s].times[i] = login(confdir, &stacks[s], user, rhost, &conv);
	for (int s = 0; s < n_stacks; s++) {
		double *t = stacks[s].times;

		qsort(t, (size_t)iterations, sizeof(*t), cmp_double);
		printf("%-44s median %9.1f us   p90 %9.1f us   (%ld logins, %d refused)\n",
		       stacks[s].label, t[iterations / 2], t[iterations * 9 / 10], iterations,
		       stacks[s].failures);
		failures += stacks[s].failures;
		free(t);
	}
	return failures == 0 ? 0 : 1;
}
