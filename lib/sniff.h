/*
 * sniff: what kind of file a byte string is, by its first bytes (magic
 * numbers), never by its name or a Content-Type. It knows only the upload
 * types: PDF, JPEG, PNG, MP4 (ISO base media with an mp4 family brand) and
 * MP3 (an ID3v2 tag or an MPEG-1/2 layer III frame header).
 */
#ifndef LICHENG_SNIFF_H
#define LICHENG_SNIFF_H

#include <stddef.h>

/* The bytes sniff_type needs at most; fewer are enough when the file is
 * shorter. */
#define SNIFF_HEAD 16

enum sniff_type {
	SNIFF_UNKNOWN,
	SNIFF_PDF,
	SNIFF_JPEG,
	SNIFF_PNG,
	SNIFF_MP4,
	SNIFF_MP3,
	SNIFF__MAX
};

/* The type of a file whose first n bytes (up to SNIFF_HEAD) are head. */
enum sniff_type sniff_type(const unsigned char *head, size_t n);
/* "pdf", "jpeg", "png", "mp4", "mp3" ("" for unknown): the names used by
 * items.doc_types and items.video_types. */
const char *sniff_name(enum sniff_type t);
/* "application/pdf", "image/jpeg", "image/png", "video/mp4", "audio/mpeg";
 * "application/octet-stream" for unknown. */
const char *sniff_mime(enum sniff_type t);
/* The type of a mime type sniff_mime gives; SNIFF_UNKNOWN otherwise. */
enum sniff_type sniff_from_mime(const char *mime);
/* The usual file extension without the dot: "pdf", "jpg", "png", "mp4",
 * "mp3"; "bin" for unknown. */
const char *sniff_ext(enum sniff_type t);
/* 1 when t's name is in list ("pdf,jpeg,png"), else 0. */
int sniff_in_list(enum sniff_type t, const char *list);

#endif
