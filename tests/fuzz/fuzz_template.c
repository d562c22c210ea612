// fuzz-sources: fcgi/template.c fcgi/i18n.c
/*
 * fuzz_template: libFuzzer target for the template compiler and renderer.
 * Each input is written as the one template of a private temporary folder
 * (made once), loaded, rendered with a small context when it loads, and
 * everything is freed. It must never touch anything outside that folder.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../fcgi/template.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fuzz_dir[64];
static char fuzz_path[128];
static struct tval *fuzz_ctx;

static void
fuzz_cleanup(void)
{
	if (fuzz_path[0] != '\0')
		(void)unlink(fuzz_path);
	if (fuzz_dir[0] != '\0')
		(void)rmdir(fuzz_dir);
	tval_free(fuzz_ctx);
}

static int
fuzz_setup(void)
{
	struct tval *l, *o;
	int n;

	if (str_copy(fuzz_dir, sizeof(fuzz_dir), "/tmp/fuzz-tmpl-XXXXXX") ==
		-1 ||
	    mkdtemp(fuzz_dir) == NULL)
		return -1;
	n = snprintf(fuzz_path, sizeof(fuzz_path), "%s/t.html", fuzz_dir);
	if (n < 0 || (size_t)n >= sizeof(fuzz_path))
		return -1;
	if (atexit(fuzz_cleanup) != 0)
		return -1;
	fuzz_ctx = tval_obj();
	o = tval_obj();
	l = tval_list();
	if (tval_set_str(fuzz_ctx, "name", "<script>\"'`=&") == -1 ||
	    tval_set_int(fuzz_ctx, "n", 42) == -1 ||
	    tval_set_bool(fuzz_ctx, "t", 1) == -1 ||
	    tval_set_html(fuzz_ctx, "h", "<b>x</b>") == -1 ||
	    tval_set_str(o, "b", "deep") == -1 ||
	    tval_push(l, tval_str("one")) == -1 ||
	    tval_push(l, tval_int(2)) == -1 || tval_push(l, tval_obj()) == -1 ||
	    tval_set(fuzz_ctx, "a", o) == -1 ||
	    tval_set(fuzz_ctx, "items", l) == -1)
		return -1;
	return 0;
}

static int
fuzz_write(const uint8_t *data, size_t size)
{
	size_t off = 0;
	ssize_t w;
	int fd;

	fd = open(fuzz_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1)
		return -1;
	while (off < size) {
		w = write(fd, data + off, size - off);
		if (w <= 0) {
			(void)close(fd);
			return -1;
		}
		off += (size_t)w;
	}
	return close(fd);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	char err[TMPL_ERR_MAX];
	struct tmpl_set *t;
	struct buf b;

	if (!ready) {
		if (fuzz_setup() == -1)
			abort();
		ready = 1;
	}
	if (size > TMPL_MAX_FILE || fuzz_write(data, size) == -1)
		return 0;
	if ((t = tmpl_load_dir(fuzz_dir, err, sizeof(err))) == NULL) {
		/* A refused template always says where. */
		if (strncmp(err, fuzz_dir, strlen(fuzz_dir)) != 0)
			abort();
		return 0;
	}
	buf_init(&b);
	(void)tmpl_render(t, "t", fuzz_ctx, NULL, "zh-TW", &b);
	(void)tmpl_render(t, "t", NULL, NULL, "en", &b);
	buf_free(&b);
	tmpl_set_free(t);
	return 0;
}
