/* test_sign: Ed25519 against RFC 8032 section 7.1 TEST 1 and TEST 2 byte for
 * byte; a verification that fails after any one bit of message, signature
 * or public key changes; bad hex refused; the certificate request and the
 * self-signed certificate read back by OpenSSL: signatures verify, the key
 * comes back, subject and extensions are as promised. */
#include "../harness.h"
#include <string.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "sign.h"
#include "util.h"

static void
unhex(const char *hex, unsigned char *out, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		out[i] = (unsigned char)(hex_value(hex[2 * i]) << 4 |
		    hex_value(hex[2 * i + 1]));
}

/* One RFC 8032 vector: seed -> public key -> signature, and verify. */
static void
check_vector(const char *seed, const char *pubhex, const unsigned char *msg,
    size_t n, const char *sighex)
{
	unsigned char pub[SIGN_PUB_LEN], want_pub[SIGN_PUB_LEN];
	unsigned char sig[SIGN_SIG_LEN], want_sig[SIGN_SIG_LEN];
	char hex[SIGN_HEX_LEN + 1];
	struct sign_key *k = sign_key_from_hex(seed);

	unhex(pubhex, want_pub, sizeof(want_pub));
	unhex(sighex, want_sig, sizeof(want_sig));
	CHECK(k != NULL);
	if (k == NULL)
		return;
	CHECK(sign_key_public(k, pub) == 0);
	CHECK(memcmp(pub, want_pub, sizeof(pub)) == 0);
	CHECK(sign_key_seed_hex(k, hex) == 0);
	CHECK(strcmp(hex, seed) == 0);
	CHECK(sign_message(k, msg, n, sig) == 0);
	CHECK(memcmp(sig, want_sig, sizeof(sig)) == 0);
	CHECK(sign_verify(want_pub, msg, n, want_sig) == 1);
	CHECK(sign_pub_from_hex(pubhex, pub) == 0);
	CHECK(memcmp(pub, want_pub, sizeof(pub)) == 0);
	sign_key_free(k);
}

/* Every single-bit change of message, signature or key fails. */
static void
check_bit_flips(void)
{
	unsigned char pub[SIGN_PUB_LEN], sig[SIGN_SIG_LEN];
	unsigned char msg[] = "licheng-certification-v1\nschool: 0001\n";
	size_t n = sizeof(msg) - 1, i;
	struct sign_key *k = sign_key_generate();
	int bad_msg = 0, bad_sig = 0, bad_pub = 0;

	CHECK(k != NULL);
	if (k == NULL)
		return;
	CHECK(sign_key_public(k, pub) == 0);
	CHECK(sign_message(k, msg, n, sig) == 0);
	CHECK(sign_verify(pub, msg, n, sig) == 1);
	for (i = 0; i < n * 8; i++) {
		msg[i / 8] ^= (unsigned char)(1u << (i % 8));
		bad_msg += sign_verify(pub, msg, n, sig) == 1;
		msg[i / 8] ^= (unsigned char)(1u << (i % 8));
	}
	for (i = 0; i < SIGN_SIG_LEN * 8; i++) {
		sig[i / 8] ^= (unsigned char)(1u << (i % 8));
		bad_sig += sign_verify(pub, msg, n, sig) == 1;
		sig[i / 8] ^= (unsigned char)(1u << (i % 8));
	}
	for (i = 0; i < SIGN_PUB_LEN * 8; i++) {
		pub[i / 8] ^= (unsigned char)(1u << (i % 8));
		bad_pub += sign_verify(pub, msg, n, sig) == 1;
		pub[i / 8] ^= (unsigned char)(1u << (i % 8));
	}
	CHECK_MSG(bad_msg == 0, "%d message flips verified", bad_msg);
	CHECK_MSG(bad_sig == 0, "%d signature flips verified", bad_sig);
	CHECK_MSG(bad_pub == 0, "%d key flips verified", bad_pub);
	CHECK(sign_verify(pub, msg, n, sig) == 1);
	CHECK(sign_verify(pub, msg, n - 1, sig) == 0);
	sign_key_free(k);
}

