/*
 * Inside `ipseccmd static` and `ipseccmd match` (static_cmd.h), split by
 * concern:
 *   static_cmd.c     svc_static_main(): the command line, lock, load,
 *                    dispatch, save
 *   static_args.c    the accepted words, usage, messages, key=value
 *                    arguments
 *   static_syntax.c  values: MM/QM methods, endpoints; one-line texts
 *   static_store.c   the store on disk; exportpolicy, importpolicy
 *   static_edit.c    add/set/delete of the objects
 *   static_show.c    show, as text or JSON
 *   static_match.c   match
 * Functions return 0 or an exit code (SVC_STATIC_*) after printing why.
 */
#ifndef PA_SERVICE_STATIC_INT_H
#define PA_SERVICE_STATIC_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "model.h"
#include "static_cmd.h"

#define MAXARGS		32

struct kv {
	const char	*key;
	const char	*val;
	bool		 used;
};

struct cmd {
	const char	*verb;		/* add, set, delete, show, ... */
	const char	*obj;		/* policy, filterlist, ... */
	struct kv	 kv[MAXARGS];
	size_t		 nkv;
	bool		 json;
	const char	*store_path;
	const char	*secrets_path;
	struct pol_store *store;
	bool		 modified;
};

/* static_args.c */
bool	svc_st_word_in(const char *const *tab, const char *w, size_t n);
int	svc_st_fail(int code, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
int	svc_st_fail_err(const struct pol_err *err);
int	svc_st_enomem(void);
void	svc_st_usage(void);
int	svc_st_args_parse(struct cmd *c, int argc, char **argv, int first);
bool	svc_st_keyeq(const struct kv *kv, const char *key);
const char *svc_st_arg(struct cmd *c, const char *key);
int	svc_st_args_unused(struct cmd *c);
int	svc_st_parse_yesno(const char *key, const char *v, bool *out);
int	svc_st_parse_u32(const char *key, const char *v, uint32_t min,
	    uint32_t max, uint32_t *out);
int	svc_st_opt_yesno(struct cmd *c, const char *key, bool *out);
int	svc_st_opt_u32(struct cmd *c, const char *key, uint32_t min,
	    uint32_t max, uint32_t mult, uint32_t *out);
int	svc_st_opt_str(struct cmd *c, const char *key, char **out);
const char *svc_st_need(struct cmd *c, const char *key);

/* static_syntax.c */
int	svc_st_parse_mmsec(const char *spec, struct pol_isakmp *k);
int	svc_st_parse_qmsec(const char *spec, struct pol_filteraction *fa);
void	svc_st_fmt_offer(const struct pol_qm_offer *o, char *buf, size_t cap);
int	svc_st_parse_endpoint(const char *key, const char *v,
	    const char *mask, struct pol_endpoint *e);
void	svc_st_fmt_endpoint(const struct pol_endpoint *e, char *buf,
	    size_t cap);
void	svc_st_fmt_filter(const struct pol_filter *f, char *buf, size_t cap);

/* static_store.c */
int	svc_st_store_load(struct cmd *c);
int	svc_st_store_lock(struct cmd *c, int *fd);
void	svc_st_store_lock_shared(struct cmd *c, int *fd);
int	svc_st_store_save(struct cmd *c);
int	svc_st_cmd_export(struct cmd *c);
int	svc_st_cmd_import(struct cmd *c);

/* static_edit.c */
int	svc_st_edit(struct cmd *c);
struct pol_filterlist *svc_st_find_filterlist(struct cmd *c, const char *key);

/* static_show.c */
int	svc_st_cmd_show(struct cmd *c);
json_t	*svc_st_guid_json(const struct pa_guid *g);
int	svc_st_json_out(json_t *j);

/* static_match.c */
int	svc_st_cmd_match(struct cmd *c);
int	svc_st_match_eval(struct cmd *c, const struct pol_policy *p,
	    const struct pol_spd *spd, json_t **view);
int	svc_st_match_load(struct cmd *c, const char *path);


#endif
