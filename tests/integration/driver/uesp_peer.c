/*
 * A tiny host for the uesp driver in integration tests and benchmarks:
 * opens the driver (no IKE) and takes hand-keyed SAs and filters as
 * line commands on stdin; each reply is "<n> ok ..." or "<n> err ..."
 * where n counts commands, so a script can wait for its answer.
 *
 *   uesp_peer [ifname]              run the driver
 *   uesp_peer garbage DST           send bad ESP/AH/UDP-4500 to DST
 *
 * Commands:
 *   sa in|out esp|ah SRC DST SPI transport|tunnel ENC AUTH EKEY AKEY
 *      [encap SPORT DPORT] [reqid N] [bytes SOFT HARD] [secs SOFT HARD]
 *      ENC: none des 3des aes128 aes256 gcm128; AUTH: none md5 sha1 sha256
 *      keys in hex ("-" for none)
 *   del DST esp|ah SPI
 *   query DST esp|ah SPI
 *   pol INDEX in|out permit|block|protect SRC DST PROTO SPORT DPORT PRIO
 *      [inpass] [ah] [reqid N]      (SRC/DST: prefix or "any")
 *   unpol INDEX in|out
 *   stats | events | flush | quit
 */
#include <linux/filter.h>
#include <linux/udp.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "driver.h"
#include "pa_buf.h"
#include "pa_log.h"

static char	evlog[65536];
static size_t	evlen;

