/* test_policy: the shipped blocklist, its loader's errors and every rule of
 * policy_check_password. Run from the repository root (it reads conf/). */
#include "../harness.h"
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy.h"
#include "util.h"

#define GOOD "Tz8#kq!m2v"
#define GOOD_ZH "月光下的貓咪跳舞2024"

/* The national-ID callback: counts calls, remembers the last candidate and
 * matches only the ID it is given. */
struct id_probe {
	const char *id;
	int calls;
	char last[16];
};

static int
probe_match(void *arg, const char *candidate)
{
	struct id_probe *p = arg;

	p->calls++;
	snprintf(p->last, sizeof(p->last), "%s", candidate);
	return strcmp(candidate, p->id) == 0;
}

/* Writes text to a new temporary file; its path goes to path (>= 32). */
static int
write_temp(char *path, size_t len, const char *text, size_t n)
{
	int fd;

	snprintf(path, len, "/tmp/test_policy.XXXXXX");
	if ((fd = mkstemp(path)) == -1)
		return -1;
	if (write(fd, text, n) != (ssize_t)n) {
		close(fd);
		return -1;
	}
	return close(fd);
}

/* Loads text as a blocklist and expects it refused with want in err. */
static void
expect_load_error(const char *text, size_t n, const char *want)
{
	char path[64], err[256], where[96];
	struct blocklist *bl;

	CHECK(write_temp(path, sizeof(path), text, n) == 0);
	bl = blocklist_load(path, err, sizeof(err));
	CHECK(bl == NULL);
	snprintf(where, sizeof(where), "%s%s", path, want);
	CHECK_MSG(strncmp(err, where, strlen(where)) == 0, "err \"%s\"", err);
	blocklist_free(bl);
	unlink(path);
}

static void
test_loader(void)
{
	char path[64], err[256], big[200];
	const char *text = "# a comment\n"
			   "\n"
			   "Secret123\r\n"
			   "secret123  \n"
			   "  \n"
			   "zzz-last\n"
			   "aaa-first";
	struct blocklist *bl;

	CHECK(write_temp(path, sizeof(path), text, strlen(text)) == 0);
	bl = blocklist_load(path, err, sizeof(err));
	CHECK_MSG(bl != NULL, "%s", err);
	if (bl != NULL) {
		CHECK(blocklist_count(bl) == 3); /* de-duplicated */
		CHECK(blocklist_contains(bl, "SECRET123"));
		CHECK(blocklist_contains(bl, "secret123 "));
		CHECK(blocklist_contains(bl, "aaa-first"));
		CHECK(blocklist_contains(bl, "zzz-last"));
		CHECK(!blocklist_contains(bl, "# a comment"));
		CHECK(!blocklist_contains(bl, "secret12"));
		CHECK(!blocklist_contains(bl, ""));
	}
	blocklist_free(bl);
	unlink(path);
	blocklist_free(NULL);
	CHECK(blocklist_count(NULL) == 0);
	CHECK(!blocklist_contains(NULL, "password"));

	expect_load_error("ok-line-1\nok-line-2\nbad\xff\n", 25, ":3: ");
	expect_load_error("# \xc0\xaf\n", 5, ":1: ");
	memset(big, 'x', 129);
	big[129] = '\n';
	expect_load_error(big, 130, ":1: ");
	memmove(big + 6, big, 130);
	memcpy(big, "a\n#\nb\n", 6);
	expect_load_error(big, 136, ":4: ");
	big[6 + 128] = '\n'; /* exactly 128 bytes is allowed */
	CHECK(write_temp(path, sizeof(path), big, 136) == 0);
	bl = blocklist_load(path, err, sizeof(err));
	CHECK_MSG(bl != NULL && blocklist_count(bl) == 3, "%s", err);
	blocklist_free(bl);
	unlink(path);

	bl = blocklist_load("/nonexistent/blocklist.txt", err, sizeof(err));
	CHECK(bl == NULL);
	CHECK(strncmp(err, "/nonexistent/blocklist.txt: ", 28) == 0);
}

