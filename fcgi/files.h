/*
 * files.h: the download name of a stored file, as files.c sends it in
 * Content-Disposition. The original name is data a student typed (or a
 * browser sent); it is made safe here and never used as a path.
 */
#ifndef LICHENG_FCGI_FILES_H
#define LICHENG_FCGI_FILES_H

#include <stddef.h>

struct buf;

/* At most this many characters (code points) in a download name. */
#define FILES_NAME_MAX 255

/*
 * The download name made from the original name (len bytes, which may hold
 * NUL bytes and invalid UTF-8) for a file whose detected type has the
 * extension ext ("pdf"; "jpg" also accepts "jpeg"): control characters,
 * NUL, invalid bytes, '/', '\' and the characters Windows refuses become
 * '_'; bidirectional controls (U+200E, U+200F, U+202A..U+202E,
 * U+2066..U+2069, U+061C) are dropped; leading and trailing dots and
 * spaces are trimmed; an empty stem becomes "file"; the extension is
 * appended unless the name already ends in it (any case); and the whole is
 * cut to FILES_NAME_MAX characters, keeping the extension. Appended to out
 * as UTF-8.
 */
void files_download_name(
    struct buf *out, const char *name, size_t len, const char *ext);

/*
 * Appends the Content-Disposition value for a download name made by
 * files_download_name: attachment; filename="<ASCII fallback>";
 * filename*=UTF-8''<RFC 5987 percent-encoding>. The fallback replaces
 * '"', '\', '%' and control characters by '_', and each run of characters
 * outside ASCII by one '_'.
 */
void files_disposition(struct buf *out, const char *name);

#endif
