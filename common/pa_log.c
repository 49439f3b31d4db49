#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "pa_log.h"

static const char	*log_ident = "ipsec-agent";
static enum pa_log_level log_level = PA_LOG_INFO;
static bool		 log_syslog;
static pa_log_hook	 log_hook;
static void		*log_hook_arg;

void
log_init(const char *ident, enum pa_log_level max_level)
{
	log_ident = ident;
	log_level = max_level;
}

void
log_set_level(enum pa_log_level max_level)
{
	log_level = max_level;
}

enum pa_log_level
log_get_level(void)
{
	return log_level;
}

void
log_open_syslog(void)
{
	openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	log_syslog = true;
}

void
log_set_hook(pa_log_hook hook, void *arg)
{
	log_hook = hook;
	log_hook_arg = arg;
}

static void
log_vemit(enum pa_log_level level, int errnum, const char *fmt, va_list ap)
{
	char msg[1024];
	int n;

	if (level > log_level)
		return;
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		return;
	if (errnum != 0 && (size_t)n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - (size_t)n, ": %s",
		    strerror(errnum));
	if (log_hook != NULL)
		log_hook(level, msg, log_hook_arg);
	else if (log_syslog)
		syslog((int)level, "%s", msg);
	else
		fprintf(stderr, "%s: %s\n", log_ident, msg);
}

#define LOG_BODY(level, errnum) do {				\
	va_list ap;						\
	va_start(ap, fmt);					\
	log_vemit((level), (errnum), fmt, ap);			\
	va_end(ap);						\
} while (0)

void
log_warn(const char *fmt, ...)
{
	int saved = errno;

	LOG_BODY(PA_LOG_WARNING, saved);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	LOG_BODY(PA_LOG_WARNING, 0);
}

void
log_info(const char *fmt, ...)
{
	LOG_BODY(PA_LOG_INFO, 0);
}

void
log_debug(const char *fmt, ...)
{
	LOG_BODY(PA_LOG_DEBUG, 0);
}

void
fatal(const char *fmt, ...)
{
	int saved = errno;

	LOG_BODY(PA_LOG_ERR, saved);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	LOG_BODY(PA_LOG_ERR, 0);
	exit(1);
}