static void
test_shipped(const struct blocklist *bl)
{
	static const char *const present[] = {
	    "ji394su3", /* 我愛你 ㄨㄛˇ ㄞˋ ㄋㄧˇ */
	    "ji3g4su3", /* 我是你 ㄨㄛˇ ㄕˋ ㄋㄧˇ */
	    "ji3g4go6", /* 我是誰 ㄨㄛˇ ㄕˋ ㄕㄟˊ */
	    "au4a83", /* 密碼 ㄇㄧˋ ㄇㄚˇ */
	    "su3cl3123", /* 你好 ㄋㄧˇ ㄏㄠˇ and 123 */
	    "1l31o4520", /* 寶貝 ㄅㄠˇ ㄅㄟˋ and 520 */
	    "w96j0", /* 台灣 ㄊㄞˊ ㄨㄢ, the tone-1 space dropped */
	    "u g/ u g4", /* 一生一世 as typed, spaces for tone 1 */
	    "ji394su3ug/ug4", /* 我愛你一生一世, no spaces */
	    "1qaz2wsx", "zaq12wsx", "!qaz@wsx", "1q2w3e4r5t", "qazwsxedc",
	    "zxcvbnm,", "qwertyui", "asdfghjk", "qwer1234", "asdf1234",
	    "zse4xdr5", "147258369", "0912345678", "0987654321", "0933333333",
	    "0900000000", "19990101", "19600101", "20151231", "088/01/01",
	    "104/12/31", "5201314", "52013140", "woaini520", "taiwan123",
	    "iloveyou520", "p@ssw0rd", "password1", "qwerty123", "iloveyou",
	    "abc12345", "11111111", "123456789", "password2024",
	    "superman2000"};
	size_t i;

	CHECK_MSG(
	    blocklist_count(bl) >= 10000, "%zu entries", blocklist_count(bl));
	for (i = 0; i < ARRAY_SIZE(present); i++)
		CHECK_MSG(blocklist_contains(bl, present[i]), "%s missing",
		    present[i]);
	CHECK(blocklist_contains(bl, "P@SSW0RD"));
	CHECK(blocklist_contains(bl, "Password1"));
	CHECK(!blocklist_contains(bl, GOOD));
	CHECK(!blocklist_contains(bl, "19590101")); /* outside 1960-2015 */
}

static void
test_rules(const struct blocklist *bl)
{
	struct policy_user u = {
	    "chen.ml", "Chen Mei-Ling", "193301", "2008-03-15", NULL, NULL};
	struct policy_user zh = {
	    "s1120345", "王小明", "193301", NULL, NULL, NULL};
	char longpw[600];

	CHECK(policy_check_password(bl, 8, GOOD, &u) == POLICY_OK);
	CHECK(policy_check_password(bl, 8, GOOD_ZH, &u) == POLICY_OK);
	CHECK(policy_check_password(bl, 8, GOOD, NULL) == POLICY_OK);
	CHECK(policy_check_password(NULL, 8, GOOD, &u) == POLICY_OK);

	/* Text, then length. */
	CHECK(policy_check_password(bl, 8,
		  "abc\x01"
		  "defgh",
		  &u) == POLICY_BAD_TEXT);
	CHECK(
	    policy_check_password(bl, 8, "abcdefg\xff", &u) == POLICY_BAD_TEXT);
	CHECK(policy_check_password(bl, 8,
		  "a\xe2\x80\xae"
		  "bcdefghi",
		  &u) == POLICY_BAD_TEXT);
	CHECK(policy_check_password(bl, 8, NULL, &u) == POLICY_BAD_TEXT);
	CHECK(policy_check_password(bl, 8, "Tz8#kq!", &u) == POLICY_TOO_SHORT);
	CHECK(policy_check_password(bl, 8, "", &u) == POLICY_TOO_SHORT);
	CHECK(policy_check_password(bl, 12, GOOD, &u) == POLICY_TOO_SHORT);
	/* Eight code points of Chinese are eight characters, not 24. */
	CHECK(
	    policy_check_password(bl, 8, "月光下貓咪跳舞吧", &u) == POLICY_OK);
	CHECK(policy_check_password(bl, 8, "月光下貓咪跳舞", &u) ==
	    POLICY_TOO_SHORT);
	memset(longpw, 'k', 128);
	memcpy(longpw, GOOD, strlen(GOOD));
	longpw[128] = '\0';
	CHECK(policy_check_password(bl, 8, longpw, &u) == POLICY_OK);
	longpw[128] = 'k';
	longpw[129] = '\0';
	CHECK(policy_check_password(bl, 8, longpw, &u) == POLICY_TOO_LONG);
	memset(longpw, 'a', 599);
	longpw[599] = '\0';
	CHECK(policy_check_password(bl, 8, longpw, &u) == POLICY_TOO_LONG);

	/* The login, case-insensitively; short ones are not compared. */
	CHECK(policy_check_password(bl, 8, "xxCHEN.MLxx", &u) ==
	    POLICY_HAS_LOGIN);
	CHECK(policy_check_password(bl, 8, "Chen.ml#Tz8", &u) ==
	    POLICY_HAS_LOGIN);
	u.login = "ab";
	CHECK(policy_check_password(bl, 8, "ab" GOOD, &u) == POLICY_OK);
	u.login = NULL;
	CHECK(policy_check_password(bl, 8, GOOD, &u) == POLICY_OK);
	u.login = "chen.ml";

	/* The name whole, without spaces, '-' and '.', and its parts. */
	CHECK(policy_check_password(bl, 8, "ChenMeiLing!8", &u) ==
	    POLICY_HAS_NAME);
	CHECK(policy_check_password(bl, 8, "chen mei-ling 8", &u) ==
	    POLICY_HAS_NAME);
	CHECK(
	    policy_check_password(bl, 8, "Tz8#MEILING", &u) == POLICY_HAS_NAME);
	CHECK(policy_check_password(bl, 8, "Tz8#mei-ling", &u) ==
	    POLICY_HAS_NAME);
	CHECK(
	    policy_check_password(bl, 8, "Tz8#Chen!m2", &u) == POLICY_HAS_NAME);
	CHECK(policy_check_password(bl, 8, "Tz8#Mei!q2", &u) == POLICY_OK);
	CHECK(policy_check_password(bl, 8, "王小明Tz8#kq!", &zh) ==
	    POLICY_HAS_NAME);
	CHECK(policy_check_password(bl, 8, "王 小-明Tz8#kq!", &zh) ==
	    POLICY_HAS_NAME);
	CHECK(policy_check_password(bl, 8, "小明Tz8#kq!", &zh) == POLICY_OK);
	zh.name = "王";
	CHECK(policy_check_password(bl, 8, "王Tz8#kq!m2", &zh) == POLICY_OK);
	zh.name = "Walis‧Nokan";
	CHECK(policy_check_password(bl, 8, "walisnokan1", &zh) ==
	    POLICY_HAS_NAME);
	CHECK(
	    policy_check_password(bl, 8, "Tz8#nokan!", &zh) == POLICY_HAS_NAME);
	zh.name = "王小明";

	/* The school code. */
	CHECK(policy_check_password(bl, 8, "Tz8#193301", &u) ==
	    POLICY_HAS_SCHOOL_CODE);
	CHECK(policy_check_password(bl, 8, "Tz8#193302", &u) == POLICY_OK);
	zh.school_code = "A01B23";
	CHECK(policy_check_password(bl, 8, "Tz8#a01b23", &zh) ==
	    POLICY_HAS_SCHOOL_CODE);
	zh.school_code = "193301";

	/* The order: personal facts before the blocklist. */
	u.login = "password";
	CHECK(
	    policy_check_password(bl, 8, "password1", &u) == POLICY_HAS_LOGIN);
	u.login = "chen.ml";
}