static void
check_bad_hex(void)
{
	unsigned char pub[SIGN_PUB_LEN];
	const char *seed =
	    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703b"
	    "ac031cae7f60";
	char buf[80];
	struct sign_key *k;

	CHECK(sign_key_from_hex(NULL) == NULL);
	CHECK(sign_key_from_hex("") == NULL);
	CHECK(sign_key_from_hex("9d61b19d") == NULL);
	snprintf(buf, sizeof(buf), "%s0", seed); /* 65 digits */
	CHECK(sign_key_from_hex(buf) == NULL);
	snprintf(buf, sizeof(buf), "%.63sg", seed); /* not a digit */
	CHECK(sign_key_from_hex(buf) == NULL);
	snprintf(buf, sizeof(buf), " %.63s", seed);
	CHECK(sign_key_from_hex(buf) == NULL);
	CHECK(sign_pub_from_hex("d75a98", pub) == -1);
	CHECK(sign_pub_from_hex(buf, pub) == -1);

	/* Upper case is the same seed. */
	k = sign_key_from_hex("9D61B19DEFFD5A60BA844AF492EC2CC44449C5697B3269"
			      "19703BAC031CAE7F60");
	CHECK(k != NULL);
	if (k != NULL) {
		char hex[SIGN_HEX_LEN + 1];

		CHECK(sign_key_seed_hex(k, hex) == 0 && strcmp(hex, seed) == 0);
		sign_key_free(k);
	}
}

static void
check_key_id(void)
{
	unsigned char pub[SIGN_PUB_LEN];
	char id[SIGN_HEX_LEN + 1];

	/* sha256 of TEST 1's public key, from Python's hashlib */
	CHECK(sign_pub_from_hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa623"
				"25af021a68f707511a",
		  pub) == 0);
	sign_key_id(pub, id);
	CHECK(strcmp(id,
		  "21fe31dfa154a261626bf854046fd2271b7bed4b6abe45aa5887"
		  "7ef47f9721b9") == 0);
}

static void
check_generate(void)
{
	struct sign_key *a = sign_key_generate(), *b = sign_key_generate();
	unsigned char pa[SIGN_PUB_LEN], pb[SIGN_PUB_LEN];
	char ha[SIGN_HEX_LEN + 1], hb[SIGN_HEX_LEN + 1];
	struct sign_key *again;

	CHECK(a != NULL && b != NULL);
	if (a == NULL || b == NULL)
		goto done;
	CHECK(sign_key_public(a, pa) == 0 && sign_key_public(b, pb) == 0);
	CHECK(memcmp(pa, pb, sizeof(pa)) != 0);
	CHECK(sign_key_seed_hex(a, ha) == 0 && sign_key_seed_hex(b, hb) == 0);
	CHECK(strcmp(ha, hb) != 0 && strlen(ha) == SIGN_HEX_LEN);
	again = sign_key_from_hex(ha);
	CHECK(again != NULL);
	if (again != NULL) {
		unsigned char p2[SIGN_PUB_LEN];

		CHECK(sign_key_public(again, p2) == 0 &&
		    memcmp(p2, pa, sizeof(pa)) == 0);
		sign_key_free(again);
	}
done:
	sign_key_free(a);
	sign_key_free(b);
	sign_key_free(NULL);
}

/* 1 when name's only entry of nid is the UTF-8 string want. */
static int
name_has(const X509_NAME *name, int nid, const char *want)
{
	int i = X509_NAME_get_index_by_NID(name, nid, -1);
	const ASN1_STRING *s;

	if (i < 0 || X509_NAME_get_index_by_NID(name, nid, i) >= 0)
		return 0;
	s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
	return (size_t)ASN1_STRING_length(s) == strlen(want) &&
	    memcmp(ASN1_STRING_get0_data(s), want, strlen(want)) == 0;
}

