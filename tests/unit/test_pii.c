/* test_pii: national IDs as HMAC and sealed ciphertext bound to their
 * student, and the masked forms of IDs and names. */
#include "../harness.h"
#include <string.h>

#include "pii.h"

int
main(void)
{
	unsigned char key[CRYPTO_KEY_LEN], other[CRYPTO_KEY_LEN];
	unsigned char box[PII_TWID_SEALED_MAX];
	char m[11], h1[CRYPTO_SHA256_HEX_LEN + 1], h2[CRYPTO_SHA256_HEX_LEN + 1];
	char up[11], name[64];
	size_t n = 0;
	const char *pub = "AAAAAAAAAAAAAAAAAAAAAA";
	static const struct {
		const char *in, *want;
	} twids[] = {{"A123456789", "A12*****89"}, {"a123456789", "A12*****89"},
	    {"A12345678", "**********"}, {"A1234567890", "**********"},
	    {"A1234-6789", "**********"}, {NULL, "**********"}},
	  names[] = {{"王小明", "王○明"}, {"歐陽小明", "歐○○明"},
	      {"王明", "王○"}, {"王", "王○"}, {"Ann Lee", "A○○○○○e"},
	      {"", ""}};
	size_t i;

	/* Kinds and normalising. */
	CHECK(strcmp(pii_twid_kind("A123456789"), "national") == 0);
	CHECK(strcmp(pii_twid_kind("a223456781"), "national") == 0);
	CHECK(strcmp(pii_twid_kind("A800000014"), "resident") == 0);
	CHECK(strcmp(pii_twid_kind("AC01234567"), "resident") == 0);
	CHECK(pii_twid_kind("A123456788") == NULL);
	CHECK(pii_twid_kind("") == NULL);
	CHECK(pii_twid_kind(NULL) == NULL);
	CHECK(pii_twid_normalise("a123456789", up) == 0 &&
	    strcmp(up, "A123456789") == 0);
	CHECK(pii_twid_normalise("A12345678", up) == -1);

	/* Masking: three first and two last characters, upper-cased; not
	 * ten letters and digits: nothing shown. Names: every code point but
	 * the first and last hidden. */
	for (i = 0; i < sizeof(twids) / sizeof(twids[0]); i++) {
		pii_twid_mask(twids[i].in, m);
		CHECK_MSG(strcmp(m, twids[i].want) == 0, "%s", twids[i].want);
	}
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		pii_name_mask(names[i].in, name, sizeof(name));
		CHECK_MSG(strcmp(name, names[i].want) == 0, "%s", names[i].in);
	}
	pii_name_mask("王小明", name, 4); /* only room for the first */
	CHECK(strcmp(name, "王") == 0);

	/* HMAC: of the upper-cased ID, keyed. */
	memset(key, 0x11, sizeof(key));
	memset(other, 0x22, sizeof(other));
	CHECK(pii_twid_hmac(key, "A123456789", h1) == 0);
	CHECK(strlen(h1) == 64 && strspn(h1, "0123456789abcdef") == 64);
	CHECK(pii_twid_hmac(key, "a123456789", h2) == 0 &&
	    strcmp(h1, h2) == 0);
	CHECK(pii_twid_hmac(other, "A123456789", h2) == 0 &&
	    strcmp(h1, h2) != 0);
	CHECK(pii_twid_hmac(key, "A223456781", h2) == 0 &&
	    strcmp(h1, h2) != 0);
	CHECK(pii_twid_hmac(key, "A123456788", h2) == -1);
	CHECK(strstr(h1, "123456789") == NULL);

	/* Sealed: opens only for the same key, student and bytes. */
	CHECK(pii_twid_seal(key, pub, "a123456789", box, &n) == 0);
	CHECK(n == 10 + CRYPTO_SEAL_OVERHEAD);
	CHECK(memmem(box, n, "123456789", 9) == NULL);
	CHECK(pii_twid_open(key, pub, box, n, up) == 0 &&
	    strcmp(up, "A123456789") == 0);
	CHECK(pii_twid_open(other, pub, box, n, up) == -1 && up[0] == '\0');
	CHECK(pii_twid_open(key, "BAAAAAAAAAAAAAAAAAAAAA", box, n, up) == -1);
	CHECK(pii_twid_open(key, pub, box, n - 1, up) == -1);
	box[CRYPTO_GCM_NONCE + 3] ^= 1;
	CHECK(pii_twid_open(key, pub, box, n, up) == -1);
	box[CRYPTO_GCM_NONCE + 3] ^= 1;
	box[0] ^= 0x80; /* the nonce */
	CHECK(pii_twid_open(key, pub, box, n, up) == -1);
	box[0] ^= 0x80;
	box[n - 1] ^= 1; /* the tag */
	CHECK(pii_twid_open(key, pub, box, n, up) == -1);
	box[n - 1] ^= 1;
	CHECK(pii_twid_open(key, pub, box, n, up) == 0);
	CHECK(pii_twid_seal(key, pub, "A123456788", box, &n) == -1);
	return harness_done();
}
