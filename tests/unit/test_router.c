/*
 * test_router: the route matching of fcgi/router.c against a table of its
 * own and against licheng-fcgi's real table. It needs no servers and never
 * calls a handler.
 */
#include <string.h>

#include "../harness.h"
#include "../../fcgi/request.h"
#include "../../fcgi/router.h"

static enum request_outcome
test_handler(struct app *app, struct request *r)
{
	(void)app;
	(void)r;
	return RQ_OK;
}

static const struct route test_table[] = {
    {HTTP_GET, "/", test_handler, "home", 0},
    {HTTP_GET, "/items", test_handler, "items", 0},
    {HTTP_POST, "/items", test_handler, "items_new", 0},
    {HTTP_GET, "/items/:id", test_handler, "item", 0},
    {HTTP_DELETE, "/items/:id", test_handler, "item_del", 0},
    {HTTP_GET, "/items/:id/files/:file", test_handler, "item_file", ROUTE_JSON},
    {HTTP_PUT, "/api/x", test_handler, "api_x", ROUTE_JSON},
};

static const struct route *
match(struct request *r, enum http_method m, const char *path,
    enum request_outcome *o)
{
	request_end(r);
	r->method = m;
	if (str_copy(r->path, sizeof(r->path), path) != 0)
		return NULL;
	return router_match_table(test_table, ARRAY_SIZE(test_table), r, o);
}

int
main(void)
{
	const struct route *rt;
	enum request_outcome o;
	struct request r;

	request_init(&r);

	rt = match(&r, HTTP_GET, "/", &o);
	CHECK(rt != NULL && strcmp(rt->name, "home") == 0);
	CHECK(o == RQ_OK && r.route_index == 0);

	rt = match(&r, HTTP_GET, "/items", &o);
	CHECK(rt != NULL && strcmp(rt->name, "items") == 0);
	rt = match(&r, HTTP_POST, "/items", &o);
	CHECK(rt != NULL && strcmp(rt->name, "items_new") == 0);
	CHECK(strcmp(r.route_name, "items_new") == 0 && r.route_index == 2);

	/* Captures. */
	rt = match(&r, HTTP_GET, "/items/abc123", &o);
	CHECK(rt != NULL && strcmp(rt->name, "item") == 0);
	CHECK(r.ncaptures == 1);
	CHECK(request_capture(&r, "id") != NULL &&
	    strcmp(request_capture(&r, "id"), "abc123") == 0);
	CHECK(request_capture(&r, "i") == NULL);
	CHECK(request_capture(&r, "idx") == NULL);
	/* The path itself is left intact. */
	CHECK(strcmp(r.path, "/items/abc123") == 0);

	rt = match(&r, HTTP_GET, "/items/7f/files/x.pdf", &o);
	CHECK(rt != NULL && strcmp(rt->name, "item_file") == 0);
	CHECK(r.ncaptures == 2 && r.json == 1);
	CHECK(strcmp(request_capture(&r, "id"), "7f") == 0);
	CHECK(strcmp(request_capture(&r, "file"), "x.pdf") == 0);

	/* HEAD follows GET. */
	rt = match(&r, HTTP_HEAD, "/items/1", &o);
	CHECK(rt != NULL && strcmp(rt->name, "item") == 0);

	/* Wrong method: 405 with Allow, counted under the path's route. */
	rt = match(&r, HTTP_PUT, "/items/9", &o);
	CHECK(rt == NULL && o == RQ_BAD_METHOD);
	CHECK_MSG(
	    strcmp(r.allow, "GET, HEAD, DELETE") == 0, "allow=%s", r.allow);
	CHECK(strcmp(r.route_name, "item") == 0 && r.route_index == 3);
	rt = match(&r, HTTP_DELETE, "/items", &o);
	CHECK(rt == NULL && o == RQ_BAD_METHOD);
	CHECK_MSG(strcmp(r.allow, "GET, HEAD, POST") == 0, "allow=%s", r.allow);
	rt = match(&r, HTTP_GET, "/api/x", &o);
	CHECK(rt == NULL && o == RQ_BAD_METHOD && r.json == 1);
	CHECK(strcmp(r.allow, "PUT") == 0);
	rt = match(&r, HTTP_OTHER, "/", &o);
	CHECK(rt == NULL && o == RQ_BAD_METHOD);

	/* No match: 404, "unmatched". */
	rt = match(&r, HTTP_GET, "/itemsx", &o);
	CHECK(rt == NULL && o == RQ_NOT_FOUND);
	CHECK(strcmp(r.route_name, "unmatched") == 0);
	CHECK(r.route_index == (int)ARRAY_SIZE(test_table));
	CHECK(r.allow[0] == '\0');
	rt = match(&r, HTTP_GET, "/items/", &o); /* empty capture */
	CHECK(rt == NULL && o == RQ_NOT_FOUND);
	rt = match(&r, HTTP_GET, "/items/1/files", &o);
	CHECK(rt == NULL && o == RQ_NOT_FOUND);
	rt = match(&r, HTTP_GET, "/items/1/files/a/b", &o);
	CHECK(rt == NULL && o == RQ_NOT_FOUND);
	rt = match(&r, HTTP_GET, "/Items", &o);
	CHECK(rt == NULL && o == RQ_NOT_FOUND);

	/* licheng-fcgi's own table. */
	CHECK(router_count() >= 3);
	CHECK(strcmp(router_name(router_count()), "unmatched") == 0);
	request_end(&r);
	r.method = HTTP_GET;
	CHECK(str_copy(r.path, sizeof(r.path), "/healthz") == 0);
	rt = router_match(&r, &o);
	CHECK(rt != NULL && rt->handler == health_get && r.json == 1);
	request_end(&r);
	r.method = HTTP_POST;
	CHECK(str_copy(r.path, sizeof(r.path), "/metrics") == 0);
	rt = router_match(&r, &o);
	CHECK(rt == NULL && o == RQ_BAD_METHOD &&
	    strcmp(r.allow, "GET, HEAD") == 0);
	request_end(&r);
	r.method = HTTP_GET;
	CHECK(str_copy(r.path, sizeof(r.path), "/healthz/") == 0);
	CHECK(router_match(&r, &o) == NULL && o == RQ_NOT_FOUND);

	request_free(&r);
	return harness_done();
}