static void
ev_add(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
ev_add(const char *fmt, ...)
{
	va_list ap;
	int n;

	if (evlen >= sizeof(evlog) - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(&evlog[evlen], sizeof(evlog) - evlen, fmt, ap);
	va_end(ap);
	if (n > 0)
		evlen += (size_t)n < sizeof(evlog) - evlen ? (size_t)n :
		    sizeof(evlog) - evlen - 1;
}

static void
on_acquire(void *arg, const struct spd_id *spd, const struct drv_sel *sel,
    uint32_t reqid)
{
	char a[PA_PREFIXSTRLEN], b[PA_PREFIXSTRLEN];

	(void)arg;
	ev_add(" acquire:%u:%u:%s>%s:%u", spd->index, reqid,
	    pa_prefix_str(&sel->src, a, sizeof(a)),
	    pa_prefix_str(&sel->dst, b, sizeof(b)), sel->proto);
}

static void
on_expire(void *arg, const struct sa_id *sa, uint64_t cookie, bool hard)
{
	(void)arg;
	ev_add(" expire:%x:%s:%llu", sa->spi, hard ? "hard" : "soft",
	    (unsigned long long)cookie);
}

static void
on_drop(void *arg, const struct drv_drop *dr)
{
	char a[PA_ADDRSTRLEN];

	(void)arg;
	ev_add(" drop:%d:%s:%llu:%s:%u:%x", (int)dr->reason,
	    dr->peer.family != 0 ? pa_addr_str(&dr->peer, a, sizeof(a)) : "-",
	    (unsigned long long)dr->count, dr->dir == DRV_DIR_OUT ? "out" :
	    dr->dir == DRV_DIR_IN ? "in" : "?", (unsigned)dr->proto, dr->spi);
}

static int
parse_enc(const char *s, enum drv_enc *e)
{
	static const struct { const char *n; enum drv_enc e; } t[] = {
		{ "none", DRV_ENC_NONE }, { "des", DRV_ENC_DES_CBC },
		{ "3des", DRV_ENC_3DES_CBC }, { "aes128", DRV_ENC_AES_CBC },
		{ "aes256", DRV_ENC_AES_CBC }, { "gcm128", DRV_ENC_AES_GCM_16 },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(s, t[i].n) == 0) {
			*e = t[i].e;
			return 0;
		}
	return -1;
}

static int
parse_auth(const char *s, enum drv_auth *a)
{
	static const struct { const char *n; enum drv_auth a; } t[] = {
		{ "none", DRV_AUTH_NONE }, { "md5", DRV_AUTH_HMAC_MD5_96 },
		{ "sha1", DRV_AUTH_HMAC_SHA1_96 },
		{ "sha256", DRV_AUTH_HMAC_SHA256_128 },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(s, t[i].n) == 0) {
			*a = t[i].a;
			return 0;
		}
	return -1;
}

static int
parse_key(const char *s, uint8_t *k, size_t cap, uint8_t *len)
{
	size_t n = 0;

	if (strcmp(s, "-") == 0) {
		*len = 0;
		return 0;
	}
	if (pa_hex_decode(s, k, cap, &n) != 0)
		return -1;
	*len = (uint8_t)n;
	return 0;
}

static int
parse_prefix(const char *s, struct pa_prefix *p)
{
	memset(p, 0, sizeof(*p));
	if (strcmp(s, "any") == 0)
		return 0;
	return pa_prefix_parse(s, p) == 0 ? 0 : -1;
}

static int
parse_proto(const char *s, uint8_t *p)
{
	*p = strcmp(s, "esp") == 0 ? DRV_PROTO_ESP : strcmp(s, "ah") == 0 ?
	    DRV_PROTO_AH : 0;
	return *p != 0 ? 0 : -1;
}

#define NEXT()	(tok = strtok_r(NULL, " \t\n", &save))

static int
cmd_sa(struct driver *d, const struct driver_ops *ops, char *save)
{
	struct sa_id id;
	struct sa_params p;
	char *tok;

	memset(&id, 0, sizeof(id));
	memset(&p, 0, sizeof(p));
	if (NEXT() == NULL)
		return PA_E_INVAL;
	p.inbound = strcmp(tok, "in") == 0;
	if (NEXT() == NULL || parse_proto(tok, &id.proto) != 0 ||
	    NEXT() == NULL || pa_addr_parse(tok, &id.src) != 0 ||
	    NEXT() == NULL || pa_addr_parse(tok, &id.dst) != 0 ||
	    NEXT() == NULL)
		return PA_E_INVAL;
	id.spi = (uint32_t)strtoul(tok, NULL, 16);
	if (NEXT() == NULL)
		return PA_E_INVAL;
	p.mode = strcmp(tok, "tunnel") == 0 ? DRV_MODE_TUNNEL :
	    DRV_MODE_TRANSPORT;
	if (NEXT() == NULL || parse_enc(tok, &p.enc) != 0 ||
	    NEXT() == NULL || parse_auth(tok, &p.auth) != 0 ||
	    NEXT() == NULL || parse_key(tok, p.enc_key, sizeof(p.enc_key),
	    &p.enc_key_len) != 0 || NEXT() == NULL ||
	    parse_key(tok, p.auth_key, sizeof(p.auth_key),
	    &p.auth_key_len) != 0)
		return PA_E_INVAL;
	p.replay_window = 1024;
	p.cookie = id.spi;
	while (NEXT() != NULL) {
		if (strcmp(tok, "encap") == 0) {
			if (NEXT() == NULL)
				return PA_E_INVAL;
			p.encap_sport = (uint16_t)atoi(tok);
			if (NEXT() == NULL)
				return PA_E_INVAL;
			p.encap_dport = (uint16_t)atoi(tok);
		} else if (strcmp(tok, "reqid") == 0) {
			if (NEXT() == NULL)
				return PA_E_INVAL;
			p.reqid = (uint32_t)atoi(tok);
		} else if (strcmp(tok, "bytes") == 0) {
			if (NEXT() == NULL)
				return PA_E_INVAL;
			p.life.soft_bytes = strtoull(tok, NULL, 10);
			if (NEXT() == NULL)
				return PA_E_INVAL;
			p.life.hard_bytes = strtoull(tok, NULL, 10);
		} else if (strcmp(tok, "secs") == 0) {
			if (NEXT() == NULL)
				return PA_E_INVAL;
			p.life.soft_sec = (uint32_t)atoi(tok);
			if (NEXT() == NULL)
				return PA_E_INVAL;
			p.life.hard_sec = (uint32_t)atoi(tok);
		} else
			return PA_E_INVAL;
	}
	return ops->sa_add(d, &id, &p);
}

static int
cmd_pol(struct driver *d, const struct driver_ops *ops, char *save,
    bool del)
{
	struct spd_id id;
	struct spd_params p;
	char *tok;

	memset(&id, 0, sizeof(id));
	memset(&p, 0, sizeof(p));
	if (NEXT() == NULL)
		return PA_E_INVAL;
	id.index = (uint32_t)atoi(tok);
	if (NEXT() == NULL)
		return PA_E_INVAL;
	id.dir = strcmp(tok, "in") == 0 ? DRV_DIR_IN : DRV_DIR_OUT;
	if (del)
		return ops->policy_del(d, &id);
	if (NEXT() == NULL)
		return PA_E_INVAL;
	p.action = strcmp(tok, "permit") == 0 ? DRV_ACT_PERMIT :
	    strcmp(tok, "block") == 0 ? DRV_ACT_BLOCK : DRV_ACT_PROTECT;
	if (NEXT() == NULL || parse_prefix(tok, &p.sel.src) != 0 ||
	    NEXT() == NULL || parse_prefix(tok, &p.sel.dst) != 0 ||
	    NEXT() == NULL)
		return PA_E_INVAL;
	p.sel.proto = (uint8_t)atoi(tok);
	if (NEXT() == NULL)
		return PA_E_INVAL;
	p.sel.sport = (uint16_t)atoi(tok);
	if (NEXT() == NULL)
		return PA_E_INVAL;
	p.sel.dport = (uint16_t)atoi(tok);
	if (NEXT() == NULL)
		return PA_E_INVAL;
	p.priority = (uint32_t)atoi(tok);
	p.mode = DRV_MODE_TRANSPORT;
	p.want_esp = true;
	while (NEXT() != NULL) {
		if (strcmp(tok, "inpass") == 0)
			p.inpass = true;
		else if (strcmp(tok, "ah") == 0)
			p.want_ah = true;
		else if (strcmp(tok, "ahonly") == 0) {
			p.want_ah = true;
			p.want_esp = false;
		} else if (strcmp(tok, "reqid") == 0) {
			if (NEXT() == NULL)
				return PA_E_INVAL;
			p.reqid = (uint32_t)atoi(tok);
		} else
			return PA_E_INVAL;
	}
	return ops->policy_add(d, &id, &p);
}

static int
cmd_sa_ref(char *save, struct sa_id *id)
{
	char *tok;

	memset(id, 0, sizeof(*id));
	if (NEXT() == NULL || pa_addr_parse(tok, &id->dst) != 0 ||
	    NEXT() == NULL || parse_proto(tok, &id->proto) != 0 ||
	    NEXT() == NULL)
		return PA_E_INVAL;
	id->spi = (uint32_t)strtoul(tok, NULL, 16);
	id->src.family = id->dst.family;
	return 0;
}

/* The NAT-T socket standing for IKE's (ikeclose closes it). */
static int ike_fd = -1;

static void
run_line(struct driver *d, const struct driver_ops *ops, unsigned n,
    char *line, bool *quit)
{
	char *save = NULL, *tok = strtok_r(line, " \t\n", &save);
	struct drv_stats st;
	struct sa_stats ss;
	struct sa_id id;
	int rc = PA_E_INVAL;

	if (tok == NULL) {
		printf("%u err empty\n", n);
		return;
	}
	if (strcmp(tok, "sa") == 0)
		rc = cmd_sa(d, ops, save);
	else if (strcmp(tok, "pol") == 0)
		rc = cmd_pol(d, ops, save, false);
	else if (strcmp(tok, "unpol") == 0)
		rc = cmd_pol(d, ops, save, true);
	else if (strcmp(tok, "del") == 0) {
		if ((rc = cmd_sa_ref(save, &id)) == 0)
			rc = ops->sa_del(d, &id);
	} else if (strcmp(tok, "query") == 0) {
		if ((rc = cmd_sa_ref(save, &id)) == 0 &&
		    (rc = ops->sa_query(d, &id, &ss)) == 0) {
			printf("%u ok bytes=%llu packets=%llu replay=%llu "
			    "auth=%llu decrypt=%llu\n", n,
			    (unsigned long long)ss.bytes,
			    (unsigned long long)ss.packets,
			    (unsigned long long)ss.replay_drops,
			    (unsigned long long)ss.auth_drops,
			    (unsigned long long)ss.decrypt_drops);
			return;
		}
	} else if (strcmp(tok, "stats") == 0) {
		if ((rc = ops->stats(d, &st)) == 0) {
			printf("%u ok active=%llu bad_spi=%llu "
			    "not_decrypted=%llu not_auth=%llu replay=%llu "
			    "cleartext=%llu blocked=%llu queued=%llu "
			    "queue_drops=%llu conf_sent=%llu conf_recv=%llu "
			    "auth_sent=%llu auth_recv=%llu out_dropped=%llu\n",
			    n,
			    (unsigned long long)st.active_sas,
			    (unsigned long long)st.bad_spi,
			    (unsigned long long)st.not_decrypted,
			    (unsigned long long)st.not_authenticated,
			    (unsigned long long)st.replay,
			    (unsigned long long)st.cleartext_drops,
			    (unsigned long long)st.blocked,
			    (unsigned long long)st.queued,
			    (unsigned long long)st.queue_drops,
			    (unsigned long long)st.conf_bytes_sent,
			    (unsigned long long)st.conf_bytes_recv,
			    (unsigned long long)st.auth_bytes_sent,
			    (unsigned long long)st.auth_bytes_recv,
			    (unsigned long long)st.out_dropped);
			return;
		}
	} else if (strcmp(tok, "events") == 0) {
		printf("%u ok%s\n", n, evlog);
		evlen = 0;
		evlog[0] = '\0';
		return;
	} else if (strcmp(tok, "flush") == 0)
		rc = ops->flush(d);
	else if (strcmp(tok, "ikeclose") == 0) {
		/* IKE closes its NAT-T socket (the driver's copy must go). */
		if (ike_fd >= 0)
			close(ike_fd);
		ike_fd = -1;
		rc = 0;
	}
	else if (strcmp(tok, "clear") == 0)
		rc = ops->clear(d);
	else if (strcmp(tok, "settle") == 0)
		rc = ops->settle(d);
	else if (strcmp(tok, "quit") == 0) {
		*quit = true;
		rc = 0;
	}
	if (rc == 0)
		printf("%u ok\n", n);
	else
		printf("%u err %s\n", n, pa_strerror(rc));
}

/* Bad input for the receiver: unknown SPIs, truncated, garbage. */
static int
garbage(const char *dst)
{
	struct pa_addr a;
	struct sockaddr_storage ss;
	socklen_t sl;
	uint8_t b[200];
	int fe, fa, fu, i;
	size_t k;

	if (pa_addr_parse(dst, &a) != 0)
		return 2;
	pa_addr_to_sockaddr(&a, 0, &ss, &sl);
	fe = socket(a.family, SOCK_RAW, IPPROTO_ESP);
	fa = socket(a.family, SOCK_RAW, IPPROTO_AH);
	fu = socket(a.family, SOCK_DGRAM, 0);
	if (fe < 0 || fa < 0 || fu < 0)
		return 1;
	srand(7);
	for (i = 0; i < 100; i++) {
		for (k = 0; k < sizeof(b); k++)
			b[k] = (uint8_t)rand();
		(void)sendto(fe, b, 16 + (size_t)i, 0, (struct sockaddr *)&ss,
		    sl);
		(void)sendto(fe, b, (size_t)i % 8, 0, (struct sockaddr *)&ss,
		    sl);
		(void)sendto(fa, b, 12 + (size_t)i, 0, (struct sockaddr *)&ss,
		    sl);
	}
	pa_addr_to_sockaddr(&a, 4500, &ss, &sl);
	for (i = 0; i < 100; i++) {
		for (k = 0; k < sizeof(b); k++)
			b[k] = (uint8_t)(rand() | 1);
		(void)sendto(fu, b, 1 + (size_t)i, 0, (struct sockaddr *)&ss,
		    sl);
	}
	close(fe);
	close(fa);
	close(fu);
	return 0;
}

/*
 * What the agent's IKE socket does on 4500 with this driver
 * (agent/ike/engine.c, natt_sock_setup): bound, with a classic BPF filter
 * that lets only IKE (a zero non-ESP marker) and NAT-T keepalives in; our
 * raw socket has its copy of the ESP. Not UDP_ENCAP: on a kernel without
 * esp4 that answers each ESP-in-UDP packet with a port unreachable (seen
 * leaving, rate-limited, as uesp_netns counts).
 */
static int
ike_socket(const struct driver_ops *ops, struct driver *d)
{
	static struct sock_filter prog[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 8 + 1, 0, 2),
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 8),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0xff, 3, 4),
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 8 + 4, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 8),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, 0xffff),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog fp = { sizeof(prog) / sizeof(prog[0]), prog };
	struct sockaddr_in sin;
	int fd, encap = UDP_ENCAP_ESPINUDP;
	bool kenc = getenv("UESP_PEER_UDP_ENCAP") != NULL;

	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(4500);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    (kenc ? setsockopt(fd, IPPROTO_UDP, UDP_ENCAP, &encap,
	    sizeof(encap)) : setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fp,
	    sizeof(fp))) != 0 ||
	    ops->socket_bypass(d, fd, AF_INET) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int
