/*
 * test_sniff: lib/sniff.c — each upload type from its real first bytes
 * (PDF, JPEG, PNG, MP4 with the brands phones and browsers write, MP3 with
 * an ID3v2 tag or a bare frame header), the near misses that must stay
 * unknown (a cut-off signature, a bad box size, a foreign brand, reserved
 * MPEG bits, text and HTML, an empty file), heads shorter than SNIFF_HEAD,
 * and the names, mime types, extensions and type lists. Needs no servers.
 */
#include <string.h>

#include "../harness.h"
#include "sniff.h"
#include "util.h"

struct sample {
	const char *what;
	const unsigned char *head;
	size_t n;
	enum sniff_type want;
};

#define S(what, bytes, want)                                                   \
	{what, (const unsigned char *)(bytes), sizeof(bytes) - 1, want}

static void
test_types(void)
{
	static const struct sample samples[] = {
	    S("PDF 1.4", "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", SNIFF_PDF),
	    S("PDF 2.0, head only", "%PDF-", SNIFF_PDF),
	    S("PDF cut short", "%PDF", SNIFF_UNKNOWN),
	    S("PDF after a BOM", "\xef\xbb\xbf%PDF-1.7", SNIFF_UNKNOWN),
	    S("PDF lower case", "%pdf-1.4", SNIFF_UNKNOWN),
	    S("JPEG JFIF", "\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01", SNIFF_JPEG),
	    S("JPEG Exif", "\xff\xd8\xff\xe1\x2a\xfe" "Exif\x00\x00",
		SNIFF_JPEG),
	    S("JPEG without a marker", "\xff\xd8\x00\xe0", SNIFF_UNKNOWN),
	    S("PNG", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", SNIFF_PNG),
	    S("PNG with LF line ends", "\x89PNG\n\n\x1a\n\x00\x00\x00\r",
		SNIFF_UNKNOWN),
	    S("PNG cut short", "\x89PNG\r\n\x1a", SNIFF_UNKNOWN),
	    S("MP4 isom", "\x00\x00\x00\x20" "ftypisom\x00\x00\x02\x00",
		SNIFF_MP4),
	    S("MP4 mp42", "\x00\x00\x00\x18" "ftypmp42\x00\x00\x00\x00",
		SNIFF_MP4),
	    S("MP4 from an iPhone (qt)", "\x00\x00\x00\x14" "ftypqt  \x00\x00",
		SNIFF_MP4),
	    S("M4A", "\x00\x00\x00\x1c" "ftypM4A \x00\x00\x00\x00", SNIFF_MP4),
	    S("3GP", "\x00\x00\x00\x14" "ftyp3gp4\x00\x00\x00\x00", SNIFF_MP4),
	    S("HEIC is not MP4", "\x00\x00\x00\x18" "ftypheic\x00\x00\x00\x00",
		SNIFF_UNKNOWN),
	    S("AVIF is not MP4", "\x00\x00\x00\x1c" "ftypavif\x00\x00\x00\x00",
		SNIFF_UNKNOWN),
	    S("ftyp box too small", "\x00\x00\x00\x08" "ftypisom\x00\x00\x00\x00",
		SNIFF_UNKNOWN),
	    S("ftyp box absurdly large",
		"\x00\x01\x00\x00" "ftypisom\x00\x00\x00\x00", SNIFF_UNKNOWN),
	    S("MP4 cut short", "\x00\x00\x00\x20" "ftypis", SNIFF_UNKNOWN),
	    S("moov first, no ftyp", "\x00\x00\x00\x20" "moov\x00\x00\x00\x00",
		SNIFF_UNKNOWN),
	    S("MP3 ID3v2.3", "ID3\x03\x00\x00\x00\x00\x1f\x76TIT2", SNIFF_MP3),
	    S("MP3 ID3v2.4", "ID3\x04\x00\x00\x00\x00\x00\x23", SNIFF_MP3),
	    S("ID3 version 5", "ID3\x05\x00\x00\x00\x00\x00\x23", SNIFF_UNKNOWN),
	    S("ID3 size not syncsafe", "ID3\x03\x00\x00\x00\x80\x00\x23",
		SNIFF_UNKNOWN),
	    S("ID3 revision FF", "ID3\x03\xff\x00\x00\x00\x00\x23",
		SNIFF_UNKNOWN),
	    S("MP3 frame, MPEG-1 layer III 128 kbit/s 44.1 kHz",
		"\xff\xfb\x90\x64\x00\x00", SNIFF_MP3),
	    S("MP3 frame, MPEG-2 layer III", "\xff\xf3\x48\xc4", SNIFF_MP3),
	    S("MP3 frame, MPEG-2.5 layer III", "\xff\xe3\x18\xc4", SNIFF_MP3),
	    S("MPEG layer II is not MP3", "\xff\xfd\x90\x64", SNIFF_UNKNOWN),
	    S("MPEG reserved version", "\xff\xeb\x90\x64", SNIFF_UNKNOWN),
	    S("MP3 free bitrate", "\xff\xfb\x00\x64", SNIFF_UNKNOWN),
	    S("MP3 bad bitrate", "\xff\xfb\xf0\x64", SNIFF_UNKNOWN),
	    S("MP3 reserved sample rate", "\xff\xfb\x9c\x64", SNIFF_UNKNOWN),
	    S("AAC ADTS is not MP3", "\xff\xf1\x50\x80\x02\x1f", SNIFF_UNKNOWN),
	    S("HTML", "<!doctype html><html>", SNIFF_UNKNOWN),
	    S("a script", "#!/bin/sh\nrm -rf /\n", SNIFF_UNKNOWN),
	    S("ZIP (a .docx)", "PK\x03\x04\x14\x00\x06\x00", SNIFF_UNKNOWN),
	    S("GIF", "GIF89a\x01\x00\x01\x00", SNIFF_UNKNOWN),
	    S("ELF", "\x7f" "ELF\x02\x01\x01\x00", SNIFF_UNKNOWN),
	    S("empty", "", SNIFF_UNKNOWN),
	    S("one byte", "\xff", SNIFF_UNKNOWN),
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(samples); i++)
		CHECK_MSG(sniff_type(samples[i].head, samples[i].n) ==
			samples[i].want,
		    "%s: got %s", samples[i].what,
		    sniff_name(sniff_type(samples[i].head, samples[i].n)));
}

/* Only the first SNIFF_HEAD bytes matter: what follows changes nothing,
 * and every signature fits in them. */
static void
test_head(void)
{
	unsigned char buf[64];
	static const unsigned char png[] = "\x89PNG\r\n\x1a\n";
	size_t n;

	CHECK(SNIFF_HEAD >= 12);
	memset(buf, 0, sizeof(buf));
	memcpy(buf, png, 8);
	for (n = 8; n <= sizeof(buf); n++)
		CHECK(sniff_type(buf, n) == SNIFF_PNG);
	for (n = 0; n < 8; n++)
		CHECK(sniff_type(buf, n) == SNIFF_UNKNOWN);
	memcpy(buf, "\x00\x00\x00\x20" "ftypisom", 12);
	CHECK(sniff_type(buf, SNIFF_HEAD) == SNIFF_MP4);
	CHECK(sniff_type(buf, 11) == SNIFF_UNKNOWN);
}

static void
test_names(void)
{
	static const struct {
		enum sniff_type t;
		const char *name, *mime, *ext;
	} want[] = {
	    {SNIFF_UNKNOWN, "", "application/octet-stream", "bin"},
	    {SNIFF_PDF, "pdf", "application/pdf", "pdf"},
	    {SNIFF_JPEG, "jpeg", "image/jpeg", "jpg"},
	    {SNIFF_PNG, "png", "image/png", "png"},
	    {SNIFF_MP4, "mp4", "video/mp4", "mp4"},
	    {SNIFF_MP3, "mp3", "audio/mpeg", "mp3"},
	};
	size_t i;

	CHECK(ARRAY_SIZE(want) == SNIFF__MAX);
	for (i = 0; i < ARRAY_SIZE(want); i++) {
		CHECK(strcmp(sniff_name(want[i].t), want[i].name) == 0);
		CHECK(strcmp(sniff_mime(want[i].t), want[i].mime) == 0);
		CHECK(strcmp(sniff_ext(want[i].t), want[i].ext) == 0);
		CHECK(sniff_from_mime(want[i].mime) == want[i].t);
	}
	CHECK(strcmp(sniff_name(SNIFF__MAX), "") == 0);
	CHECK(strcmp(sniff_mime((enum sniff_type)99),
		  "application/octet-stream") == 0);
	CHECK(strcmp(sniff_ext((enum sniff_type)99), "bin") == 0);
	CHECK(sniff_from_mime("image/gif") == SNIFF_UNKNOWN);
	CHECK(sniff_from_mime("IMAGE/PNG") == SNIFF_UNKNOWN);
	CHECK(sniff_from_mime("") == SNIFF_UNKNOWN);
}

static void
test_lists(void)
{
	CHECK(sniff_in_list(SNIFF_PDF, "pdf,jpeg,png"));
	CHECK(sniff_in_list(SNIFF_JPEG, "pdf,jpeg,png"));
	CHECK(sniff_in_list(SNIFF_PNG, "pdf,jpeg,png"));
	CHECK(!sniff_in_list(SNIFF_MP4, "pdf,jpeg,png"));
	CHECK(sniff_in_list(SNIFF_MP3, "mp4,mp3"));
	CHECK(sniff_in_list(SNIFF_PDF, "pdf"));
	CHECK(!sniff_in_list(SNIFF_PDF, ""));
	/* Whole words only. */
	CHECK(!sniff_in_list(SNIFF_PNG, "pngx,jpeg"));
	CHECK(!sniff_in_list(SNIFF_PNG, "apng"));
	CHECK(!sniff_in_list(SNIFF_MP4, "mp3,mp"));
	/* Unknown is never in a list, not even an empty word. */
	CHECK(!sniff_in_list(SNIFF_UNKNOWN, "pdf,,png"));
	CHECK(!sniff_in_list(SNIFF_UNKNOWN, ""));
}

int
main(void)
{
	test_types();
	test_head();
	test_names();
	test_lists();
	return harness_done();
}