static const char CN[] = "licheng.school.example.tw";
static const char ORG[] = "臺北市立建國高級中學";

static void
check_csr(struct sign_key *k, const unsigned char pub[SIGN_PUB_LEN])
{
	struct buf pem;
	BIO *bio;
	X509_REQ *req = NULL;
	unsigned char got[SIGN_PUB_LEN];
	size_t n = sizeof(got);

	buf_init(&pem);
	CHECK(sign_csr_pem(k, CN, ORG, &pem) == 0);
	CHECK(strncmp(pem.data, "-----BEGIN CERTIFICATE REQUEST-----\n", 36) ==
	    0);
	bio = BIO_new_mem_buf(pem.data, (int)pem.len);
	if (bio != NULL)
		req = PEM_read_bio_X509_REQ(bio, NULL, NULL, NULL);
	CHECK(req != NULL);
	if (req != NULL) {
		EVP_PKEY *pk = X509_REQ_get0_pubkey(req);

		CHECK(pk != NULL && EVP_PKEY_is_a(pk, "ED25519"));
		CHECK(X509_REQ_verify(req, pk) == 1);
		CHECK(EVP_PKEY_get_raw_public_key(pk, got, &n) == 1 &&
		    memcmp(got, pub, sizeof(got)) == 0);
		CHECK(name_has(
		    X509_REQ_get_subject_name(req), NID_commonName, CN));
		CHECK(name_has(
		    X509_REQ_get_subject_name(req), NID_organizationName, ORG));
		CHECK(name_has(
		    X509_REQ_get_subject_name(req), NID_countryName, "TW"));
		X509_REQ_free(req);
	}
	BIO_free(bio);

	/* Names that do not fit are refused and nothing is written. */
	buf_reset(&pem);
	CHECK(sign_csr_pem(k, "", ORG, &pem) == -1);
	CHECK(sign_csr_pem(k, CN, "a\nb", &pem) == -1);
	CHECK(sign_csr_pem(k,
		  "x1234567890123456789012345678901234567890123456"
		  "789012345678901234",
		  ORG, &pem) == -1);
	CHECK(pem.len == 0);
	buf_free(&pem);
}

static X509 *
read_cert(const struct buf *pem)
{
	BIO *bio = BIO_new_mem_buf(pem->data, (int)pem->len);
	X509 *x = NULL;

	if (bio != NULL)
		x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	return x;
}

static void
check_selfcert(struct sign_key *k, const unsigned char pub[SIGN_PUB_LEN])
{
	struct buf pem, pem2;
	unsigned char got[SIGN_PUB_LEN];
	X509 *x, *x2;
	int i;

	buf_init(&pem);
	buf_init(&pem2);
	CHECK(sign_selfcert_pem(k, CN, ORG, 825, &pem) == 0);
	CHECK(sign_selfcert_pem(k, CN, ORG, 825, &pem2) == 0);
	CHECK(sign_cert_public(pem.data, got) == 0);
	CHECK(memcmp(got, pub, sizeof(got)) == 0);
	x = read_cert(&pem);
	x2 = read_cert(&pem2);
	CHECK(x != NULL && x2 != NULL);
	if (x == NULL || x2 == NULL)
		goto done;
	CHECK(X509_verify(x, X509_get0_pubkey(x)) == 1);
	CHECK(X509_get_version(x) == X509_VERSION_3);
	CHECK(X509_NAME_cmp(
		  X509_get_subject_name(x), X509_get_issuer_name(x)) == 0);
	CHECK(name_has(X509_get_subject_name(x), NID_commonName, CN));
	CHECK(name_has(X509_get_subject_name(x), NID_organizationName, ORG));
	CHECK(name_has(X509_get_subject_name(x), NID_countryName, "TW"));
	{
		BIGNUM *bn =
		    ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);

		CHECK(bn != NULL && !BN_is_negative(bn) &&
		    BN_num_bits(bn) > 64 && BN_num_bits(bn) <= 128);
		BN_free(bn);
	}
	CHECK(ASN1_INTEGER_cmp(
		  X509_get0_serialNumber(x), X509_get0_serialNumber(x2)) != 0);
	CHECK(X509_check_ca(x) == 0);
	CHECK(X509_get_key_usage(x) == KU_DIGITAL_SIGNATURE);
	i = X509_get_ext_by_NID(x, NID_key_usage, -1);
	CHECK(i >= 0 && X509_EXTENSION_get_critical(X509_get_ext(x, i)) == 1);
	CHECK(X509_get_ext_by_NID(x, NID_basic_constraints, -1) >= 0);
	CHECK(X509_get0_subject_key_id(x) != NULL);
	{
		/* valid from now for 825 days */
		int day = 0, sec = 0;

		CHECK(ASN1_TIME_diff(&day, &sec, X509_get0_notBefore(x),
			  X509_get0_notAfter(x)) == 1);
		CHECK(day == 825 && sec == 0);
		CHECK(X509_cmp_current_time(X509_get0_notBefore(x)) <= 0);
	}