static void
test_blocklisted(const struct blocklist *bl)
{
	static const char *const refused[] = {"password1", "P@ssw0rd",
	    "ji394su3", "1qaz2wsx", "5201314a",
	    "19990101", /* on the list and a date */
	    "20240229", "2024/02/29", "113-02-29", "88/01/01", "2008/3/15",
	    "03/15/2008", "15.03.2008", "0912345678", "0912-345678",
	    "0912 345 678", "+886912345678", "0955123789", "aaaaaaaa",
	    "ZZZZZZZZZZ", "密密密密密密密密", "12121212", "abcabcabc",
	    "密碼密碼密碼密碼", "12345678", "87654321", "1234567890",
	    "abcdefgh", "HGFEDCBA", "rstuvwxyz", "34567890123",
	    /* a listed password with a little added */
	    "5201314x", "x5201314", "5201314!!", "iloveyou2024",
	    "12345679" /* 1234567 and one more digit */};
	static const char *const accepted[] = {"1130230x", "20240230",
	    "0812345678", "091234567", "aaaaaaab", "abcdefgi",
	    "abcabcab", "Tz8#Tz8#x"};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(refused); i++)
		CHECK_MSG(policy_check_password(bl, 8, refused[i], NULL) ==
			POLICY_BLOCKLISTED,
		    "%s accepted", refused[i]);
	for (i = 0; i < ARRAY_SIZE(accepted); i++)
		CHECK_MSG(policy_check_password(bl, 8, accepted[i], NULL) ==
			POLICY_OK,
		    "%s refused as %s", accepted[i],
		    policy_result_name(
			policy_check_password(bl, 8, accepted[i], NULL)));
	/* Without a list only the patterns apply. */
	CHECK(policy_check_password(NULL, 8, "password1", NULL) == POLICY_OK);
	CHECK(policy_check_password(NULL, 8, "12345678", NULL) ==
	    POLICY_BLOCKLISTED);
}

