/*
 * ids: opaque public ids and activation codes. Codes are stored only as a
 * hash bound to the login, so a leaked table does not hand out accounts and
 * a code cannot be moved to another login.
 */
#include "ids.h"

#include <ctype.h>
#include <string.h>

#include <openssl/crypto.h>

#include "crypto.h"
#include "util.h"

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
static const char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

static int
ids_b64url_valid(const char *s, size_t len)
{
	size_t i;

	if (strlen(s) != len)
		return 0;
	for (i = 0; i < len; i++)
		if (strchr(b64url, s[i]) == NULL)
			return 0;
	return 1;
}

int
ids_public(char out[IDS_PUBLIC_LEN + 1])
{
	unsigned char r[16];

	if (crypto_random(r, sizeof(r)) != 0)
		return -1;
	return crypto_b64_encode(r, sizeof(r), 1, out) == IDS_PUBLIC_LEN ? 0
									 : -1;
}

int
ids_public_valid(const char *s)
{
	return ids_b64url_valid(s, IDS_PUBLIC_LEN);
}

int
ids_token(char out[IDS_TOKEN_LEN + 1])
{
	unsigned char r[32];
	int rc;

	if (crypto_random(r, sizeof(r)) != 0)
		return -1;
	rc = crypto_b64_encode(r, sizeof(r), 1, out) == IDS_TOKEN_LEN ? 0 : -1;
	OPENSSL_cleanse(r, sizeof(r));
	return rc;
}

int
ids_token_valid(const char *s)
{
	return ids_b64url_valid(s, IDS_TOKEN_LEN);
}

int
ids_activation_code(char out[IDS_CODE_LEN + 1])
{
	unsigned char r[10];
	int i, o = 0;

	if (crypto_random(r, sizeof(r)) != 0)
		return -1;
	for (i = 0; i < 10; i++) {
		if (i == 5)
			out[o++] = '-';
		out[o++] = crockford[r[i] & 31];
	}
	out[o] = '\0';
	return 0;
}

int
ids_code_normalise(const char *in, char out[11])
{
	int n = 0;

	for (; *in != '\0'; in++) {
		char c = (char)toupper((unsigned char)*in);

		if (c == ' ' || c == '-')
			continue;
		if (c == 'O')
			c = '0';
		else if (c == 'I' || c == 'L')
			c = '1';
		if (strchr(crockford, c) == NULL || n == 10)
			return -1;
		out[n++] = c;
	}
	out[n] = '\0';
	return n == 10 ? 0 : -1;
}

int
ids_code_hash(const char *login, const char *code, char out[65])
{
	static const char domain[] = "licheng-activation";
	char norm[11];
	struct buf b;
	int rc;

	if (ids_code_normalise(code, norm) != 0)
		return -1;
	buf_init(&b);
	buf_append(&b, domain, sizeof(domain)); /* with its NUL */
	buf_append(&b, login, strlen(login) + 1);
	buf_append(&b, norm, 10);
	rc = crypto_sha256_hex(b.data, b.len, out);
	buf_free(&b);
	return rc;
}
