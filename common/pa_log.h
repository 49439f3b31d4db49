/*
 * Operator logging (not audit: audit events go through agent/audit).
 * Never pass key material, PSKs or credentials to these functions.
 *
 * Messages go to stderr until log_open_syslog() is called. log_warn()
 * appends strerror(errno); log_warnx() does not. fatal()/fatalx() are for
 * startup failures and broken invariants only, never for peer input.
 */
#ifndef PA_LOG_H
#define PA_LOG_H

#include <stdarg.h>
#include <stdbool.h>

enum pa_log_level {
	PA_LOG_ERR = 3,
	PA_LOG_WARNING = 4,
	PA_LOG_INFO = 6,
	PA_LOG_DEBUG = 7
};

/* ident is borrowed and must outlive logging. */
void	log_init(const char *ident, enum pa_log_level max_level);
void	log_set_level(enum pa_log_level max_level);
enum pa_log_level	log_get_level(void);
void	log_open_syslog(void);
/* Redirect output to a hook (tests); NULL restores stderr/syslog. */
typedef void	(*pa_log_hook)(enum pa_log_level, const char *msg, void *arg);
void	log_set_hook(pa_log_hook, void *arg);

void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif
