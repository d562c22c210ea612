/*
 * fuzz_csv: libFuzzer target for lib/csv.c. Each input is parsed as a file
 * in each encoding (auto, UTF-8, Big5); a parsed file is checked (rows
 * rising, cells within the limits) and written back with csv_put_bom and
 * csv_put_cell, and that output must read back, as forced UTF-8 (so every
 * cell is valid UTF-8), to the same cells with the formula guard's ' added.
 * A refused file must name a known code with a sensible row and column.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_ROWS 200

static void
fuzz_check_error(const struct csv_error *err)
{
	static const char *const codes[] = {"encoding", "quote", "field_long",
	    "fields_many", "rows_many", "empty", "nul", "memory"};
	size_t i;

	if (err->code == NULL)
		abort();
	for (i = 0; i < ARRAY_SIZE(codes); i++)
		if (strcmp(err->code, codes[i]) == 0)
			break;
	if (i == ARRAY_SIZE(codes) || strcmp(err->code, "memory") == 0)
		abort();
	if (strcmp(err->code, "empty") == 0) {
		if (err->row != 0 || err->col != 0)
			abort();
		return;
	}
	if (err->row == 0 || err->col > CSV_FIELDS_MAX + 1)
		abort();
	if ((strcmp(err->code, "rows_many") == 0) != (err->col == 0))
		abort();
	if ((strcmp(err->code, "fields_many") == 0) !=
	    (err->col == CSV_FIELDS_MAX + 1))
		abort();
}

/* 1 when csv_put_cell prefixes s with '. */
static int
fuzz_guarded(const char *s)
{
	return s[0] != '\0' && strchr("=+-@\t\r", s[0]) != NULL;
}

/* The cell as csv_put_cell's reader sees it again. */
static int
fuzz_same(const char *orig, const char *back)
{
	if (fuzz_guarded(orig)) {
		if (back[0] != '\'')
			return 0;
		back++;
	}
	return strcmp(orig, back) == 0;
}

static void
fuzz_round_trip(const struct csv *c)
{
	struct csv_error err;
	struct csv *back;
	struct buf out;
	size_t i, j, n, longest = 0;

	buf_init(&out);
	csv_put_bom(&out);
	for (i = 0; i < csv_records(c); i++) {
		n = csv_cells(c, i);
		for (j = 0; j < n; j++) {
			const char *s = csv_cell(c, i, j);
			size_t len = strlen(s) + (size_t)fuzz_guarded(s);

			if (len > longest)
				longest = len;
			csv_put_cell(&out, s, j + 1 == n);
		}
	}
	back = csv_parse(out.data, out.len, CSV_ENC_UTF8, csv_records(c), &err);
	if (back == NULL) {
		/* Only the guard's ' can push a cell past the limit. */
		if (strcmp(err.code, "field_long") != 0 ||
		    longest <= CSV_FIELD_MAX)
			abort();
		buf_free(&out);
		return;
	}
	if (csv_records(back) != csv_records(c))
		abort();
	for (i = 0; i < csv_records(c); i++) {
		if (csv_cells(back, i) != csv_cells(c, i) ||
		    csv_row(back, i) != i + 1)
			abort();
		for (j = 0; j < csv_cells(c, i); j++)
			if (!fuzz_same(csv_cell(c, i, j), csv_cell(back, i, j)))
				abort();
	}
	csv_free(back);
	buf_free(&out);
}

static void
fuzz_check(const struct csv *c, enum csv_encoding enc)
{
	size_t i, j, row = 0;
	enum csv_encoding used = csv_encoding_used(c);

	if ((used != CSV_ENC_UTF8 && used != CSV_ENC_BIG5) ||
	    (enc != CSV_ENC_AUTO && used != enc))
		abort();
	if (csv_records(c) == 0 || csv_records(c) > FUZZ_MAX_ROWS + 1)
		abort();
	for (i = 0; i < csv_records(c); i++) {
		if (csv_row(c, i) <= row)
			abort();
		row = csv_row(c, i);
		if (csv_cells(c, i) == 0 || csv_cells(c, i) > CSV_FIELDS_MAX)
			abort();
		for (j = 0; j < csv_cells(c, i); j++)
			if (strlen(csv_cell(c, i, j)) > CSV_FIELD_MAX)
				abort();
		if (csv_cell(c, i, csv_cells(c, i))[0] != '\0')
			abort();
	}
	if (csv_cell(c, csv_records(c), 0)[0] != '\0' ||
	    csv_row(c, csv_records(c)) != 0)
		abort();
	fuzz_round_trip(c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum csv_encoding encs[] = {
	    CSV_ENC_AUTO, CSV_ENC_UTF8, CSV_ENC_BIG5};
	struct csv_error err;
	struct csv *c;
	char *copy;
	size_t k;

	/* An exact-size copy so ASan sees any read past the end. */
	copy = xmalloc(size ? size : 1);
	if (size > 0)
		memcpy(copy, data, size);
	for (k = 0; k < ARRAY_SIZE(encs); k++) {
		c = csv_parse(copy, size, encs[k], FUZZ_MAX_ROWS, &err);
		if (c == NULL) {
			fuzz_check_error(&err);
			continue;
		}
		if (err.code != NULL)
			abort();
		fuzz_check(c, encs[k]);
		csv_free(c);
	}
	free(copy);
	return 0;
}
