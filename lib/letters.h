/*
 * letters: activation letters — one per new or re-issued account, with the
 * school's name, the sign-in address, the login and the code. A batch is
 * kept sealed (keys.data, aad "letters:<public_id>") so the admin can print
 * it and download its CSV for letters.keep_hours; then, or when the admin
 * destroys it, the sealed list is wiped and the codes exist nowhere but as
 * hashes. Every function is scoped by school_id: another school's batch is
 * the same as a missing one.
 */
#ifndef LICHENG_LETTERS_H
#define LICHENG_LETTERS_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "ids.h"

struct db;

struct letter {
	char role[16]; /* "student" / "teacher" */
	char login[33];
	char name[401];
	char student_no[21]; /* "" for teachers */
	char class_name[51]; /* "" when none */
	int seat_no; /* 0 when none */
	char code[IDS_CODE_LEN + 1];
	char expires[32]; /* "YYYY-MM-DD HH:MM UTC" */
};

enum letters_state {
	LETTERS_MISSING, /* no such batch in this school */
	LETTERS_READY, /* loaded */
	LETTERS_GONE /* expired or destroyed: re-issue instead */
};

/* Stores a batch of n letters inside the caller's transaction (keep_hours
 * from configuration); its public id into public_id. created_by is the
 * admin's user id (0 from the command line), actor their login or
 * "cli:<user>". 0/-1. */
int letters_create_tx(struct db *db, const unsigned char key[CRYPTO_KEY_LEN],
    uint64_t school_id, uint64_t created_by, const char *actor, int keep_hours,
    const struct letter *l, size_t n, char public_id[IDS_PUBLIC_LEN + 1]);

/* Loads a batch: LETTERS_READY with *out (n letters; free with
 * letters_free, which wipes the codes) and its creation and expiry times
 * ("YYYY-MM-DD HH:MM" UTC); LETTERS_MISSING or LETTERS_GONE; -1 on a
 * database or decryption error. */
int letters_load(struct db *db, const unsigned char key[CRYPTO_KEY_LEN],
    uint64_t school_id, const char *public_id, struct letter **out, size_t *n,
    char created[20], char expires[20]);
void letters_free(struct letter *l, size_t n);

/* Wipes a batch's sealed list now (the admin has printed it). 1 done, 0
 * when missing or already gone, -1 on error. Inside the caller's
 * transaction. */
int
letters_destroy_tx(struct db *db, uint64_t school_id, const char *public_id);

/* Wipes every batch past its expiry (any school): the worker's sweep.
 * The number wiped, or -1. */
long letters_expire(struct db *db);

#endif
