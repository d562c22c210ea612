/*
 * csv: reads a school's CSV export (RFC 4180, UTF-8 or Big5) into UTF-8
 * cells kept in one arena, and writes cells Excel opens safely. It owns the
 * spreadsheet row numbering, the encoding decision for every cell and the
 * formula guard of the writer. It never guesses silently past a problem:
 * the first thing that stops a file being read is an error with its row
 * and column, and it never holds more than the file's cells in memory.
 */
#include "csv.h"

#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"

/* One record: its spreadsheet row and its cells in csv.cells. */
struct csv_rec {
	size_t row;
	size_t first;
	size_t n;
};

struct csv {
	enum csv_encoding enc;
	struct buf text; /* every cell, NUL-terminated, back to back */
	size_t *cells; /* offsets into text */
	size_t ncells, capcells;
	struct csv_rec *recs;
	size_t nrecs, caprecs;
};

/* The state of one csv_parse. */
struct csv_parser {
	const char *p, *end;
	struct csv *c;
	iconv_t cd; /* (iconv_t)-1 unless the file is Big5 */
	struct buf quoted; /* a quoted cell with "" unescaped */
	char *dec; /* a Big5 cell decoded */
	size_t declen, deccap;
	size_t row, col;
	struct csv_error *err;
};

static const char csv_bom[] = "\xef\xbb\xbf";

static const char *const csv_encoding_names[] = {
    [CSV_ENC_AUTO] = "auto",
    [CSV_ENC_UTF8] = "utf-8",
    [CSV_ENC_BIG5] = "big5",
};

const char *
csv_encoding_name(enum csv_encoding e)
{
	if ((size_t)e >= ARRAY_SIZE(csv_encoding_names))
		return "auto";
	return csv_encoding_names[e];
}

int
csv_encoding_parse(const char *s)
{
	size_t i;

	if (s == NULL)
		return -1;
	for (i = 0; i < ARRAY_SIZE(csv_encoding_names); i++)
		if (strcasecmp(s, csv_encoding_names[i]) == 0)
			return (int)i;
	if (strcasecmp(s, "utf8") == 0)
		return CSV_ENC_UTF8;
	return -1;
}

/*
 * Decodes one UTF-8 sequence at s (n > 0 bytes left): its length and code
 * point in *cp, or 0 when it is not well-formed (overlong, surrogate, past
 * U+10FFFF, cut short).
 */
static size_t
csv_utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t len, k;
	uint32_t v;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		v = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		v = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		v = s[0] & 0x07;
	} else
		return 0;
	if (len > n)
		return 0;
	for (k = 1; k < len; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (s[k] & 0x3f);
	}
	if ((len == 3 && v < 0x800) || (len == 4 && v < 0x10000) ||
	    v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return len;
}

/* Han and the punctuation around it: what a patched Big5 export writes
 * as UTF-8 (CJK radicals to the unified ideographs, compatibility
 * ideographs, vertical and full-width forms, the ideograph planes). */
static int
csv_cp_cjk(uint32_t cp)
{
	return (cp >= 0x2e80 && cp <= 0x9fff) ||
	    (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0xfe30 && cp <= 0xfe4f) ||
	    (cp >= 0xff00 && cp <= 0xffef) || (cp >= 0x20000 && cp <= 0x3ffff);
}

/* 1 when the n bytes at s are well-formed UTF-8; then, when cjk is not
 * NULL, *cjk says whether every non-ASCII character is CJK. */
static int
csv_utf8_valid(const char *s, size_t n, int *cjk)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, k;
	uint32_t cp;
	int all = 1;

	while (i < n) {
		if (u[i] < 0x80) {
			i++;
			continue;
		}
		if ((k = csv_utf8_next(u + i, n - i, &cp)) == 0)
			return 0;
		all = all && csv_cp_cjk(cp);
		i += k;
	}
	if (cjk != NULL)
		*cjk = all;
	return 1;
}

/* 1 when the n bytes at s hold a byte past ASCII. */
static int
csv_has_high(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return 1;
	return 0;
}

/* 1 when reading s as Big5 pairs a lead byte with an ASCII trail byte
 * (0x40..0x7e). Read as UTF-8 that byte would be a letter glued to a Han
 * character, which real text in a name or a class almost never has. */