main(int argc, char **argv)
{
	const struct driver_ops *ops = drv_lookup("uesp");
	struct driver_events ev = { .acquire = on_acquire, .expire = on_expire,
	    .drop = on_drop };
	struct driver_cfg cfg;
	struct driver *d = NULL;
	struct pollfd pfd[2];
	char line[1024];
	unsigned n = 0;
	bool quit = false;
	int rc;

	if (argc == 3 && strcmp(argv[1], "garbage") == 0)
		return garbage(argv[2]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (getenv("UESP_PEER_DEBUG") != NULL)
		log_init("uesp_peer", PA_LOG_DEBUG);
	memset(&cfg, 0, sizeof(cfg));
	cfg.ifname = argc > 1 ? argv[1] : "ipsec0";
	if (ops == NULL || (rc = ops->open(&cfg, &ev, NULL, &d)) != 0) {
		printf("0 err open: %s\n", ops == NULL ? "no uesp" :
		    pa_strerror(rc));
		return 1;
	}
	if ((ike_fd = ike_socket(ops, d)) < 0) {
		printf("0 err no UDP 4500 socket\n");
		return 1;
	}
	printf("0 ok ready\n");
	pfd[0].fd = 0;
	pfd[0].events = POLLIN;
	pfd[1].fd = ops->event_fd(d);
	pfd[1].events = POLLIN;
	while (!quit) {
		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			break;
		if (pfd[1].revents & POLLIN)
			(void)ops->dispatch(d);
		if (pfd[0].revents & (POLLIN | POLLHUP)) {
			if (fgets(line, sizeof(line), stdin) == NULL)
				break;
			run_line(d, ops, ++n, line, &quit);
		}
	}
	ops->close(d);
	return 0;
}
