/*
 * sniff: the type of an uploaded file from its first bytes. Each test is
 * the format's own signature: PDF "%PDF-"; JPEG SOI followed by a marker
 * (FF D8 FF); PNG's eight-byte signature; MP4 an ISO base-media "ftyp" box
 * first, of a sane size, whose major brand is of the MP4 family; MP3 an
 * ID3v2 tag header or an MPEG audio layer III frame header with a valid
 * bitrate and sample rate. Anything else is unknown, whatever its name.
 */
#include "sniff.h"

#include <string.h>

#include "util.h"

static const char *const sniff_names[SNIFF__MAX] = {
    "", "pdf", "jpeg", "png", "mp4", "mp3"};
static const char *const sniff_mimes[SNIFF__MAX] = {"application/octet-stream",
    "application/pdf", "image/jpeg", "image/png", "video/mp4", "audio/mpeg"};
static const char *const sniff_exts[SNIFF__MAX] = {
    "bin", "pdf", "jpg", "png", "mp4", "mp3"};

/* Major brands of the MP4 family (ISO/IEC 14496-12/14, 3GPP and Apple's,
 * which browsers and phones write). */
static const char *const sniff_mp4_brands[] = {"isom", "iso2", "iso3", "iso4",
    "iso5", "iso6", "mp41", "mp42", "avc1", "M4V ", "M4A ", "MSNV", "dash",
    "3gp4", "3gp5", "3gp6", "3g2a", "qt  ", "mmp4", "f4v "};

static int
sniff_mp4(const unsigned char *h, size_t n)
{
	unsigned long box;
	size_t i;

	if (n < 12 || memcmp(h + 4, "ftyp", 4) != 0)
		return 0;
	box = (unsigned long)h[0] << 24 | (unsigned long)h[1] << 16 |
	    (unsigned long)h[2] << 8 | h[3];
	if (box < 16 || box > 4096)
		return 0;
	for (i = 0; i < ARRAY_SIZE(sniff_mp4_brands); i++)
		if (memcmp(h + 8, sniff_mp4_brands[i], 4) == 0)
			return 1;
	return 0;
}

static int
sniff_mp3(const unsigned char *h, size_t n)
{
	unsigned version, layer, bitrate, rate;

	/* "ID3", version 2..4, revision < 0xFF, sizes syncsafe. */
	if (n >= 10 && memcmp(h, "ID3", 3) == 0)
		return h[3] >= 2 && h[3] <= 4 && h[4] != 0xFF &&
		    ((h[6] | h[7] | h[8] | h[9]) & 0x80) == 0;
	if (n < 4 || h[0] != 0xFF || (h[1] & 0xE0) != 0xE0)
		return 0;
	version = (h[1] >> 3) & 3; /* 0 = 2.5, 1 reserved, 2 = 2, 3 = 1 */
	layer = (h[1] >> 1) & 3; /* 1 = layer III */
	bitrate = h[2] >> 4;
	rate = (h[2] >> 2) & 3;
	return version != 1 && layer == 1 && bitrate != 0 && bitrate != 15 &&
	    rate != 3;
}

enum sniff_type
sniff_type(const unsigned char *h, size_t n)
{
	static const unsigned char png[8] = {
	    0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};

	if (n >= 5 && memcmp(h, "%PDF-", 5) == 0)
		return SNIFF_PDF;
	if (n >= 3 && h[0] == 0xFF && h[1] == 0xD8 && h[2] == 0xFF)
		return SNIFF_JPEG;
	if (n >= 8 && memcmp(h, png, 8) == 0)
		return SNIFF_PNG;
	if (sniff_mp4(h, n))
		return SNIFF_MP4;
	if (sniff_mp3(h, n))
		return SNIFF_MP3;
	return SNIFF_UNKNOWN;
}

const char *
sniff_name(enum sniff_type t)
{
	return (unsigned)t < SNIFF__MAX ? sniff_names[t] : "";
}

const char *
sniff_mime(enum sniff_type t)
{
	return (unsigned)t < SNIFF__MAX ? sniff_mimes[t] : sniff_mimes[0];
}

enum sniff_type
sniff_from_mime(const char *mime)
{
	int t;

	for (t = SNIFF_PDF; t < SNIFF__MAX; t++)
		if (strcmp(mime, sniff_mimes[t]) == 0)
			return (enum sniff_type)t;
	return SNIFF_UNKNOWN;
}

const char *
sniff_ext(enum sniff_type t)
{
	return (unsigned)t < SNIFF__MAX ? sniff_exts[t] : sniff_exts[0];
}

int
sniff_in_list(enum sniff_type t, const char *list)
{
	const char *name = sniff_name(t), *p = list, *e;
	size_t n, len = strlen(name);

	if (len == 0)
		return 0;
	for (;;) {
		e = strchr(p, ',');
		n = e != NULL ? (size_t)(e - p) : strlen(p);
		if (n == len && memcmp(p, name, n) == 0)
			return 1;
		if (e == NULL)
			return 0;
		p = e + 1;
	}
}