static int
csv_big5_ascii_trail(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;

	while (i < n) {
		if (u[i] < 0x80) {
			i++;
			continue;
		}
		if (i + 1 < n && u[i + 1] >= 0x40 && u[i + 1] <= 0x7e)
			return 1;
		i += 2;
	}
	return 0;
}

static void
csv_fail(struct csv_parser *P, size_t row, size_t col, const char *code)
{
	if (P->err != NULL) {
		P->err->row = row;
		P->err->col = col;
		P->err->code = code;
	}
}

/*
 * Decodes the n Big5-HKSCS bytes at s into P->dec (terminated, P->declen
 * bytes). 0, or -1 when they are not Big5-HKSCS (an invalid or cut-short
 * sequence).
 */
static int
csv_big5_decode(struct csv_parser *P, const char *s, size_t n)
{
	char *in = (char *)s, *out;
	size_t inleft = n, outleft, r, used = 0;
	/* Two bytes become at most four (a supplementary-plane character,
	 * or a letter with a combining mark); grown on E2BIG all the same. */
	size_t cap = 2 * n + 16;
	int flushing = 0;

	/* A fresh shift state for every cell. */
	if (iconv(P->cd, NULL, NULL, NULL, NULL) == (size_t)-1)
		return -1;
	for (;;) {
		if (P->deccap < cap + 1) {
			P->dec = xrealloc(P->dec, cap + 1);
			P->deccap = cap + 1;
		}
		out = P->dec + used;
		outleft = cap - used;
		if (flushing)
			r = iconv(P->cd, NULL, NULL, &out, &outleft);
		else
			r = iconv(P->cd, &in, &inleft, &out, &outleft);
		used = (size_t)(out - P->dec);
		if (r == (size_t)-1) {
			if (errno != E2BIG)
				return -1; /* EILSEQ, or EINVAL: cut short */
			cap *= 2;
			continue;
		}
		if (flushing)
			break;
		flushing = 1;
	}
	P->dec[used] = '\0';
	P->declen = used;
	return 0;
}

/* Appends one decoded cell (n bytes) to the arena. */
static int
csv_cell_put(struct csv_parser *P, const char *s, size_t n)
{
	struct csv *c = P->c;

	if (n > CSV_FIELD_MAX) {
		csv_fail(P, P->row, P->col, "field_long");
		return -1;
	}
	if (c->ncells == c->capcells) {
		c->capcells = c->capcells ? c->capcells * 2 : 256;
		c->cells = xrealloc(c->cells, c->capcells * sizeof(*c->cells));
	}
	c->cells[c->ncells++] = c->text.len;
	buf_append(&c->text, s, n);
	buf_append(&c->text, "", 1);
	return 0;
}

/*
 * Stores the raw cell s (n bytes, trimmed) in the file's encoding. In a
 * Big5 file a cell of valid UTF-8 is taken as it is unless it also reads
 * as Big5 and the Big5 reading is the likelier one (see csv.h).
 */
static int
csv_cell_decode(struct csv_parser *P, const char *s, size_t n)
{
	int utf8, cjk = 0;

	/* Decoding never shortens a cell (Big5-HKSCS gives 2 to 4 bytes of
	 * UTF-8 for 2), so a long one is refused before it is converted. */
	if (n > CSV_FIELD_MAX) {
		csv_fail(P, P->row, P->col, "field_long");
		return -1;
	}
	if (!csv_has_high(s, n))
		return csv_cell_put(P, s, n);
	utf8 = csv_utf8_valid(s, n, &cjk);
	if (P->c->enc == CSV_ENC_UTF8) {
		if (!utf8) {
			csv_fail(P, P->row, P->col, "encoding");
			return -1;
		}
		return csv_cell_put(P, s, n);
	}
	if (csv_big5_decode(P, s, n) != 0) {
		if (utf8)
			return csv_cell_put(P, s, n);
		csv_fail(P, P->row, P->col, "encoding");
		return -1;
	}
	if (utf8 && cjk && !csv_big5_ascii_trail(s, n))
		return csv_cell_put(P, s, n);
	return csv_cell_put(P, P->dec, P->declen);
}

