/*
 * ids: identifiers that leave the database — opaque public ids for URLs and
 * one-time activation codes. Both come from the system's random generator
 * (crypto_random); nothing here is sequential or derived from a row id.
 */
#ifndef LICHENG_IDS_H
#define LICHENG_IDS_H

#include <stddef.h>

#define IDS_PUBLIC_LEN 22 /* 128 random bits, base64url, no padding */
#define IDS_CODE_LEN 11 /* "XXXXX-XXXXX": 50 random bits */

/* A new opaque public id. 0/-1. */
int ids_public(char out[IDS_PUBLIC_LEN + 1]);
/* 1 when s has the shape of a public id. */
int ids_public_valid(const char *s);

#define IDS_TOKEN_LEN 43 /* 256 random bits, base64url, no padding */

/* A new secret token (session cookies, CSRF tokens). 0/-1. */
int ids_token(char out[IDS_TOKEN_LEN + 1]);
/* 1 when s has the shape of a token. */
int ids_token_valid(const char *s);

/* A new activation code in Crockford base32 (no I, L, O, U), grouped
 * 5-5 for reading aloud and printing. 0/-1. */
int ids_activation_code(char out[IDS_CODE_LEN + 1]);
/* Normalises a typed code: drops spaces and dashes, upper-cases, maps the
 * look-alikes O->0 and I/L->1. Writes 10 characters and returns 0, or -1
 * when the input is not a code. */
int ids_code_normalise(const char *in, char out[11]);
/* The stored form of a code for login: SHA-256 hex over
 * "licheng-activation\0" login "\0" normalised code. 0/-1. */
int ids_code_hash(const char *login, const char *code, char out[65]);

#endif
