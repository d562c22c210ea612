/*
 * mfa: the second factor (TOTP, RFC 6238) required of school admins,
 * central staff and auditors: enrolment with an otpauth URI and a QR code,
 * ten one-time recovery codes shown once, the check at sign-in with
 * replays refused, and the reset of another user's factor by an admin.
 * The TOTP secret is stored only sealed with keys.data (AES-256-GCM bound
 * to the user), and recovery codes only as hashes.
 */
#ifndef LICHENG_MFA_H
#define LICHENG_MFA_H

struct app;
struct user;

/*
 * Checks a code typed at sign-in: six digits of TOTP (a step at or before
 * the last accepted one is a replay and refused), or an unused recovery
 * code ("XXXXX-XXXXX"), which is used up. 1 accepted (*recovery set when
 * it was a recovery code), 0 refused, -1 on an error.
 */
int mfa_verify(
    struct app *app, const struct user *u, const char *code, int *recovery);

#endif