static int
csv_line_end(char ch)
{
	return ch == '\n' || ch == '\r';
}

/*
 * Reads a quoted cell, P->p at its opening quote, into P->quoted; leaves
 * P->p after the spaces that follow the closing quote.
 */
static int
csv_scan_quoted(struct csv_parser *P)
{
	const char *p = P->p + 1, *run;

	buf_reset(&P->quoted);
	for (;;) {
		run = p;
		while (p < P->end && *p != '"' && *p != '\0')
			p++;
		buf_append(&P->quoted, run, (size_t)(p - run));
		if (p == P->end) {
			csv_fail(P, P->row, P->col, "quote");
			return -1;
		}
		if (*p == '\0') {
			csv_fail(P, P->row, P->col, "nul");
			return -1;
		}
		if (p + 1 < P->end && p[1] == '"') {
			buf_append(&P->quoted, "\"", 1);
			p += 2;
			continue;
		}
		p++;
		break;
	}
	while (p < P->end && *p == ' ')
		p++;
	if (p < P->end && *p != ',' && !csv_line_end(*p)) {
		csv_fail(P, P->row, P->col, *p == '\0' ? "nul" : "quote");
		return -1;
	}
	P->p = p;
	return 0;
}

/*
 * Reads one cell at P->p and stores it; leaves P->p at the ',' or line end
 * after it (or at the end of the data).
 */
static int
csv_scan_cell(struct csv_parser *P, int *empty)
{
	const char *p = P->p, *s, *e;

	while (p < P->end && *p == ' ')
		p++;
	if (p < P->end && *p == '"') {
		P->p = p;
		if (csv_scan_quoted(P) != 0)
			return -1;
		*empty = P->quoted.len == 0;
		return csv_cell_decode(P, P->quoted.data, P->quoted.len);
	}
	s = p;
	while (p < P->end && *p != ',' && !csv_line_end(*p)) {
		if (*p == '"' || *p == '\0') {
			csv_fail(
			    P, P->row, P->col, *p == '"' ? "quote" : "nul");
			return -1;
		}
		p++;
	}
	P->p = p;
	e = p;
	while (e > s && e[-1] == ' ')
		e--;
	*empty = e == s;
	return csv_cell_decode(P, s, (size_t)(e - s));
}

static void
csv_rec_push(struct csv *c, size_t row, size_t first)
{
	if (c->nrecs == c->caprecs) {
		c->caprecs = c->caprecs ? c->caprecs * 2 : 64;
		c->recs = xrealloc(c->recs, c->caprecs * sizeof(*c->recs));
	}
	c->recs[c->nrecs].row = row;
	c->recs[c->nrecs].first = first;
	c->recs[c->nrecs].n = c->ncells - first;
	c->nrecs++;
}

/*
 * Reads one line (a record, or a blank line that is dropped) from P->p,
 * which is not at the end; leaves P->p at the start of the next line.
 */
static int
csv_scan_record(struct csv_parser *P, size_t max_rows)
{
	struct csv *c = P->c;
	size_t first = c->ncells, text = c->text.len;
	int empty, blank = 1;

	P->col = 0;
	for (;;) {
		if (++P->col > CSV_FIELDS_MAX) {
			csv_fail(P, P->row, P->col, "fields_many");
			return -1;
		}
		if (csv_scan_cell(P, &empty) != 0)
			return -1;
		blank = blank && empty;
		if (P->p < P->end && *P->p == ',') {
			P->p++;
			continue;
		}
		break;
	}
	/* CRLF, LF, or a lone CR (old Mac exports) ends the line. */
	if (P->p < P->end && *P->p == '\r') {
		P->p++;
		if (P->p < P->end && *P->p == '\n')
			P->p++;
	} else if (P->p < P->end && *P->p == '\n')
		P->p++;
	if (blank) {
		/* A blank line (nothing but spaces and commas) counts as a
		 * row but is no record. */
		c->ncells = first;
		c->text.len = text;
		if (c->text.data != NULL)
			c->text.data[text] = '\0';
		return 0;
	}
	if (c->nrecs > max_rows) {
		csv_fail(P, P->row, 0, "rows_many");
		return -1;
	}
	csv_rec_push(c, P->row, first);
	return 0;
}