done:
	X509_free(x);
	X509_free(x2);
	buf_reset(&pem);
	CHECK(sign_selfcert_pem(k, CN, ORG, 0, &pem) == -1);
	CHECK(sign_selfcert_pem(k, CN, "", 30, &pem) == -1);
	CHECK(pem.len == 0);
	buf_free(&pem);
	buf_free(&pem2);
}

/* A certificate of another key type, a request and junk are refused. */
static void
check_cert_public_refusals(struct sign_key *k)
{
	unsigned char got[SIGN_PUB_LEN];
	EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *x = X509_new();
	BIO *bio = BIO_new(BIO_s_mem());
	struct buf csr;
	char *p = NULL;
	long n;

	CHECK(ec != NULL && x != NULL && bio != NULL);
	if (ec != NULL && x != NULL && bio != NULL) {
		CHECK(X509_set_pubkey(x, ec) == 1);
		CHECK(X509_sign(x, ec, EVP_sha256()) > 0);
		CHECK(PEM_write_bio_X509(bio, x) == 1);
		n = BIO_get_mem_data(bio, &p);
		CHECK(n > 0);
		if (n > 0) {
			char *pem = xstrndup(p, (size_t)n);

			CHECK(sign_cert_public(pem, got) == -1);
			free(pem);
		}
	}
	BIO_free(bio);
	X509_free(x);
	EVP_PKEY_free(ec);

	buf_init(&csr);
	CHECK(sign_csr_pem(k, CN, ORG, &csr) == 0);
	CHECK(sign_cert_public(csr.data, got) == -1);
	buf_free(&csr);
	CHECK(sign_cert_public("", got) == -1);
	CHECK(sign_cert_public("-----BEGIN CERTIFICATE-----\nAAAA\n-----END "
			       "CERTIFICATE-----\n",
		  got) == -1);
}

int
main(void)
{
	static const unsigned char msg2[] = {0x72};
	struct sign_key *k;
	unsigned char pub[SIGN_PUB_LEN];

	/* RFC 8032 section 7.1, TEST 1 (empty message) and TEST 2. */
	check_vector("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031"
		     "cae7f60",
	    "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
	    (const unsigned char *)"", 0,
	    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
	    "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
	check_vector("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4"
		     "fb8a6fb",
	    "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
	    msg2, sizeof(msg2),
	    "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
	    "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00");
	check_bit_flips();
	check_bad_hex();
	check_key_id();
	check_generate();

	k = sign_key_generate();
	CHECK(k != NULL);
	if (k != NULL) {
		CHECK(sign_key_public(k, pub) == 0);
		check_csr(k, pub);
		check_selfcert(k, pub);
		check_cert_public_refusals(k);
		sign_key_free(k);
	}
	return harness_done();
}
