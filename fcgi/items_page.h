/*
 * items_page: the student's list page /items, which two files build
 * together: items.c renders it (the upload form, the items by term) and
 * selection.c adds the ticks (勾選) — a box per school year with the counts,
 * the caps and the deadline, and each item's tick form or why it cannot be
 * ticked — and re-renders it after a refused tick.
 */
#ifndef LICHENG_ITEMS_PAGE_H
#define LICHENG_ITEMS_PAGE_H

#include "request.h"

struct app;
struct item;
struct selection;
struct selection_rules;
struct selection_year;
struct tval;

/* items.c: renders /items for the signed-in student with ctx (a page
 * context holding an alert or a notice, or nothing more) as status; frees
 * ctx. The unread certification results it shows are marked seen. */
enum request_outcome items_list_render(
    struct app *app, struct request *r, struct tval *ctx, int status);

/* selection.c: the rules of the configuration (selection.*). */
void selection_rules_of(const struct app *app, struct selection_rules *rules);
/* selection.c: the box of school year y, as "selection" in the term's
 * object t. */
void selection_year_ctx(struct app *app, const struct request *r,
    const struct selection_year *y, struct tval *t);
/* selection.c: the tick part of item it's row ("select", and "new_result"
 * for an unread certification result) in its object o. */
void selection_item_ctx(struct app *app, const struct request *r,
    const struct selection *s, const struct item *it, struct tval *o);

#endif