void
csv_free(struct csv *c)
{
	if (c == NULL)
		return;
	buf_free(&c->text);
	free(c->cells);
	free(c->recs);
	free(c);
}

struct csv *
csv_parse(const char *data, size_t len, enum csv_encoding enc, size_t max_rows,
    struct csv_error *err)
{
	struct csv_parser P;
	struct csv *c;
	int rc = 0;

	memset(&P, 0, sizeof(P));
	P.err = err;
	P.cd = (iconv_t)-1;
	if (err != NULL) {
		err->row = 0;
		err->col = 0;
		err->code = NULL;
	}
	if (data == NULL)
		len = 0;
	if (len >= 3 && memcmp(data, csv_bom, 3) == 0) {
		/* The BOM marks UTF-8; it is never data, whatever was
		 * chosen. */
		data += 3;
		len -= 3;
		if (enc == CSV_ENC_AUTO)
			enc = CSV_ENC_UTF8;
	}
	if (enc == CSV_ENC_AUTO)
		enc = csv_utf8_valid(data, len, NULL) ? CSV_ENC_UTF8
						      : CSV_ENC_BIG5;
	if (enc != CSV_ENC_UTF8 && enc != CSV_ENC_BIG5) {
		csv_fail(&P, 0, 0, "encoding");
		return NULL;
	}
	c = xcalloc(1, sizeof(*c));
	c->enc = enc;
	buf_init(&c->text);
	buf_init(&P.quoted);
	P.c = c;
	P.p = data;
	P.end = data + len;
	if (enc == CSV_ENC_BIG5) {
		P.cd = iconv_open("UTF-8", "BIG5-HKSCS");
		if (P.cd == (iconv_t)-1) {
			log_error("iconv_open BIG5-HKSCS: %s", strerror(errno));
			csv_fail(&P, 0, 0, "memory");
			rc = -1;
		}
	}
	for (P.row = 1; rc == 0 && P.p < P.end; P.row++)
		rc = csv_scan_record(&P, max_rows);
	if (rc == 0 && c->nrecs == 0) {
		csv_fail(&P, 0, 0, "empty");
		rc = -1;
	}
	if (P.cd != (iconv_t)-1 && iconv_close(P.cd) != 0)
		log_warn("iconv_close: %s", strerror(errno));
	buf_free(&P.quoted);
	free(P.dec);
	if (rc != 0) {
		csv_free(c);
		return NULL;
	}
	return c;
}

enum csv_encoding
csv_encoding_used(const struct csv *c)
{
	return c->enc;
}

size_t
csv_records(const struct csv *c)
{
	return c == NULL ? 0 : c->nrecs;
}

size_t
csv_row(const struct csv *c, size_t i)
{
	return c != NULL && i < c->nrecs ? c->recs[i].row : 0;
}

size_t
csv_cells(const struct csv *c, size_t i)
{
	return c != NULL && i < c->nrecs ? c->recs[i].n : 0;
}

const char *
csv_cell(const struct csv *c, size_t i, size_t j)
{
	if (c == NULL || i >= c->nrecs || j >= c->recs[i].n)
		return "";
	return c->text.data + c->cells[c->recs[i].first + j];
}

void
csv_put_bom(struct buf *b)
{
	buf_append(b, csv_bom, 3);
}

void
csv_put_cell(struct buf *b, const char *s, int last)
{
	size_t n;
	int quote;

	if (s == NULL)
		s = "";
	n = strlen(s);
	/* Spaces at either end are quoted too, or a reader (this one
	 * included) would trim them. */
	quote = strpbrk(s, ",\"\r\n") != NULL ||
	    (n > 0 && (s[0] == ' ' || s[n - 1] == ' '));
	if (quote)
		buf_putc(b, '"');
	if (n > 0 && strchr("=+-@\t\r", s[0]) != NULL)
		buf_putc(b, '\'');
	if (!quote)
		buf_append(b, s, n);
	else
		for (; *s != '\0'; s++) {
			if (*s == '"')
				buf_putc(b, '"');
			buf_putc(b, *s);
		}
	if (quote)
		buf_putc(b, '"');
	buf_puts(b, last ? "\r\n" : ",");
}
