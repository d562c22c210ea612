/* test_files: the download name of a stored file and its
 * Content-Disposition (fcgi/files.c): control characters, NUL, slashes and
 * bidirectional controls never survive, the detected type's extension is
 * kept or appended, 255 characters at most, and the header holds nothing
 * but the two encodings. */
#include "../harness.h"
#include <stdlib.h>
#include <string.h>

#include "../../fcgi/files.h"
#include "util.h"

/* The download name of the len bytes of in, for extension ext. */
static char *
name_of(const char *in, size_t len, const char *ext)
{
	struct buf b;

	buf_init(&b);
	files_download_name(&b, in, len, ext);
	return buf_steal(&b);
}

static int
name_is(const char *in, const char *ext, const char *want)
{
	char *got = name_of(in, strlen(in), ext);
	int ok = strcmp(got, want) == 0;

	if (!ok)
		fprintf(stderr, "name of \"%s\": \"%s\", want \"%s\"\n", in,
		    got, want);
	free(got);
	return ok;
}

/* Code points of a UTF-8 string. */
static size_t
chars(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

static char *
disposition_of(const char *name)
{
	struct buf b;

	buf_init(&b);
	files_disposition(&b, name);
	return buf_steal(&b);
}

int
main(void)
{
	char big[1200], *s, *d;
	size_t i;

	/* Kept as it is when safe and of the right type. */
	CHECK(name_is("report.pdf", "pdf", "report.pdf"));
	CHECK(name_is("學習成果.PDF", "pdf", "學習成果.PDF"));
	CHECK(name_is("photo.jpeg", "jpg", "photo.jpeg"));
	CHECK(name_is("photo.JPG", "jpg", "photo.JPG"));
	/* The detected type's extension is appended when the name's
	 * differs. */
	CHECK(name_is("image.pdf", "png", "image.pdf.png"));
	CHECK(name_is("song", "mp3", "song.mp3"));
	CHECK(name_is("a.exe", "pdf", "a.exe.pdf"));
	/* Paths: no slash or backslash, no leading dots. */
	CHECK(name_is("../../etc/passwd", "pdf", "_.._etc_passwd.pdf"));
	CHECK(name_is("..\\..\\x.pdf", "pdf", "_.._x.pdf"));
	CHECK(name_is("/abs/x.pdf", "pdf", "_abs_x.pdf"));
	/* Control characters and NUL become '_'. */
	s = name_of("a\0b.pdf", 7, "pdf");
	CHECK(strcmp(s, "a_b.pdf") == 0);
	free(s);
	CHECK(name_is("line\r\nbreak\t.pdf", "pdf", "line__break_.pdf"));
	CHECK(name_is("q\"uo;te.pdf", "pdf", "q_uo;te.pdf"));
	/* Bidirectional controls are dropped: "gpj.exe" stays what it is. */
	CHECK(name_is("invoice\xe2\x80\xaegpj.exe", "pdf",
	    "invoicegpj.exe.pdf"));
	CHECK(name_is("a\xe2\x81\xa6" "b\xe2\x81\xa9" "c\xe2\x80\x8f.pdf",
	    "pdf", "abc.pdf"));
	/* Invalid UTF-8 and overlong forms become '_'. */
	CHECK(name_is("a\xff" "b.pdf", "pdf", "a_b.pdf"));
	CHECK(name_is("a\xc0\xaf" "b.pdf", "pdf", "a__b.pdf"));
	/* Nothing left: a name still. */
	CHECK(name_is("", "pdf", "file.pdf"));
	CHECK(name_is("...", "png", "file.png"));
	CHECK(name_is("\xe2\x80\xae", "mp4", "file.mp4"));
	CHECK(name_is(".pdf", "pdf", "pdf.pdf"));
	/* 300 characters: cut to 255 with the extension kept. */
	memset(big, 'x', 300);
	memcpy(big + 296, ".pdf", 5);
	s = name_of(big, strlen(big), "pdf");
	CHECK(strlen(s) == FILES_NAME_MAX);
	CHECK(strcmp(s + FILES_NAME_MAX - 4, ".pdf") == 0);
	free(s);
	memset(big, 'y', 300);
	big[300] = '\0';
	s = name_of(big, 300, "png");
	CHECK(chars(s) == FILES_NAME_MAX);
	CHECK(strcmp(s + FILES_NAME_MAX - 4, ".png") == 0);
	free(s);
	/* ... counted in characters, not bytes. */
	for (i = 0; i < 300; i++)
		memcpy(big + 3 * i, "字", 3);
	big[900] = '\0';
	s = name_of(big, 900, "pdf");
	CHECK(chars(s) == FILES_NAME_MAX);
	CHECK(strcmp(s + strlen(s) - 4, ".pdf") == 0);
	free(s);

	/* The header value. */
	d = disposition_of("report.pdf");
	CHECK(strcmp(d, "attachment; filename=\"report.pdf\"; "
			"filename*=UTF-8''report.pdf") == 0);
	free(d);
	d = disposition_of("學習 成果%.pdf");
	/* One '_' per run of non-ASCII characters in the fallback. */
	CHECK_MSG(strcmp(d, "attachment; filename=\"_ __.pdf\"; "
			    "filename*=UTF-8''%E5%AD%B8%E7%BF%92%20%E6%88%90%"
			    "E6%9E%9C%25.pdf") == 0,
	    "%s", d);
	free(d);
	d = disposition_of("a;b'c.pdf");
	CHECK(strcmp(d, "attachment; filename=\"a;b'c.pdf\"; "
			"filename*=UTF-8''a%3Bb%27c.pdf") == 0);
	free(d);
	return harness_done();
}
