/*
 * test_audit: the audit row's canonical JSON (exact text, NULLs, Chinese,
 * escaping), its chained hash against an independent computation and a
 * pinned value, that every field is covered by the hash, and the event
 * name rule. Needs no database; it never tests appending or verifying.
 */
#include "../harness.h"
#include <string.h>

#include "audit.h"
#include "crypto.h"
#include "util.h"

#define ZEROS "0000000000000000000000000000000000000000000000000000000000000000"

static const struct audit_event sample = {
    .actor = "chen.wei",
    .role = "teacher",
    .school = NULL,
    .ip = "203.0.113.7",
    .event = "item.certify",
    .target = "item:陳\"小\"明\n",
    .outcome = "success",
    .detail = NULL,
};

#define SAMPLE_AT "2024-05-01 08:30:00.123456"
#define SAMPLE_CANON                                                           \
	"{\"id\":42,\"at\":\"2024-05-01 08:30:00.123456\","                    \
	"\"actor\":\"chen.wei\",\"role\":\"teacher\",\"school\":null,"         \
	"\"ip\":\"203.0.113.7\",\"event\":\"item.certify\","                   \
	"\"target\":\"item:陳\\\"小\\\"明\\n\",\"outcome\":\"success\","    \
	"\"detail\":null}"
/* sha256(ZEROS "\n" SAMPLE_CANON), computed with Python's hashlib. */
#define SAMPLE_HASH                                                            \
	"d7046ece9edc422ef128dba59277d45e9d1ff2f2a71f141c4c51a102531a57b4"

static void
test_canonical(void)
{
	struct audit_event e = sample;
	struct buf b;

	buf_init(&b);
	audit_canonical(&b, 42, SAMPLE_AT, &sample);
	CHECK_MSG(strcmp(b.data, SAMPLE_CANON) == 0, "got %s", b.data);

	/* It appends: what is already in the buffer stays. */
	buf_reset(&b);
	buf_puts(&b, "x");
	audit_canonical(&b, 42, SAMPLE_AT, &sample);
	CHECK(b.data[0] == 'x' && strcmp(b.data + 1, SAMPLE_CANON) == 0);

	/* A school, a verbatim detail, and the other escapes. */
	e.school = "tx001";
	e.ip = "";
	e.actor = "cli:王\\root\t";
	e.target = NULL;
	e.detail = "{\"role\":\"student\",\"note\":\"備註 \\\"q\\\"\"}";
	e.event = "user.create";
	e.outcome = "alert";
	e.role = "operator";
	buf_reset(&b);
	audit_canonical(&b, 7, "2024-12-31 23:59:59.000000", &e);
	CHECK_MSG(strcmp(b.data,
		      "{\"id\":7,\"at\":\"2024-12-31 23:59:59.000000\","
		      "\"actor\":\"cli:王\\\\root\\t\",\"role\":\"operator\","
		      "\"school\":\"tx001\",\"ip\":\"\","
		      "\"event\":\"user.create\",\"target\":null,"
		      "\"outcome\":\"alert\",\"detail\":{\"role\":\"student\","
		      "\"note\":\"備註 \\\"q\\\"\"}}") == 0,
	    "got %s", b.data);

	/* Control characters become \u00XX. */
	e.actor = "a\x01z\r";
	buf_reset(&b);
	audit_canonical(&b, 1, SAMPLE_AT, &e);
	CHECK_MSG(strstr(b.data, "\"actor\":\"a\\u0001z\\r\"") != NULL,
	    "got %s", b.data);
	buf_free(&b);
}

