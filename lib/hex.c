/* hex.c - hexadecimal text to bytes (hex.h). */
#include "hex.h"

#include <openssl/crypto.h>
#include <string.h>

int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int hex_decode(const char *text, uint8_t *out, size_t cap)
{
	size_t n = strnlen(text, 2 * cap + 1);

	if (n == 0 || n % 2 != 0 || n / 2 > cap)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hex_digit(text[2 * i]), lo = hex_digit(text[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			OPENSSL_cleanse(out, cap);
			return -1;
		}
		out[i] = (uint8_t)(hi * 16 + lo);
	}
	return (int)(n / 2);
}
