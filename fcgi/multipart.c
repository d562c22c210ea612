/*
 * multipart: a streaming multipart/form-data reader (RFC 7578 on RFC 2046
 * §5.1). Bytes go through a small state machine as they arrive; a part's
 * content reaches on_data at once, except the few bytes that may be the
 * start of a delimiter, which are held back — and since they then equal the
 * delimiter's own first bytes, they are released from the delimiter string
 * itself, so no content is ever copied or buffered. It never truncates:
 * passing a limit is an error, and the first error is final.
 */
#include "multipart.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "validate.h"

/* mp_read_request reads the body in pieces of this. */
#define MP_READ_CHUNK (64 * 1024)

enum mp_state {
	MS_PREAMBLE, /* before the first delimiter: ignored */
	MS_DELIM, /* just after a delimiter: "--", padding or CRLF */
	MS_DASH, /* after "-": the second "-" of a close delimiter */
	MS_PAD, /* transport padding (spaces, tabs) before CRLF */
	MS_LF, /* the LF of the delimiter line */
	MS_HEADER, /* a header line */
	MS_HEADER_LF, /* the LF of a header line */
	MS_BODY, /* a part's content */
	MS_EPILOGUE /* after the close delimiter: ignored */
};

struct mp {
	struct mp_limits lim;
	struct mp_callbacks cb;
	void *user;
	/* "\r\n--" boundary: CR occurs only first, so a partial match that
	 * fails never hides the start of another. */
	char delim[4 + MP_BOUNDARY_MAX + 1];
	size_t dlen;
	size_t match; /* bytes of delim matched (and held back) */
	enum mp_state st;
	enum mp_error err;
	size_t nparts;
	struct mp_part part;
	int have_disp, have_type;
	char *line; /* the header line being read */
	size_t linelen, linecap;
	size_t hbytes; /* bytes of this part's header block */
};

static const char *const mp_error_names[MP_E__MAX] = {
    [MP_OK] = "ok",
    [MP_E_CONTENT_TYPE] = "content_type",
    [MP_E_SYNTAX] = "syntax",
    [MP_E_PARTS] = "parts",
    [MP_E_HEADER] = "header",
    [MP_E_FIELD] = "field",
    [MP_E_FILE] = "file",
    [MP_E_NAME] = "name",
    [MP_E_TRUNCATED] = "truncated",
    [MP_E_CALLBACK] = "callback",
};

const char *
mp_error_name(enum mp_error e)
{
	if ((unsigned)e >= MP_E__MAX)
		return "syntax";
	return mp_error_names[e];
}

/* RFC 2046 bchars (a space allowed, but not last). */
static int
mp_bchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z') ||
	    (c != '\0' && strchr("'()+_,-./:=? ", c) != NULL);
}

static const char *
mp_skip_space(const char *p)
{
	while (request_space(*p))
		p++;
	return p;
}

/*
 * Reads a parameter value at *pp — a token, or a quoted-string in which
 * \" and \\ stand for " and \ and any other backslash is itself (a path
 * from Windows) — unescaping it in place. Its start and length in *v and
 * *vlen; *pp after it. -1 when there is none or the quote is not closed.
 */
static int
mp_param_value(char **pp, char **v, size_t *vlen)
{
	char *p = *pp, *out;

	if (*p != '"') {
		*v = p;
		while (request_tchar((unsigned char)*p))
			p++;
		*vlen = (size_t)(p - *v);
		*pp = p;
		return *vlen > 0 ? 0 : -1;
	}
	*v = out = ++p;
	for (; *p != '"'; p++) {
		if (*p == '\0')
			return -1;
		if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
			p++;
		*out++ = *p;
	}
	*vlen = (size_t)(out - *v);
	*pp = p + 1;
	return 0;
}

/*
 * Reads the next "; name=value" parameter at *pp (spaces allowed around
 * each part, a final ';' alone tolerated): 1 with the name and the value
 * (unescaped in place, behind *pp), 0 at the end, -1 when malformed.
 */
