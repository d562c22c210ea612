/* test_validate: the national ID checksum, date detection and login rules. */
#include "../harness.h"
#include <string.h>

#include "validate.h"

int
main(void)
{
	/* National IDs and resident certificates. */
	CHECK(validate_twid("A123456789"));
	CHECK(validate_twid("a123456789"));
	CHECK(!validate_twid("A123456788"));
	CHECK(!validate_twid("A323456789"));
	CHECK(!validate_twid("A12345678"));
	CHECK(!validate_twid("1123456789"));
	CHECK(validate_twid("F131104093"));
	CHECK(validate_twid("A800000014"));   /* new-style resident cert */
	CHECK(!validate_twid("A800000015"));
	CHECK(validate_twid("AC01234567"));   /* old-style resident cert */
	CHECK(!validate_twid("AC01234568"));
	CHECK(!validate_twid("AE01234567"));

	/* Dates. */
	CHECK(validate_ymd(2024, 2, 29));
	CHECK(!validate_ymd(2023, 2, 29));
	CHECK(!validate_ymd(1900, 2, 29));
	CHECK(validate_date_like("20080315"));
	CHECK(validate_date_like("2008-03-15"));
	CHECK(validate_date_like("2008/03/15"));
	CHECK(validate_date_like("0970315"));   /* ROC 97 */
	CHECK(validate_date_like("970315"));
	CHECK(validate_date_like("097-03-15"));
	CHECK(validate_date_like("03152008"));
	CHECK(!validate_date_like("20081315"));
	CHECK(!validate_date_like("12345"));
	CHECK(!validate_date_like("abcdefgh"));

	/* Login names. */
	CHECK(validate_login("chen.wei") == VALIDATE_LOGIN_OK);
	CHECK(validate_login("s1120345") == VALIDATE_LOGIN_OK);
	CHECK(validate_login("A123456789") == VALIDATE_LOGIN_SHAPE);
	CHECK(validate_login("a123456789") == VALIDATE_LOGIN_TWID);
	CHECK(validate_login("20080315") == VALIDATE_LOGIN_DATE);
	CHECK(validate_login("ab") == VALIDATE_LOGIN_SHAPE);
	CHECK(validate_login("-abc") == VALIDATE_LOGIN_SHAPE);
	CHECK(validate_login("abc def") == VALIDATE_LOGIN_SHAPE);
	CHECK(validate_login("陳小明") == VALIDATE_LOGIN_SHAPE);
	/* UTF-8 text. */
	CHECK(validate_utf8_text("陳小明", strlen("陳小明"), 0) == 3);
	CHECK(validate_utf8_text("堃峯", strlen("堃峯"), 0) == 2);
	CHECK(validate_utf8_text("a\nb", 3, 0) == -1);
	CHECK(validate_utf8_text("a\nb", 3, 1) == 3);
	CHECK(validate_utf8_text("\xc0\xaf", 2, 0) == -1);      /* overlong */
	CHECK(validate_utf8_text("\xed\xa0\x80", 3, 0) == -1); /* surrogate */
	CHECK(validate_utf8_text("\xe4\xb8", 2, 0) == -1);      /* truncated */
	CHECK(validate_utf8_text("a\xe2\x80\xae" "b", 5, 0) == -1); /* RLO */
	CHECK(validate_utf8_text("\xf0\x9f\x98\x80", 4, 0) == 1);
	CHECK(validate_line("示範高級中學", 100));
	CHECK(!validate_line("", 100));
	CHECK(!validate_line("abcd", 3));
	return harness_done();
}
