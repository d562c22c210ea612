/*
 * home: GET /, the page everyone lands on. It says what Licheng is and how
 * accounts are issued, in the visitor's language (zh-TW first), and touches
 * neither the database nor Redis. The role's own home pages replace it once
 * sign-in exists.
 */
#include "app.h"
#include "i18n.h"
#include "page.h"
#include "router.h"
#include "template.h"

enum request_outcome
home_get(struct app *app, struct request *r)
{
	const char *lang;
	struct tval *ctx;
	int rc;

	lang = i18n_pick_lang(NULL, request_param(r, "HTTP_ACCEPT_LANGUAGE"));
	ctx = tval_obj();
	rc =
	    tval_set_str(ctx, "title", i18n_get(app->msgs, lang, "home.title"));
	if (rc == 0)
		rc = page_render(
		    app->tmpl, app->msgs, lang, "home", ctx, &r->body);
	tval_free(ctx);
	if (rc != 0) {
		buf_reset(&r->body);
		return RQ_ERROR;
	}
	request_ok(r, 200, "text/html; charset=utf-8");
	return RQ_OK;
}
