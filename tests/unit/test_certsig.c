/* test_certsig: the canonical text of a certification decision written out
 * literally (a full record with a stand-in and both files, and a bare one),
 * the escapes of the reason, every malformed field refused without writing
 * a byte, and a signature that fails after any single field changes. */
#include "../harness.h"
#include <stdio.h>
#include <string.h>

#include "certsig.h"
#include "util.h"

#define SEED "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
#define KEY_ID                                                                 \
	"21fe31dfa154a261626bf854046fd2271b7bed4b6abe45aa58877ef47f9721b9"
#define DOC "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define VIDEO "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

static const struct certsig_file both[] = {{"doc", DOC}, {"video", VIDEO}};

static struct certsig_rec
full(void)
{
	struct certsig_rec r = {
	    .school = "113301",
	    .item = "It3m_public-id_0000001",
	    .version = 3,
	    .student = "Stud3nt_public-id_0002",
	    .course = "C0urse_public-id_00003",
	    .teacher = "Teach3r_public-id_0004",
	    .for_teacher = "F0rTeacher_pub-id_0005",
	    .standin = "Stand1n_public-id_0006",
	    .files = both,
	    .nfiles = 2,
	    .decision = "rejected",
	    .reason = "請補上課程名稱\\見第2頁\n第二行\r結束",
	    .decided_at = "2025-11-03 06:07:08.012345",
	    .key_id = KEY_ID,
	};
	return r;
}

static const char FULL_TEXT[] =
    "licheng-certification-v1\n"
    "school: 113301\n"
    "item: It3m_public-id_0000001\n"
    "version: 3\n"
    "student: Stud3nt_public-id_0002\n"
    "course: C0urse_public-id_00003\n"
    "teacher: Teach3r_public-id_0004\n"
    "for-teacher: F0rTeacher_pub-id_0005\n"
    "standin: Stand1n_public-id_0006\n"
    "file: doc "
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
    "file: video "
    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n"
    "decision: rejected\n"
    "reason: 請補上課程名稱\\\\見第2頁\\n第二行\\r結束\n"
    "time: 2025-11-03T06:07:08.012345Z\n"
    "key: 21fe31dfa154a261626bf854046fd2271b7bed4b6abe45aa58877ef47f9721b9\n";

static const char BARE_TEXT[] =
    "licheng-certification-v1\n"
    "school: 113301\n"
    "item: It3m_public-id_0000001\n"
    "version: 1\n"
    "student: Stud3nt_public-id_0002\n"
    "course: C0urse_public-id_00003\n"
    "teacher: Teach3r_public-id_0004\n"
    "for-teacher: \n"
    "standin: \n"
    "decision: certified\n"
    "reason: \n"
    "time: 2024-02-29T23:59:59.000000Z\n"
    "key: 21fe31dfa154a261626bf854046fd2271b7bed4b6abe45aa58877ef47f9721b9\n";

static void
check_texts(void)
{
	struct certsig_rec r = full();
	struct buf b;

	buf_init(&b);
	CHECK(certsig_text(&r, &b) == 0);
	CHECK_MSG(strcmp(b.data, FULL_TEXT) == 0, "got:\n%s", b.data);

	r.version = 1;
	r.for_teacher = "";
	r.standin = NULL; /* NULL is none, like "" */
	r.files = NULL;
	r.nfiles = 0;
	r.decision = "certified";
	r.reason = "";
	r.decided_at = "2024-02-29 23:59:59.000000";
	buf_reset(&b);
	CHECK(certsig_text(&r, &b) == 0);
	CHECK_MSG(strcmp(b.data, BARE_TEXT) == 0, "got:\n%s", b.data);

	/* Only the doc, and a certification that carries a remark. */
	r.files = both;
	r.nfiles = 1;
	r.reason = "a\\b";
	buf_reset(&b);
	CHECK(certsig_text(&r, &b) == 0);
	CHECK(strstr(b.data,
		  "standin: \nfile: doc " DOC
		  "\ndecision: certified\nreason: a\\\\b\ntime: ") != NULL);
	/* Only the video. */
	r.files = both + 1;
	buf_reset(&b);
	CHECK(certsig_text(&r, &b) == 0);
	CHECK(strstr(b.data, "standin: \nfile: video " VIDEO "\ndecision: ") !=
	    NULL);
	buf_free(&b);
}

