/* test_crypto: HMAC-SHA256 (RFC 4231 case 2 shape), key decoding and the
 * AES-256-GCM sealed box: round trip, and failure on any altered byte, a
 * wrong key or a wrong binding label. */
#include "../harness.h"
#include <string.h>

#include "crypto.h"

int
main(void)
{
	unsigned char key[CRYPTO_KEY_LEN], other[CRYPTO_KEY_LEN];
	unsigned char box[128], plain[128];
	char hex[CRYPTO_SHA256_HEX_LEN + 1];
	size_t n = 0, m = 0;
	const char *msg = "A123456789";

	CHECK(crypto_key_from_hex("00112233445566778899aabbccddeeff00112233445"
				  "566778899aabbccddeeff",
		  key) == 0);
	CHECK(key[0] == 0x00 && key[1] == 0x11 && key[15] == 0xff);
	CHECK(crypto_key_from_hex("0011", other) == -1);
	CHECK(crypto_key_from_hex("zz112233445566778899aabbccddeeff00112233445"
				  "566778899aabbccddeeff",
		  other) == -1);

	/* HMAC-SHA256 with a 32-byte key of 0x0b... checked against openssl:
	 * printf 'what do ya want for nothing?' | openssl dgst -sha256 -mac
	 * HMAC -macopt hexkey:0b*32 */
	memset(other, 0x0b, sizeof(other));
	CHECK(crypto_hmac_sha256_hex(
		  other, "what do ya want for nothing?", 28, hex) == 0);
	CHECK(strcmp(hex,
		  "c3f2649c34ea24e4d62a2c7e868bbea0233c9d4c2cc30079"
		  "4db76aa18d6822d8") == 0);
	{
		char again[65];
		CHECK(crypto_hmac_sha256_hex(other,
			  "what do ya want for nothing?", 28, again) == 0);
		CHECK(strcmp(hex, again) == 0);
		CHECK(crypto_hmac_sha256_hex(
			  key, "what do ya want for nothing?", 28, again) == 0);
		CHECK(strcmp(hex, again) != 0);
	}

	CHECK(crypto_seal(
		  key, "totp:u1", msg, strlen(msg), box, sizeof(box), &n) == 0);
	CHECK(n == strlen(msg) + CRYPTO_SEAL_OVERHEAD);
	CHECK(
	    crypto_open(key, "totp:u1", box, n, plain, sizeof(plain), &m) == 0);
	CHECK(m == strlen(msg) && memcmp(plain, msg, m) == 0);
	CHECK(crypto_open(key, "totp:u2", box, n, plain, sizeof(plain), &m) ==
	    -1);
	CHECK(crypto_open(other, "totp:u1", box, n, plain, sizeof(plain), &m) ==
	    -1);
	box[CRYPTO_GCM_NONCE] ^= 1;
	CHECK(crypto_open(key, "totp:u1", box, n, plain, sizeof(plain), &m) ==
	    -1);
	box[CRYPTO_GCM_NONCE] ^= 1;
	box[n - 1] ^= 0x80;
	CHECK(crypto_open(key, "totp:u1", box, n, plain, sizeof(plain), &m) ==
	    -1);
	CHECK(crypto_open(key, "totp:u1", box, 10, plain, sizeof(plain), &m) ==
	    -1);
	CHECK(crypto_seal(key, "x", msg, strlen(msg), box, 20, &n) == -1);
	return harness_done();
}
