/*
 * notices: the lines of issue 7 on a signed-in user's home page. Each adds
 * its values to the home page's context ctx (and nothing when it has
 * nothing to say, or the user's role is not its own), and its partial
 * template (notices_<who>.html, included by home_user.html) shows them.
 * Each returns 0, or -1 on a database error (the page then answers 503).
 *
 *   notices_teacher   (certify.c's side) a teacher or stand-in: how many
 *                     course learning outcomes wait for them and the
 *                     nearest certification deadline among them.
 *   notices_student   a student: certification results they have not yet
 *                     seen (items.cert_notice), rejections with reasons.
 *   notices_homeroom  a homeroom teacher (導師): their classes' progress,
 *                     with a link to /homeroom.
 */
#ifndef LICHENG_NOTICES_H
#define LICHENG_NOTICES_H

struct app;
struct request;
struct tval;

int notices_teacher(struct app *app, struct request *r, struct tval *ctx);
int notices_student(struct app *app, struct request *r, struct tval *ctx);
int notices_homeroom(struct app *app, struct request *r, struct tval *ctx);

#endif
