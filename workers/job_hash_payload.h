/*
 * job_hash_payload: the strict parser of the hash and repair jobs'
 * payload, pure (no I/O, no allocation) so that a unit test and a fuzz
 * target can drive it.
 */
#ifndef LICHENG_WORKERS_JOB_HASH_PAYLOAD_H
#define LICHENG_WORKERS_JOB_HASH_PAYLOAD_H

#include <stddef.h>

/*
 * The object a payload names: a JSON object with the member "sha256" (64
 * lower-case hex digits, no escapes) exactly once; other members, whose
 * values are strings, numbers, true, false or null (a repair's "from" and
 * "to"), are allowed and ignored, since the job reads and repairs
 * whichever copy is bad. JSON whitespace between tokens, nothing after the
 * object. 0 with the hash in sha, or -1 with sha "" and the reason in err
 * ("malformed payload: ...").
 */
int
job_hash_payload(const char *payload, char sha[65], char *err, size_t errlen);

#endif