/* Each way a field can be malformed: refused, nothing appended. */
static void
check_malformed(void)
{
	static const struct certsig_file bad_slot[] = {{"pdf", DOC}};
	static const struct certsig_file video_first[] = {
	    {"video", VIDEO}, {"doc", DOC}};
	static const struct certsig_file two_docs[] = {
	    {"doc", DOC}, {"doc", DOC}};
	static const struct certsig_file three[] = {
	    {"doc", DOC}, {"video", VIDEO}, {"video", VIDEO}};
	static const struct certsig_file upper[] = {{"doc",
	    "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B85"
	    "5"}};
	static const struct certsig_file short_hash[] = {{"doc", "e3b0c442"}};
	static const struct certsig_file null_hash[] = {{"doc", NULL}};
	static const struct certsig_file null_slot[] = {{NULL, DOC}};
	char long_reason[256 * 3 + 1];
	struct certsig_rec r;
	struct buf b;

	memset(long_reason, 0, sizeof(long_reason));
	for (size_t i = 0; i < 201; i++)
		memcpy(long_reason + 3 * i, "理", 3);
	buf_init(&b);

#define BAD(field, value)                                                      \
	do {                                                                   \
		r = full();                                                    \
		r.field = value;                                               \
		CHECK_MSG(certsig_text(&r, &b) == -1 && b.len == 0,            \
		    "%s = %s accepted", #field, #value);                       \
	} while (0)
#define BAD_FILES(arr, count)                                                  \
	do {                                                                   \
		r = full();                                                    \
		r.files = arr;                                                 \
		r.nfiles = count;                                              \
		CHECK_MSG(certsig_text(&r, &b) == -1 && b.len == 0,            \
		    "files %s accepted", #arr);                                \
	} while (0)

	BAD(school, NULL);
	BAD(school, "");
	BAD(school, "1133\n01");
	BAD(school, "1133\r01");
	BAD(school, "\xff\xfe");
	BAD(item, "");
	BAD(item, NULL);
	BAD(item, "It3m_public-id_000001");
	BAD(item, "It3m_public-id_0000001\n");
	BAD(item, "It3m public-id_0000001");
	BAD(version, 0);
	BAD(version, 0x100000000UL);
	BAD(student, "");
	BAD(student, "Stud3nt/public-id_0002");
	BAD(course, "");
	BAD(course, NULL);
	BAD(teacher, "");
	BAD(teacher, "Teach3r_public-id_00004");
	BAD(for_teacher, "F0rTeacher_pub-id_005");
	BAD(for_teacher, "F0rTeacher\npub-id_0005");
	BAD(standin, "Stand1n_public-id_006");
	BAD(decision, NULL);
	BAD(decision, "");
	BAD(decision, "Certified");
	BAD(decision, "maybe");
	BAD(decision, "certified\n");
	BAD(reason, "");
	BAD(reason, NULL);
	BAD(reason, "\xc0\xaf");
	BAD(reason, "bell\a");
	BAD(reason, long_reason);
	BAD(decided_at, NULL);
	BAD(decided_at, "");
	BAD(decided_at, "2025-11-03 06:07:08");
	BAD(decided_at, "2025-11-03T06:07:08.012345");
	BAD(decided_at, "2025-11-03 06:07:08.012345Z");
	BAD(decided_at, "2025-13-03 06:07:08.012345");
	BAD(decided_at, "2025-00-03 06:07:08.012345");
	BAD(decided_at, "2025-02-29 06:07:08.012345");
	BAD(decided_at, "2100-02-29 06:07:08.012345");
	BAD(decided_at, "2025-04-31 06:07:08.012345");
	BAD(decided_at, "2025-11-00 06:07:08.012345");
	BAD(decided_at, "2025-11-03 24:07:08.012345");
	BAD(decided_at, "2025-11-03 06:60:08.012345");
	BAD(decided_at, "2025-11-03 06:07:60.012345");
	BAD(decided_at, "2025-11-03 06:07:08.01234a");
	BAD(decided_at, "2025/11/03 06:07:08.012345");
	BAD(decided_at, "0999-11-03 06:07:08.012345");
	BAD(decided_at, "+025-11-03 06:07:08.012345");
	BAD(key_id, NULL);
	BAD(key_id, "");
	BAD(key_id,
	    "21FE31DFA154A261626BF854046FD2271B7BED4B6ABE45AA58877EF47F9721B9");
	BAD(key_id,
	    "21fe31dfa154a261626bf854046fd2271b7bed4b6abe45aa58877ef47f9721b");
	BAD(key_id,
	    "21fe31dfa154a261626bf854046fd2271b7bed4b6abe45aa58877ef47f9721b9"
	    "0");
	BAD_FILES(bad_slot, 1);
	BAD_FILES(video_first, 2);
	BAD_FILES(two_docs, 2);
	BAD_FILES(three, 3);
	BAD_FILES(upper, 1);
	BAD_FILES(short_hash, 1);
	BAD_FILES(null_hash, 1);
	BAD_FILES(null_slot, 1);
	BAD_FILES(NULL, 1);

	/* The two boundary cases that are fine: a leap day and 200
	 * characters of reason. */
	r = full();
	r.decided_at = "2000-02-29 00:00:00.000000";
	long_reason[200 * 3] = '\0';
	r.reason = long_reason;
	CHECK(certsig_text(&r, &b) == 0);
	buf_free(&b);
#undef BAD
#undef BAD_FILES
}

/* Copies hash into out with the character at pos changed. */
static void
flip_hex(const char *hash, size_t pos, char out[65])
{
	memcpy(out, hash, 65);
	out[pos] = out[pos] == '0' ? '1' : '0';
}

static void
check_signature(void)
{
	struct sign_key *k = sign_key_from_hex(SEED), *other;
	unsigned char pub[SIGN_PUB_LEN], opub[SIGN_PUB_LEN];
	char sig[SIGN_SIG_HEX_LEN + 1], sig2[SIGN_SIG_HEX_LEN + 1];
	char bad[SIGN_SIG_HEX_LEN + 2], h[65];
	struct certsig_file f[2];
	struct certsig_rec r = full(), m;
	size_t i, j;
	int still_ok = 0;

	CHECK(k != NULL);
	if (k == NULL)
		return;
	CHECK(sign_key_public(k, pub) == 0);
	CHECK(certsig_sign(k, &r, sig) == 0);
	CHECK(strlen(sig) == SIGN_SIG_HEX_LEN &&
	    hex_lower_is(sig, SIGN_SIG_HEX_LEN));
	CHECK(certsig_check(pub, &r, sig) == 1);
	/* FULL_TEXT signed by `openssl pkeyutl -sign -rawin` with the same
	 * seed: the text and the signature are what OpenSSL's tool makes. */
	CHECK(strcmp(sig,
		  "6e8fd702e9d609feaefd00f75086aacdb4ebe9266d0011af0c9c"
		  "737b12c0446f304dfb8d1515ec542f12bf9e06014510c2c5a3"
		  "4c14a046f94cc938e1b993ca08") == 0);
	/* Ed25519 is deterministic: the same record, the same signature. */
	CHECK(certsig_sign(k, &r, sig2) == 0 && strcmp(sig, sig2) == 0);

	/* The signature itself: any digit changed, upper case, cut, longer,
	 * or another key's. */
	for (i = 0; i < SIGN_SIG_HEX_LEN; i++) {
		memcpy(bad, sig, sizeof(sig));
		bad[i] = bad[i] == '0' ? '1' : '0';
		still_ok += certsig_check(pub, &r, bad) != 0;
	}
	CHECK_MSG(still_ok == 0, "%d changed signatures verified", still_ok);
	memcpy(bad, sig, sizeof(sig));
	for (i = 0; i < SIGN_SIG_HEX_LEN; i++)
		if (bad[i] >= 'a')
			bad[i] = (char)(bad[i] - 'a' + 'A');
	CHECK(certsig_check(pub, &r, bad) == 0);
	CHECK(certsig_check(pub, &r, "") == 0);
	CHECK(certsig_check(pub, &r, NULL) == 0);
	snprintf(bad, sizeof(bad), "%.127s", sig);
	CHECK(certsig_check(pub, &r, bad) == 0);
	snprintf(bad, sizeof(bad), "%s0", sig);
	CHECK(certsig_check(pub, &r, bad) == 0);
	other = sign_key_generate();
	CHECK(other != NULL && sign_key_public(other, opub) == 0);
	CHECK(certsig_check(opub, &r, sig) == 0);
	sign_key_free(other);

	/* Every byte of each file's hash. */
	still_ok = 0;
	for (j = 0; j < 2; j++) {
		for (i = 0; i < 64; i++) {
			memcpy(f, both, sizeof(f));
			flip_hex(both[j].sha256, i, h);
			f[j].sha256 = h;
			m = full();
			m.files = f;
			still_ok += certsig_check(pub, &m, sig) != 0;
		}
	}
	CHECK_MSG(still_ok == 0, "%d changed hashes verified", still_ok);
	/* A file dropped, or the doc alone. */
	m = full();
	m.nfiles = 1;
	CHECK(certsig_check(pub, &m, sig) == 0);
	m.nfiles = 0;
	CHECK(certsig_check(pub, &m, sig) == 0);

#define CHANGED(field, value)                                                  \
	do {                                                                   \
		m = full();                                                    \
		m.field = value;                                               \
		CHECK_MSG(certsig_check(pub, &m, sig) == 0,                    \
		    "changed %s still verifies", #field);                      \
	} while (0)
	CHANGED(school, "113302");
	CHANGED(item, "It3m_public-id_0000002");
	CHANGED(version, 4);
	CHANGED(version, 2);
	CHANGED(student, "Stud3nt_public-id_0003");
	CHANGED(course, "C0urse_public-id_00004");
	CHANGED(teacher, "Teach3r_public-id_0005");
	CHANGED(teacher, "F0rTeacher_pub-id_0005");
	CHANGED(for_teacher, "");
	CHANGED(for_teacher, "Teach3r_public-id_0004");
	CHANGED(standin, "");
	CHANGED(standin, "Stand1n_public-id_0007");
	CHANGED(decision, "certified");
	CHANGED(reason, "請補上課程名稱\\見第2頁\n第二行\r結束.");
	CHANGED(reason, "請補上課程名稱\\見第2頁\r第二行\n結束");
	CHANGED(reason, "請補上課程名稱\\\\見第2頁\n第二行\r結束");
	CHANGED(decided_at, "2025-11-03 06:07:08.012346");
	CHANGED(decided_at, "2025-11-03 06:07:09.012345");
	CHANGED(decided_at, "2025-11-04 06:07:08.012345");
	CHANGED(decided_at, "2024-11-03 06:07:08.012345");
	CHANGED(key_id, DOC);
#undef CHANGED
	/* A malformed record never verifies, and cannot be signed. */
	m = full();
	m.reason = "";
	CHECK(certsig_check(pub, &m, sig) == 0);
	CHECK(certsig_sign(k, &m, sig2) == -1);
	/* The unchanged record still does. */
	CHECK(certsig_check(pub, &r, sig) == 1);
	sign_key_free(k);
}

static void
check_now(void)
{
	char now[CERTSIG_TIME_LEN + 1], later[CERTSIG_TIME_LEN + 1];
	struct certsig_rec r = full();
	struct buf b;

	CHECK(certsig_now(now) == 0);
	CHECK(strlen(now) == CERTSIG_TIME_LEN);
	CHECK(certsig_now(later) == 0);
	CHECK(strcmp(now, later) <= 0);
	CHECK(strncmp(now, "20", 2) == 0);
	r.decided_at = now;
	buf_init(&b);
	CHECK(certsig_text(&r, &b) == 0);
	buf_free(&b);
}

int
main(void)
{
	check_texts();
	check_malformed();
	check_signature();
	check_now();
	{
		/* the names the CLI prints */
		CHECK(strcmp(certsig_result_name(CERTSIG_OK), "OK") == 0);
		CHECK(strcmp(certsig_result_name(CERTSIG_BAD_SIGNATURE),
			  "BAD_SIGNATURE") == 0);
		CHECK(strcmp(certsig_result_name(CERTSIG_UNKNOWN_KEY),
			  "UNKNOWN_KEY") == 0);
		CHECK(strcmp(certsig_result_name(CERTSIG_MALFORMED),
			  "MALFORMED") == 0);
		CHECK(strcmp(certsig_result_name(CERTSIG_STALE), "STALE") == 0);
	}
	return harness_done();
}