static int
mp_param(char **pp, char **name, size_t *nlen, char **v, size_t *vlen)
{
	char *p = (char *)mp_skip_space(*pp);

	if (*p == '\0')
		return 0;
	if (*p++ != ';')
		return -1;
	p = (char *)mp_skip_space(p);
	if (*p == '\0') {
		*pp = p;
		return 0;
	}
	*name = p;
	while (request_tchar((unsigned char)*p))
		p++;
	*nlen = (size_t)(p - *name);
	p = (char *)mp_skip_space(p);
	if (*nlen == 0 || *p++ != '=')
		return -1;
	p = (char *)mp_skip_space(p);
	if (mp_param_value(&p, v, vlen) != 0)
		return -1;
	*pp = p;
	return 1;
}

/*
 * Parses a Content-Type for its boundary into m->delim (after "\r\n--").
 * 0, or -1 when it is not multipart/form-data with one valid boundary.
 */
static int
mp_boundary(struct mp *m, const char *content_type)
{
	static const char type[] = "multipart/form-data";
	char *copy, *p, *name, *v;
	size_t nlen, vlen, i;
	int found = 0, rc = -1, r;

	if (content_type == NULL)
		return -1;
	copy = xstrdup(content_type);
	p = (char *)mp_skip_space(copy);
	if (strncasecmp(p, type, sizeof(type) - 1) != 0)
		goto out;
	p = (char *)mp_skip_space(p + sizeof(type) - 1);
	while ((r = mp_param(&p, &name, &nlen, &v, &vlen)) > 0) {
		if (nlen != 8 || strncasecmp(name, "boundary", 8) != 0)
			continue;
		if (found || vlen == 0 || vlen > MP_BOUNDARY_MAX ||
		    v[vlen - 1] == ' ')
			goto out;
		for (i = 0; i < vlen; i++)
			if (!mp_bchar((unsigned char)v[i]))
				goto out;
		memcpy(m->delim, "\r\n--", 4);
		memcpy(m->delim + 4, v, vlen);
		m->dlen = 4 + vlen;
		m->delim[m->dlen] = '\0';
		found = 1;
	}
	rc = found && r == 0 ? 0 : -1;
out:
	free(copy);
	return rc;
}

struct mp *
mp_new(const char *content_type, const struct mp_limits *lim,
    const struct mp_callbacks *cb, void *user, enum mp_error *err)
{
	struct mp *m = xcalloc(1, sizeof(*m));

	if (mp_boundary(m, content_type) != 0) {
		free(m);
		if (err != NULL)
			*err = MP_E_CONTENT_TYPE;
		return NULL;
	}
	m->lim = *lim;
	if (cb != NULL)
		m->cb = *cb;
	m->user = user;
	/* The first delimiter may open the body without the CRLF before
	 * it: start as if that CRLF had been seen. */
	m->st = MS_PREAMBLE;
	m->match = 2;
	if (err != NULL)
		*err = MP_OK;
	return m;
}

void
mp_free(struct mp *m)
{
	if (m == NULL)
		return;
	free(m->line);
	free(m);
}

static enum mp_error
mp_fail(struct mp *m, enum mp_error e)
{
	if (m->err == MP_OK)
		m->err = e;
	return m->err;
}

/* Hands n content bytes of the current part to on_data, within its
 * limit. 0, or -1 with the error set. */
static int
mp_emit(struct mp *m, const char *p, size_t n)
{
	size_t max =
	    m->part.is_file ? m->lim.max_file_bytes : m->lim.max_field_bytes;

	if (n == 0 || m->st == MS_PREAMBLE)
		return 0;
	if (n > max - m->part.size) {
		mp_fail(m, m->part.is_file ? MP_E_FILE : MP_E_FIELD);
		return -1;
	}
	m->part.size += n;
	if (m->cb.on_data != NULL &&
	    m->cb.on_data(m->user, &m->part, p, n) != 0) {
		mp_fail(m, MP_E_CALLBACK);
		return -1;
	}
	return 0;
}

