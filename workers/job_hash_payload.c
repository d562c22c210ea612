/*
 * job_hash_payload: the payload of the hash and repair jobs (see
 * job_hash_payload.h). A small hand-written scanner over a closed grammar:
 * a JSON object whose members' values are strings, numbers or literals;
 * anything else is refused with the rule it broke, never guessed at.
 */
#include "job_hash_payload.h"

#include <string.h>

#include "util.h"

static const char *
hash_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

/* Skips the JSON string at p (its opening quote): the character after its
 * closing quote, or NULL when it is malformed. Its raw text (escapes
 * as written) goes to *s and *n. */
static const char *
hash_json_string(const char *p, const char **s, size_t *n)
{
	int i;

	if (*p != '"')
		return NULL;
	*s = ++p;
	while (*p != '"') {
		if ((unsigned char)*p < 0x20) /* NUL, or a control character */
			return NULL;
		if (*p == '\\') {
			p++;
			if (*p == 'u') {
				for (i = 1; i <= 4; i++)
					if (hex_value(p[i]) < 0)
						return NULL;
				p += 4;
			} else if (*p == '\0' ||
			    strchr("\"\\/bfnrt", *p) == NULL)
				return NULL;
		}
		p++;
	}
	*n = (size_t)(p - *s);
	return p + 1;
}

/* Skips a JSON number, true, false or null at p; NULL when there is none.
 * (Payloads hold no nested objects or arrays.) */
static const char *
hash_json_scalar(const char *p)
{
	static const char *const words[] = {"true", "false", "null"};
	const char *q = p;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(words); i++)
		if (strncmp(p, words[i], strlen(words[i])) == 0)
			return p + strlen(words[i]);
	if (*q == '-')
		q++;
	if (!(*q >= '0' && *q <= '9'))
		return NULL;
	while ((*q >= '0' && *q <= '9') || *q == '.' || *q == 'e' ||
	    *q == 'E' || *q == '+' || *q == '-')
		q++;
	return q;
}

int
job_hash_payload(const char *payload, char sha[65], char *err, size_t errlen)
{
	const char *p = payload, *k, *v;
	const char *why = "not a JSON object of strings, numbers and literals";
	size_t kn, vn;
	int found = 0;

	sha[0] = '\0';
	if (p == NULL || *(p = hash_ws(p)) != '{') {
		why = "not a JSON object";
		goto bad;
	}
	p = hash_ws(p + 1);
	while (*p != '}') {
		if ((p = hash_json_string(p, &k, &kn)) == NULL ||
		    *(p = hash_ws(p)) != ':')
			goto bad;
		p = hash_ws(p + 1);
		if (*p == '"') {
			if ((p = hash_json_string(p, &v, &vn)) == NULL)
				goto bad;
		} else {
			v = NULL;
			vn = 0;
			if ((p = hash_json_scalar(p)) == NULL)
				goto bad;
		}
		if (kn == 6 && memcmp(k, "sha256", 6) == 0) {
			if (found++) {
				why = "sha256 given twice";
				goto bad;
			}
			if (v == NULL || vn != 64 || !hex_lower_is(v, vn)) {
				why = "sha256 is not 64 lower-case hex digits";
				goto bad;
			}
			memcpy(sha, v, 64);
			sha[64] = '\0';
		}
		p = hash_ws(p);
		if (*p == ',') {
			p = hash_ws(p + 1);
			if (*p == '}')
				goto bad;
		} else if (*p != '}')
			goto bad;
	}
	if (*hash_ws(p + 1) != '\0')
		goto bad;
	if (!found) {
		why = "no sha256";
		goto bad;
	}
	return 0;
bad:
	sha[0] = '\0';
	str_printf(err, errlen, "malformed payload: %s", why);
	return -1;
}
