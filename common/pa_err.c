#include "pa_err.h"

static const char *const pa_err_text[] = {
	[0] = "success",
	[-PA_E_SHORT] = "input too short",
	[-PA_E_FORMAT] = "malformed input",
	[-PA_E_VERIFY] = "verification failed",
	[-PA_E_NOTSUP] = "not supported",
	[-PA_E_SYS] = "system error",
	[-PA_E_NOMEM] = "out of memory",
	[-PA_E_NOSPACE] = "no space left in buffer",
	[-PA_E_NOENT] = "no such object",
	[-PA_E_EXIST] = "object exists",
	[-PA_E_INVAL] = "invalid argument",
	[-PA_E_PERM] = "permission denied",
	[-PA_E_STATE] = "not possible in this state",
	[-PA_E_TIMEOUT] = "timed out",
	[-PA_E_TRAILING] = "unexpected trailing data",
	[-PA_E_REF] = "dangling reference",
	[-PA_E_CRYPTO] = "crypto library error",
	[-PA_E_AGAIN] = "try again",
};

const char *
pa_strerror(int err)
{
	if (err > 0 || err <= PA_E_MAX)
		return "unknown error";
	return pa_err_text[-err];
}