static void
test_hash(void)
{
	char got[65], want[65];
	struct buf text;

	buf_init(&text);
	buf_puts(&text, ZEROS "\n" SAMPLE_CANON);
	CHECK(crypto_sha256_hex(text.data, text.len, want) == 0);
	CHECK(audit_row_hash(ZEROS, 42, SAMPLE_AT, &sample, got) == 0);
	CHECK_MSG(strcmp(got, want) == 0, "got %s want %s", got, want);
	CHECK_MSG(strcmp(got, SAMPLE_HASH) == 0, "got %s", got);

	/* The link: the same row after another previous hash. */
	buf_reset(&text);
	buf_puts(&text, SAMPLE_HASH "\n" SAMPLE_CANON);
	CHECK(crypto_sha256_hex(text.data, text.len, want) == 0);
	CHECK(audit_row_hash(SAMPLE_HASH, 42, SAMPLE_AT, &sample, got) == 0);
	CHECK(strcmp(got, want) == 0);
	buf_free(&text);

	/* A previous hash that is not 64 lower-case hex digits is refused. */
	CHECK(audit_row_hash("abc", 42, SAMPLE_AT, &sample, got) == -1);
	CHECK(audit_row_hash("D7046ECE9EDC422EF128DBA59277D45E9D1FF2F2A71F141C4"
			     "C51A102531A57B4",
		  42, SAMPLE_AT, &sample, got) == -1);
	CHECK(audit_row_hash(ZEROS "0", 42, SAMPLE_AT, &sample, got) == -1);
}

/* Every field, the id, the time and the previous hash change the hash. */
static void
test_hash_covers_every_field(void)
{
	char base[65], got[65];
	struct audit_event e;
	size_t i;

	CHECK(audit_row_hash(ZEROS, 42, SAMPLE_AT, &sample, base) == 0);
	for (i = 0; i < 12; i++) {
		const char *prev = ZEROS, *at = SAMPLE_AT;
		unsigned long long id = 42;

		e = sample;
		switch (i) {
		case 0: e.actor = "chen.wel"; break;
		case 1: e.role = "student"; break;
		case 2: e.school = "tx001"; break;
		case 3: e.ip = "203.0.113.8"; break;
		case 4: e.event = "item.certifz"; break;
		case 5: e.target = "item:陳\"小\"明"; break;
		case 6: e.outcome = "failure"; break;
		case 7: e.detail = "{}"; break;
		case 8: id = 43; break;
		case 9: at = "2024-05-01 08:30:00.123457"; break;
		case 10: prev = SAMPLE_HASH; break;
		default: e.target = NULL; break;
		}
		CHECK(audit_row_hash(prev, id, at, &e, got) == 0);
		CHECK_MSG(
		    strcmp(got, base) != 0, "change %zu kept the hash", i);
	}
	/* NULL and "" are different facts and hash differently. */
	e = sample;
	e.school = "";
	CHECK(audit_row_hash(ZEROS, 42, SAMPLE_AT, &e, got) == 0);
	CHECK(strcmp(got, base) != 0);
}

static void
test_event_names(void)
{
	CHECK(audit_event_name_ok("login.success"));
	CHECK(audit_event_name_ok("alert.ip_blocked"));
	CHECK(audit_event_name_ok("user.create"));
	CHECK(audit_event_name_ok("login"));
	CHECK(audit_event_name_ok("a.b.c_d.e2"));
	CHECK(audit_event_name_ok("item.2fa"));
	CHECK(audit_event_name_ok("x"));
	CHECK(!audit_event_name_ok(""));
	CHECK(!audit_event_name_ok("Login.success"));
	CHECK(!audit_event_name_ok("_login"));
	CHECK(!audit_event_name_ok("2fa.enrol"));
	CHECK(!audit_event_name_ok(".login"));
	CHECK(!audit_event_name_ok("login."));
	CHECK(!audit_event_name_ok("login..success"));
	CHECK(!audit_event_name_ok("login-success"));
	CHECK(!audit_event_name_ok("login success"));
	CHECK(!audit_event_name_ok("登入.成功"));
	CHECK(audit_event_name_ok("a1234567890123456789012345678901234567890123"
				  "45678901234567890123"));
	CHECK(!audit_event_name_ok("a123456789012345678901234567890123456789012"
				   "3456789012345678901234"));
}

int
main(void)
{
	test_canonical();
	test_hash();
	test_hash_covers_every_field();
	test_event_names();
	return harness_done();
}