/* The replacement character, for what cannot be shown as it was sent. */
#define MP_REPLACEMENT 0xFFFDu
/* An extension kept when a long name is cut: at most this many
 * characters, the dot included. */
#define MP_EXT_MAX 16

/*
 * The code point at s (n > 0 bytes left) into *cp and its length in
 * bytes. A byte that does not start a well-formed UTF-8 sequence (an
 * overlong form, a surrogate, a value past U+10FFFF, a cut-off sequence)
 * is one byte read as U+FFFD, and so is a control character (C0, DEL,
 * C1): a file name is shown to people, and such a character only hides
 * what the name says.
 */
static size_t
mp_name_char(const unsigned char *s, size_t n, unsigned long *cp)
{
	unsigned long c = s[0], min;
	size_t len, i;

	if (c < 0x80) {
		*cp = c < 0x20 || c == 0x7f ? MP_REPLACEMENT : c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2, c &= 0x1f, min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3, c &= 0x0f, min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4, c &= 0x07, min = 0x10000;
	} else {
		*cp = MP_REPLACEMENT;
		return 1;
	}
	for (i = 1; i < len; i++) {
		if (i >= n || (s[i] & 0xc0) != 0x80) {
			*cp = MP_REPLACEMENT;
			return 1;
		}
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) {
		*cp = MP_REPLACEMENT;
		return 1;
	}
	*cp = c <= 0x9f ? MP_REPLACEMENT : c; /* C1 */
	return len;
}

