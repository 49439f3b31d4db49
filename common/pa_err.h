/*
 * Error codes shared by every module.
 *
 * Fallible functions return 0 on success or a negative enum pa_err value.
 * PA_E_SYS means "look at errno", which the failing call left set.
 */
#ifndef PA_ERR_H
#define PA_ERR_H

#define PA_MUST_USE	__attribute__((warn_unused_result))

enum pa_err {
	PA_OK = 0,
	PA_E_SHORT = -1,	/* input ended before a field did */
	PA_E_FORMAT = -2,	/* input is malformed */
	PA_E_VERIFY = -3,	/* integrity or authentication check failed */
	PA_E_NOTSUP = -4,	/* valid but not supported */
	PA_E_SYS = -5,		/* system call failed, errno kept */
	PA_E_NOMEM = -6,	/* allocation failed */
	PA_E_NOSPACE = -7,	/* output buffer full */
	PA_E_NOENT = -8,	/* no such object */
	PA_E_EXIST = -9,	/* object already exists */
	PA_E_INVAL = -10,	/* invalid argument or value */
	PA_E_PERM = -11,	/* not permitted */
	PA_E_STATE = -12,	/* not possible in the current state */
	PA_E_TIMEOUT = -13,	/* timed out */
	PA_E_TRAILING = -14,	/* unexpected bytes after a complete field */
	PA_E_REF = -15,		/* dangling reference */
	PA_E_CRYPTO = -16,	/* the crypto library failed */
	PA_E_AGAIN = -17,	/* try again later (would block, in progress) */
	PA_E_MAX = -18
};

/* Static text for an error code; never NULL. */
const char	*pa_strerror(int err);

#endif
