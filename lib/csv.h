/*
 * csv: reading the CSV files schools export (RFC 4180: comma-separated,
 * "double-quoted" fields with "" for a quote, CRLF or LF line ends) in UTF-8
 * with or without a BOM, or in Big5, into UTF-8 cells; and writing CSV that
 * Excel opens correctly (UTF-8 with BOM, CRLF, formula-safe cells).
 *
 * Encodings. CSV_ENC_AUTO takes UTF-8 when the file starts with a BOM or
 * is valid UTF-8 throughout, Big5 otherwise. A leading BOM is dropped
 * whatever the encoding. Big5 is decoded through iconv as BIG5-HKSCS (a
 * superset of Big5 that also holds rare characters such as 堃 and 峯),
 * cell by cell; a cell that is valid UTF-8 and holds non-ASCII bytes is
 * taken as UTF-8 as it is (exports patched to write the characters Big5
 * lacks as UTF-8), so such characters survive — unless its bytes also read
 * as Big5-HKSCS and the UTF-8 reading is the unlikely one: a character
 * that is not CJK (common Big5 names such as 羅 C3 B9, 簡 C2 B2 or 簡瑋
 * are valid UTF-8 for "ù", "²", "²޳"), or a Big5 pair whose second byte is
 * ASCII. A cell that is neither is an "encoding" error, as is any cell
 * that is not valid UTF-8 when CSV_ENC_UTF8 is forced. Cells are split on
 * the raw bytes, which is safe: no Big5 byte equals ',', '"', ' ', CR or
 * LF.
 *
 * Syntax. Lines end in CRLF, LF or a lone CR; the last may have none. A
 * cell is trimmed of surrounding ASCII spaces; a quoted cell keeps the
 * spaces inside its quotes (spaces around the quotes are allowed) and may
 * hold commas, line breaks and "" for a quote.
 *
 * Row numbers are what a spreadsheet shows: the header is row 1, a quoted
 * field with line breaks is one row, and blank lines (nothing but spaces,
 * commas and empty quoted cells) count and are skipped as records.
 */
#ifndef LICHENG_CSV_H
#define LICHENG_CSV_H

#include <stddef.h>

#include "util.h"

/* Longest cell, in bytes after decoding. */
#define CSV_FIELD_MAX 4096
/* Most cells in one row. */
#define CSV_FIELDS_MAX 64

enum csv_encoding { CSV_ENC_AUTO, CSV_ENC_UTF8, CSV_ENC_BIG5 };

struct csv_error {
	size_t row; /* 1-based; 0 when not about a row */
	size_t col; /* 1-based; 0 when not about a cell */
	/* "encoding" (a cell neither UTF-8 nor Big5, or not UTF-8 when
	 * CSV_ENC_UTF8 is forced), "quote" (an unterminated quoted field, a
	 * quote inside an unquoted one, or anything but spaces between a
	 * closing quote and the next comma), "field_long" (a cell over
	 * CSV_FIELD_MAX), "fields_many" (col is CSV_FIELDS_MAX + 1),
	 * "rows_many" (the first record past max_rows; col 0), "empty" (no
	 * header row; row 0), "nul" (a NUL byte), "memory" (the converter
	 * could not be opened; logged). row/col of an unterminated quoted
	 * field are where it starts. */
	const char *code;
};

struct csv;

/* Parses the whole of data (not NUL-terminated; not kept). NULL with *err
 * set on the first problem that stops the file being read at all (any of
 * the codes above); otherwise every record, the header first, and
 * err->code NULL. max_rows bounds the records after the header (0: the
 * header alone). err may be NULL. Memory: about the file's size again. */
struct csv *csv_parse(const char *data, size_t len, enum csv_encoding enc,
    size_t max_rows, struct csv_error *err);
void csv_free(struct csv *c);

/* The encoding the file was read in (CSV_ENC_UTF8 or CSV_ENC_BIG5). */
enum csv_encoding csv_encoding_used(const struct csv *c);
/* "utf-8" / "big5" / "auto"; and back (-1 when unknown). */
const char *csv_encoding_name(enum csv_encoding e);
int csv_encoding_parse(const char *s);

/* Records, the header included (record 0). */
size_t csv_records(const struct csv *c);
/* The spreadsheet row number of record i. */
size_t csv_row(const struct csv *c, size_t i);
/* Cells in record i. */
size_t csv_cells(const struct csv *c, size_t i);
/* Cell j of record i as NUL-terminated UTF-8 with surrounding ASCII spaces
 * trimmed; "" when the record has no such cell. */
const char *csv_cell(const struct csv *c, size_t i, size_t j);

/* The UTF-8 byte order mark, for a file Excel opens as UTF-8. */
void csv_put_bom(struct buf *b);
/* Appends one cell (NULL: empty), quoted when it holds ',', '"', CR or LF
 * or starts or ends with a space, and prefixed with ' when it starts with
 * =, +, -, @, TAB or CR (so a spreadsheet never runs it as a formula);
 * then ',' or, when last, CRLF. */
void csv_put_cell(struct buf *b, const char *s, int last);

#endif