/* Appends cp as UTF-8 at out; the bytes written. */
static size_t
mp_put_utf8(char *out, unsigned long cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * Keeps the file name at s (n bytes, any bytes at all) as data: whatever
 * is not well-formed UTF-8 or is a control character becomes U+FFFD, and a
 * name of more than MP_FILENAME_CHARS characters is cut at a character
 * boundary, keeping its extension (the last dot and at most MP_EXT_MAX - 1
 * characters after it) when it has one. Slashes, dots and bidirectional
 * controls are kept as they are: the name is never used as a path, and
 * whoever shows it isolates it. So no name is refused.
 */
static void
mp_set_filename(struct mp *m, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i, len, k, chars = 0, dot = 0, keep, tail, out = 0;
	unsigned long cp;
	int has_dot = 0;

	for (i = 0; i < n; i += len, chars++) {
		len = mp_name_char(u + i, n - i, &cp);
		if (cp == '.' && chars > 0) {
			dot = chars;
			has_dot = 1;
		} else if (cp == '/' || cp == '\\') {
			has_dot = 0;
		}
	}
	/* The characters kept: [0, keep) and [tail, chars). */
	keep = tail = chars;
	if (chars > MP_FILENAME_CHARS) {
		if (has_dot && chars - dot <= MP_EXT_MAX) {
			keep = MP_FILENAME_CHARS - (chars - dot);
			tail = dot;
		} else {
			keep = MP_FILENAME_CHARS;
		}
	}
	for (i = 0, k = 0; i < n; i += len, k++) {
		len = mp_name_char(u + i, n - i, &cp);
		if (k < keep || k >= tail)
			out += mp_put_utf8(m->part.filename + out, cp);
	}
	m->part.filename[out] = '\0';
	m->part.is_file = 1;
}

/* Decodes an RFC 5987 ext-value (UTF-8'lang'%XX...) in place. 0 or -1. */
static int
mp_ext_value(char *v, size_t vlen, size_t *outlen)
{
	char *end = v + vlen, *p, *out;
	int hi, lo;

	if (vlen < 7 || strncasecmp(v, "UTF-8'", 6) != 0)
		return -1;
	p = memchr(v + 6, '\'', (size_t)(end - (v + 6)));
	if (p == NULL)
		return -1;
	out = v;
	for (p++; p < end; p++) {
		if (*p != '%') {
			*out++ = *p;
			continue;
		}
		if (end - p < 3 || (hi = hex_value(p[1])) < 0 ||
		    (lo = hex_value(p[2])) < 0)
			return -1;
		*out++ = (char)(hi << 4 | lo);
		p += 2;
	}
	*outlen = (size_t)(out - v);
	return 0;
}

/*
 * Parses a Content-Disposition value (the line, NUL-terminated, from p):
 * form-data, the field name, the file name from filename* or filename.
 */
static enum mp_error
mp_disposition(struct mp *m, char *p)
{
	char *v, *pname, *fname = NULL, *fstar = NULL;
	size_t vlen, nlen, flen = 0, slen = 0;
	int r;

	pname = p;
	while (request_tchar((unsigned char)*p))
		p++;
	if ((size_t)(p - pname) != 9 || strncasecmp(pname, "form-data", 9) != 0)
		return MP_E_NAME;
	while ((r = mp_param(&p, &pname, &nlen, &v, &vlen)) > 0) {
		if (nlen == 4 && strncasecmp(pname, "name", 4) == 0) {
			if (m->part.name[0] != '\0')
				return MP_E_SYNTAX;
			if (vlen == 0 || vlen > MP_NAME_MAX ||
			    validate_utf8_text(v, vlen, 0) < 0)
				return MP_E_NAME;
			memcpy(m->part.name, v, vlen);
			m->part.name[vlen] = '\0';
		} else if (nlen == 8 &&
		    strncasecmp(pname, "filename", 8) == 0) {
			if (fname != NULL)
				return MP_E_SYNTAX;
			fname = v;
			flen = vlen;
		} else if (nlen == 9 &&
		    strncasecmp(pname, "filename*", 9) == 0) {
			if (fstar != NULL)
				return MP_E_SYNTAX;
			if (mp_ext_value(v, vlen, &slen) != 0)
				return MP_E_NAME;
			fstar = v;
		}
	}
	if (r < 0)
		return MP_E_SYNTAX;
	/* A missing name is found when the header block ends, so that
	 * a malformed line after this one is reported as such. */
	if (fstar != NULL)
		mp_set_filename(m, fstar, slen);
	else if (fname != NULL)
		mp_set_filename(m, fname, flen);
	return MP_OK;
}

/* One complete header line of m->linelen bytes in m->line. */
static enum mp_error
mp_header_line(struct mp *m)
{
	char *line = m->line, *colon, *v, *end;
	size_t i, n;

	/* linelen > 0, so the line was allocated with room for the NUL. */
	line[m->linelen] = '\0';
	if (request_space(line[0]))
		return MP_E_SYNTAX; /* obsolete line folding */
	colon = memchr(line, ':', m->linelen);
	if (colon == NULL || colon == line)
		return MP_E_SYNTAX;
	for (i = 0; line + i < colon; i++)
		if (!request_tchar((unsigned char)line[i]))
			return MP_E_SYNTAX;
	for (i = 0; i < m->linelen; i++) {
		unsigned char c = (unsigned char)line[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return MP_E_SYNTAX;
	}
	v = (char *)mp_skip_space(colon + 1);
	end = line + m->linelen;
	while (end > v && request_space(end[-1]))
		end--;
	*end = '\0';
	n = (size_t)(colon - line);
	if (n == 19 && strncasecmp(line, "content-disposition", n) == 0) {
		if (m->have_disp)
			return MP_E_SYNTAX;
		m->have_disp = 1;
		return mp_disposition(m, v);
	}
	if (n == 12 && strncasecmp(line, "content-type", n) == 0) {
		n = (size_t)(end - v);
		if (m->have_type || n > MP_TYPE_MAX)
			return MP_E_SYNTAX;
		for (i = 0; i < n; i++)
			if ((unsigned char)v[i] >= 0x7f)
				return MP_E_SYNTAX;
		memcpy(m->part.content_type, v, n + 1);
		m->have_type = 1;
	}
	return MP_OK; /* other headers are ignored */
}

/* A delimiter line ended: a new part's headers follow. */
static enum mp_error
mp_part_start(struct mp *m)
{
	if (m->nparts >= m->lim.max_parts)
		return mp_fail(m, MP_E_PARTS);
	m->nparts++;
	memset(&m->part, 0, sizeof(m->part));
	m->have_disp = m->have_type = 0;
	m->linelen = 0;
	m->hbytes = 0;
	m->st = MS_HEADER;
	return MP_OK;
}

/* The empty line after the headers: the content begins. */
static enum mp_error
mp_headers_done(struct mp *m)
{
	if (!m->have_disp || m->part.name[0] == '\0')
		return mp_fail(m, MP_E_NAME);
	m->st = MS_BODY;
	m->match = 0;
	if (m->cb.on_begin != NULL && m->cb.on_begin(m->user, &m->part) != 0)
		return mp_fail(m, MP_E_CALLBACK);
	return MP_OK;
}

/* A delimiter was matched in the content (or the preamble). */
static enum mp_error
mp_delimiter(struct mp *m)
{
	m->match = 0;
	if (m->st == MS_BODY) {
		if (m->cb.on_end != NULL &&
		    m->cb.on_end(m->user, &m->part) != 0)
			return mp_fail(m, MP_E_CALLBACK);
	}
	m->st = MS_DELIM;
	return MP_OK;
}

/*
 * Content (or preamble) bytes from data[*i], passed on in one piece up to
 * a delimiter, which may be split across feeds: a partial one at the end
 * of the data is held back (m->match bytes, equal to the delimiter's
 * start) and either completed or released as content by the next feed.
 * Returns after a whole delimiter, at the end of the data, or on an error.
 */
static enum mp_error
mp_scan(struct mp *m, const char *data, size_t n, size_t *i)
{
	const char *p = data + *i, *end = data + n, *run, *cr;
	size_t k;

	while (m->match > 0 && p < end) {
		if (*p == m->delim[m->match]) {
			p++;
			if (++m->match == m->dlen) {
				*i = (size_t)(p - data);
				return mp_delimiter(m);
			}
			continue;
		}
		/* Not a delimiter after all: the held bytes were content.
		 * Only their first is a CR, so none of the rest can begin
		 * another; the byte at p is looked at again below. */
		if (mp_emit(m, m->delim, m->match) != 0)
			return m->err;
		m->match = 0;
	}
	run = p;
	while (p < end && (cr = memchr(p, '\r', (size_t)(end - p))) != NULL) {
		for (k = 1; k < m->dlen && cr + k < end && cr[k] == m->delim[k];
		     k++)
			;
		if (k == m->dlen || cr + k == end) {
			if (mp_emit(m, run, (size_t)(cr - run)) != 0)
				return m->err;
			if (k == m->dlen) {
				*i = (size_t)(cr + k - data);
				return mp_delimiter(m);
			}
			m->match = k; /* the data ends in what may be one */
			*i = n;
			return MP_OK;
		}
		/* The k bytes matched hold no other CR. */
		p = cr + k;
	}
	if (mp_emit(m, run, (size_t)(end - run)) != 0)
		return m->err;
	*i = n;
	return MP_OK;
}

/* One byte of a header block. */
static enum mp_error
mp_header_byte(struct mp *m, char c)
{
	enum mp_error e;

	if (++m->hbytes > m->lim.max_header_bytes)
		return mp_fail(m, MP_E_HEADER);
	if (m->st == MS_HEADER_LF) {
		if (c != '\n')
			return mp_fail(m, MP_E_SYNTAX);
		m->st = MS_HEADER;
		if (m->linelen == 0)
			return mp_headers_done(m);
		e = mp_header_line(m);
		m->linelen = 0;
		return e == MP_OK ? MP_OK : mp_fail(m, e);
	}
	if (c == '\r') {
		m->st = MS_HEADER_LF;
		return MP_OK;
	}
	if (c == '\n')
		return mp_fail(m, MP_E_SYNTAX);
	/* hbytes bounds the line by max_header_bytes; it grows as needed,
	 * with room for a terminating NUL. */
	if (m->linelen + 1 >= m->linecap) {
		m->linecap = m->linecap ? m->linecap * 2 : 256;
		m->line = xrealloc(m->line, m->linecap);
	}
	m->line[m->linelen++] = c;
	return MP_OK;
}

/* One byte of a delimiter line, after the boundary itself. */
static enum mp_error
mp_delim_byte(struct mp *m, char c)
{
	switch (m->st) {
	case MS_DELIM:
		if (c == '-') {
			m->st = MS_DASH;
			return MP_OK;
		}
		/* FALLTHROUGH */
	case MS_PAD:
		if (request_space(c))
			m->st = MS_PAD;
		else if (c == '\r')
			m->st = MS_LF;
		else
			return mp_fail(m, MP_E_SYNTAX);
		return MP_OK;
	case MS_DASH:
		if (c != '-')
			return mp_fail(m, MP_E_SYNTAX);
		m->st = MS_EPILOGUE;
		return MP_OK;
	case MS_LF:
		if (c != '\n')
			return mp_fail(m, MP_E_SYNTAX);
		return mp_part_start(m);
	default: return mp_fail(m, MP_E_SYNTAX);
	}
}

enum mp_error
mp_feed(struct mp *m, const char *data, size_t n)
{
	size_t i = 0;
	enum mp_error e;

	while (m->err == MP_OK && i < n) {
		switch (m->st) {
		case MS_PREAMBLE:
		case MS_BODY: e = mp_scan(m, data, n, &i); break;
		case MS_HEADER:
		case MS_HEADER_LF: e = mp_header_byte(m, data[i++]); break;
		case MS_EPILOGUE: return MP_OK;
		case MS_DELIM:
		case MS_DASH:
		case MS_PAD:
		case MS_LF:
		default: e = mp_delim_byte(m, data[i++]); break;
		}
		if (e != MP_OK)
			return mp_fail(m, e);
	}
	return m->err;
}

enum mp_error
mp_finish(struct mp *m)
{
	if (m->err == MP_OK && m->st != MS_EPILOGUE)
		m->err = MP_E_TRUNCATED;
	return m->err;
}

enum request_outcome
mp_read_request(struct request *r, struct mp *m, size_t max, enum mp_error *err)
{
	char *buf;
	size_t want, got = 0;
	int chunk, n;

	*err = MP_OK;
	if (r->content_length < 0 ||
	    (unsigned long long)r->content_length > (unsigned long long)max)
		return RQ_TOO_LARGE;
	if (r->fcgx == NULL) {
		/* Unit tests: the body is what the caller put in input. */
		*err = mp_feed(m, r->input.data, r->input.len);
		return RQ_OK;
	}
	want = (size_t)r->content_length;
	buf = xmalloc(MP_READ_CHUNK);
	while (got < want) {
		chunk = want - got > MP_READ_CHUNK ? MP_READ_CHUNK
						   : (int)(want - got);
		n = FCGX_GetStr(buf, chunk, r->fcgx->in);
		if (n > 0) {
			got += (size_t)n;
			/* After an error the rest is read and dropped, so
			 * the connection stays in step. */
			if (*err == MP_OK)
				*err = mp_feed(m, buf, (size_t)n);
		}
		if (n < chunk)
			break;
	}
	/* The body may hold personal data (an import file). */
	OPENSSL_cleanse(buf, MP_READ_CHUNK);
	free(buf);
	return got < want ? RQ_BAD_REQUEST : RQ_OK;
}
