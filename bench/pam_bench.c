/* pam_bench.c - times whole logins the way a service does them: one
 * process, pam_start_confdir / pam_authenticate / pam_acct_mgmt / pam_end
 * per login, answering every prompt with the next HOTP code. The codes are
 * computed before the clock starts: a phone computes its code elsewhere, and
 * a login timed with the client's HMAC in it would charge the module for
 * the client's work. Linked with libcrypto, as sshd and dovecot are,
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

#include "hex.h"
#include "otp.h"

/* The codes of every prompt the run can meet, in the order they are asked
 * for: at most one prompt per login of each stack. */
struct bench_conv {
	char (*codes)[OTP_CODE_BUF];
	size_t n, next;
};

static int answer(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	struct bench_conv *bc = data;
	struct pam_response *r = calloc((size_t)n, sizeof(*r));

	if (r == NULL)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		if ((msg[i]->msg_style == PAM_PROMPT_ECHO_OFF ||
		     msg[i]->msg_style == PAM_PROMPT_ECHO_ON) && bc->next < bc->n)
			r[i].resp = strdup(bc->codes[bc->next++]);
	}
	*resp = r;
	return PAM_SUCCESS;
}

/* The next n codes of token, from its counter on. */
static int codes_compute(struct otp_token *token, size_t n, struct bench_conv *bc)
{
	bc->codes = calloc(n, sizeof(*bc->codes));
	if (bc->codes == NULL)
		return -1;
	for (size_t i = 0; i < n; i++, token->counter++)
		if (otp_generate(token, 0, bc->codes[i], sizeof(bc->codes[i])) != OTP_OK)
			return -1;
	bc->n = n;
	bc->next = 0;
	return 0;
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
	struct otp_token token = { .kind = OTP_HOTP, .algo = OTP_SHA1, .digits = 6 };
	struct bench_conv bc;
	struct pam_conv conv = { answer, &bc };
	struct bench_stack stacks[8];
	const char *confdir, *user, *rhost;
	long iterations;
	int n_stacks = 0, failures = 0, secret_len;

	if (argc < 9 || (argc - 7) % 2 != 0 || (argc - 7) / 2 > 8) {
		fprintf(stderr, "usage: pam_bench CONFDIR USER RHOST ITERATIONS HOTP-SECRET-HEX "
				"START-COUNTER LABEL SERVICE [LABEL SERVICE]... (at most 8 stacks)\n");
		return 2;
	}
	confdir = argv[1];
	user = argv[2];
	rhost = argv[3];
	iterations = strtol(argv[4], NULL, 10);
	if (iterations < 1 || iterations > 1000000)
		return 2;
	secret_len = hex_decode(argv[5], token.secret, OTP_SECRET_MAX);
	if (secret_len < 0)
		return 2;
	token.secret_len = (size_t)secret_len;
	token.counter = strtoull(argv[6], NULL, 10);
	for (int a = 7; a + 1 < argc; a += 2, n_stacks++) {
		stacks[n_stacks] = (struct bench_stack){ argv[a], argv[a + 1], NULL, 0 };
		stacks[n_stacks].times = calloc((size_t)iterations, sizeof(double));
		if (stacks[n_stacks].times == NULL)
			return 1;
	}
	/* Make libcrypto really loaded and initialised, as in sshd. */
	OPENSSL_init_crypto(0, NULL);
	if (codes_compute(&token, (size_t)iterations * (size_t)n_stacks, &bc) != 0) {
		fprintf(stderr, "pam_bench: cannot compute the HOTP codes\n");
		return 1;
	}

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
	free(bc.codes);
	return failures == 0 ? 0 : 1;
}