static void
test_national_id(const struct blocklist *bl)
{
	struct id_probe probe = {"A123456789", 0, ""};
	struct policy_user u = {
	    "chen.ml", "Chen Mei-Ling", "193301", NULL, probe_match, &probe};

	CHECK(policy_check_password(bl, 8, "xA123456789y", &u) ==
	    POLICY_HAS_NATIONAL_ID);
	CHECK(probe.calls >= 1);
	CHECK(strcmp(probe.last, "A123456789") == 0);
	/* Lower case in the password, upper case to the callback. */
	probe.calls = 0;
	CHECK(policy_check_password(bl, 8, "Tz8a123456789", &u) ==
	    POLICY_HAS_NATIONAL_ID);
	CHECK(strcmp(probe.last, "A123456789") == 0);
	/* Another valid ID is asked about and is not this user's. */
	probe.calls = 0;
	CHECK(policy_check_password(bl, 8, "xF131104093y", &u) == POLICY_OK);
	CHECK(probe.calls == 1);
	CHECK(strcmp(probe.last, "F131104093") == 0);
	/* No valid window: the callback is never called. */
	probe.calls = 0;
	CHECK(policy_check_password(bl, 8, "xA123456788y", &u) == POLICY_OK);
	CHECK(policy_check_password(bl, 8, GOOD, &u) == POLICY_OK);
	CHECK(policy_check_password(bl, 8, GOOD_ZH, &u) == POLICY_OK);
	CHECK(probe.calls == 0);
	u.national_id_match = NULL;
	CHECK(policy_check_password(bl, 8, "xA123456789y", &u) == POLICY_OK);
}

static void
test_birth_date(const struct blocklist *bl)
{
	static const char *const forms[] = {"20080315", "2008-03-15",
	    "2008/03/15", "2008.03.15", "080315", "03152008", "15032008",
	    "0970315", "970315", "097/03/15", "097-03-15", "97/03/15",
	    "03/15/2008", "15-03-2008"};
	struct policy_user u = {
	    "chen.ml", "Chen Mei-Ling", "193301", "2008-03-15", NULL, NULL};
	char pw[64];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(forms); i++) {
		snprintf(pw, sizeof(pw), "Tz#%sq", forms[i]);
		CHECK_MSG(policy_check_password(bl, 8, pw, &u) ==
			POLICY_HAS_BIRTH_DATE,
		    "%s accepted", pw);
	}
	CHECK(policy_check_password(bl, 8, "Tz#20080316q", &u) == POLICY_OK);
	CHECK(policy_check_password(bl, 8, "Tz#0970316q", &u) == POLICY_OK);
	u.birth_date = "2008-03-16";
	CHECK(policy_check_password(bl, 8, "Tz#20080315q", &u) == POLICY_OK);
	u.birth_date = "";
	CHECK(policy_check_password(bl, 8, "Tz#20080315q", &u) == POLICY_OK);
	u.birth_date = "not a date";
	CHECK(policy_check_password(bl, 8, "Tz#20080315q", &u) == POLICY_OK);
	/* ROC 100 and later have three digits either way. */
	u.birth_date = "2011-10-10";
	CHECK(policy_check_password(bl, 8, "Tz#1001010q", &u) ==
	    POLICY_HAS_BIRTH_DATE);
}

static void
test_names(void)
{
	int i, j;

	for (i = 0; i < POLICY__MAX; i++) {
		const char *n = policy_result_name((enum policy_result)i);

		CHECK(n != NULL && *n != '\0' && strcmp(n, "unknown") != 0);
		for (j = 0; j < i; j++)
			CHECK_MSG(
			    strcmp(n,
				policy_result_name((enum policy_result)j)) != 0,
			    "%d and %d both %s", i, j, n);
	}
	CHECK(strcmp(policy_result_name(POLICY_TOO_SHORT), "too_short") == 0);
	CHECK(
	    strcmp(policy_result_name(POLICY_BLOCKLISTED), "blocklisted") == 0);
	CHECK(strcmp(policy_result_name(POLICY_HAS_LOGIN), "has_login") == 0);
	CHECK(strcmp(policy_result_name(POLICY__MAX), "unknown") == 0);
}

int
main(void)
{
	char err[256];
	struct blocklist *bl;

	test_loader();
	bl = blocklist_load("conf/password-blocklist.txt", err, sizeof(err));
	CHECK_MSG(bl != NULL, "%s", err);
	if (bl == NULL)
		return harness_done();
	test_shipped(bl);
	test_rules(bl);
	test_blocklisted(bl);
	test_national_id(bl);
	test_birth_date(bl);
	test_names();
	blocklist_free(bl);
	return harness_done();
}
