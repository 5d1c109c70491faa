/*
 * wa-demo-connect - the smallest client on lib/conn: connect, Noise
 * handshake, a ping iq and its result, an orderly close.
 *
 * usage: wa-demo-connect [--debug] [-d dir] [--presence] [--wait-tag tag]
 *                        [--ping-after-tag] [--stay ms] [--timeout ms]
 *                        [--connect-timeout ms] [--handshake-timeout ms]
 *                        [--iq-timeout ms] [--url url] [--root-key hex]
 *                        [--ca-file file]
 *
 * With -d, logs in with (or, unpaired, registers) the Baileys auth folder's
 * creds.json; without, registers with fresh keys (nothing is written).
 * The server is WhatsApp's unless WA_SERVER_URL / WA_SERVER_ROOT_KEY (or
 * --url / --root-key) say otherwise; then a warning goes to stderr.
 * --ca-file: trust this CA for wss:// (a test server's certificate).
 * --debug prints every node sent and received to stderr.  --presence also
 * sends <presence type="available"/>; --wait-tag waits for a node with that
 * tag from the server (--ping-after-tag: and only then pings); --stay keeps
 * the connection for ms more; --timeout bounds the whole run.
 *
 * Prints "ping ok" and exits 0 when the ping was answered, every wait was
 * met and the close was orderly; else prints the reason and exits 1
 * (2: usage).
 */
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <signal/curve.h>
#include <signal/signal_protocol.h>

#include "base/bufjson.h"
#include "wire/clientpayload.h"
#include "wire/conn.h"
#include "base/err.h"
#include "base/file.h"
#include "wire/node.h"
#include "wire/noise.h"
#include "tool.h"

#define USAGE "wa-demo-connect [--debug] [-d dir] [--presence] [--wait-tag tag] " \
	"[--ping-after-tag] [--stay ms] [--timeout ms] [--connect-timeout ms] " \
	"[--handshake-timeout ms] [--iq-timeout ms] [--url url] [--root-key hex] " \
	"[--ca-file file]"

struct state {
	int debug;
	int presence;
	const char *wait_tag;
	int ping_after_tag;
	int stay_ms;
	int ping_ok;
	int tag_seen;
	int timed_out;
	int close_rc;
	char why[WA_WHY_MAX];
};

static void
logcb(void *arg, enum wa_log_level lv, const char *line)
{
	struct state *st = arg;

	if (lv <= WA_LOG_WARN || st->debug)
		fprintf(stderr, "wa-demo-connect: %s\n", line);
}

static void
stay_over(void *arg, struct wa_conn *c)
{
	(void)arg;
	wa_conn_close(c);
}

static void
maybe_done(struct state *st, struct wa_conn *c)
{
	if (!st->ping_ok || (st->wait_tag && !st->tag_seen))
		return;
	if (st->stay_ms > 0) {
		wa_conn_timer(c, st->stay_ms, stay_over, st);
		st->stay_ms = 0;
		return;
	}
	wa_conn_close(c);
}

static void
on_pong(void *arg, struct wa_conn *c, int rc, const struct wa_node *reply)
{
	struct state *st = arg;
	const char *type = reply ? wa_node_attr(reply, "type") : NULL;

	if (rc < 0) {
		snprintf(st->why, sizeof(st->why), "ping: %s", wa_strerror(rc));
		wa_conn_close(c);
		return;
	}
	if (!type || strcmp(type, "result") != 0) {
		snprintf(st->why, sizeof(st->why), "ping answered with type %s", type ? type : "(none)");
		wa_conn_close(c);
		return;
	}
	st->ping_ok = 1;
	printf("ping ok\n");
	fflush(stdout);
	maybe_done(st, c);
}

static void
send_ping(struct state *st, struct wa_conn *c)
{
	struct wa_node *iq = NULL, *ping = NULL;
	struct wa_why why;

	/* <iq to="@s.whatsapp.net" type="get" xmlns="w:p"><ping/></iq>, as Baileys sends it */
	if (wa_node_make(&iq, "iq", "to", "@s.whatsapp.net", "type", "get", "xmlns", "w:p",
	    (char *)NULL) < 0 || wa_node_new(&ping, "ping") < 0 || wa_node_child_add(iq, ping) < 0 ||
	    wa_conn_iq(c, iq, 0, on_pong, st, &why) < 0) {
		snprintf(st->why, sizeof(st->why), "ping: cannot send");
		wa_conn_close(c);
	}
	wa_node_free(iq);
}

static void
on_open(void *arg, struct wa_conn *c)
{
	struct state *st = arg;
	struct wa_node *pres = NULL;
	struct wa_why why;

	printf("handshake ok\n");
	fflush(stdout);
	if (st->presence) {
		if (wa_node_make(&pres, "presence", "type", "available", (char *)NULL) < 0 ||
		    wa_conn_send(c, pres, &why) < 0)
			snprintf(st->why, sizeof(st->why), "presence: cannot send");
		wa_node_free(pres);
	}
	if (!st->ping_after_tag)
		send_ping(st, c);
}

static int
on_node(void *arg, struct wa_conn *c, const struct wa_node *n)
{
	struct state *st = arg;

	if (st->wait_tag && !st->tag_seen && strcmp(n->tag, st->wait_tag) == 0) {
		st->tag_seen = 1;
		printf("got <%s>\n", n->tag);
		fflush(stdout);
		if (st->ping_after_tag)
			send_ping(st, c);
		else
			maybe_done(st, c);
	}
	return 0;
}

static void
on_close(void *arg, struct wa_conn *c, int rc, const char *why)
{
	struct state *st = arg;

	(void)c;
	st->close_rc = rc;
	if (rc < 0 && !st->why[0])
		snprintf(st->why, sizeof(st->why), "%s", why);
}

static void
overall_timeout(void *arg, struct wa_conn *c)
{
	struct state *st = arg;

	st->timed_out = 1;
	if (!st->why[0])
		snprintf(st->why, sizeof(st->why), "timed out");
	wa_conn_close(c);
}

/* --- keys --------------------------------------------------------------- */

static int
rand_cb(uint8_t *data, size_t len, void *u)
{
	(void)u;
	return RAND_bytes(data, (int)len) == 1 ? 0 : SG_ERR_UNKNOWN;
}

static int
hmac_init_cb(void **ctx, const uint8_t *key, size_t n, void *u)
{
	(void)ctx; (void)key; (void)n; (void)u;
	return SG_ERR_UNKNOWN; /* not needed for signing */
}

static int
hmac_update_cb(void *ctx, const uint8_t *d, size_t n, void *u)
{
	(void)ctx; (void)d; (void)n; (void)u;
	return SG_ERR_UNKNOWN;
}

static int
hmac_final_cb(void *ctx, signal_buffer **out, void *u)
{
	(void)ctx; (void)out; (void)u;
	return SG_ERR_UNKNOWN;
}

static void
hmac_cleanup_cb(void *ctx, void *u)
{
	(void)ctx; (void)u;
}

/* XEdDSA signature of msg by priv, with libsignal-protocol-c. */
static int
xeddsa_sign(unsigned char sig[64], const unsigned char priv[32], const unsigned char *msg, size_t len)
{
	signal_crypto_provider p;
	signal_context *sc = NULL;
	ec_private_key *k = NULL;
	signal_buffer *b = NULL;
	int rc = -1;

	memset(&p, 0, sizeof(p));
	p.random_func = rand_cb;
	p.hmac_sha256_init_func = hmac_init_cb;
	p.hmac_sha256_update_func = hmac_update_cb;
	p.hmac_sha256_final_func = hmac_final_cb;
	p.hmac_sha256_cleanup_func = hmac_cleanup_cb;
	if (signal_context_create(&sc, NULL) == 0 && signal_context_set_crypto_provider(sc, &p) == 0 &&
	    curve_decode_private_point(&k, priv, 32, sc) == 0 &&
	    curve_calculate_signature(sc, &b, k, msg, len) == 0 && signal_buffer_len(b) == 64) {
		memcpy(sig, signal_buffer_data(b), 64);
		rc = 0;
	}
	signal_buffer_free(b);
	SIGNAL_UNREF(k);
	signal_context_destroy(sc);
	return rc;
}

static int
fresh_registration(struct wa_keypair *noise, struct wa_registration *reg)
{
	struct wa_keypair ident, spk;
	unsigned char msg[33];
	uint16_t rid;

	if (wa_curve_keypair(noise) < 0 || wa_curve_keypair(&ident) < 0 || wa_curve_keypair(&spk) < 0)
		return -1;
	memset(reg, 0, sizeof(*reg));
	RAND_bytes((unsigned char *)&rid, sizeof(rid));
	reg->registration_id = rid & 0x3fff;
	memcpy(reg->identity_pub, ident.pub, 32);
	reg->signed_prekey_id = 1;
	memcpy(reg->signed_prekey_pub, spk.pub, 32);
	msg[0] = 5;
	memcpy(msg + 1, spk.pub, 32);
	if (xeddsa_sign(reg->signed_prekey_sig, ident.priv, msg, sizeof(msg)) < 0)
		return -1;
	wa_curve_keypair_wipe(&ident);
	wa_curve_keypair_wipe(&spk);
	return 0;
}

static int
buf32(unsigned char out[32], const json_t *v)
{
	uint8_t *b = NULL;
	size_t n = 0;
	int ok = wa_bufjson_decode(&b, &n, v) == 0 && n == 32;

	if (ok)
		memcpy(out, b, 32);
	if (b) {
		OPENSSL_cleanse(b, n);
		free(b);
	}
	return ok ? 0 : -1;
}

/* Payload and noise key from DIR/creds.json: login when me.id is there. */
static int
from_folder(const char *dir, const struct wa_client_config *cfg, struct wa_keypair *noise,
    unsigned char **payload, size_t *len, char *err, size_t errlen)
{
	json_t *creds = NULL, *nk, *me, *spk;
	struct wa_why why;
	int fd, rc = -1;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open '%s'", dir);
		return -1;
	}
	if (wa_json_read(&creds, fd, "creds.json", dir, &why) < 0) {
		snprintf(err, errlen, "%s", why.text);
		close(fd);
		return -1;
	}
	close(fd);
	nk = json_object_get(creds, "noiseKey");
	if (buf32(noise->priv, json_object_get(nk, "private")) < 0 ||
	    buf32(noise->pub, json_object_get(nk, "public")) < 0) {
		snprintf(err, errlen, "'%s/creds.json': no usable noiseKey", dir);
		goto out;
	}
	me = json_object_get(json_object_get(creds, "me"), "id");
	if (json_is_string(me)) {
		if (wa_clientpayload_login(payload, len, cfg, json_string_value(me), &why) < 0) {
			snprintf(err, errlen, "%s", why.text);
			goto out;
		}
	} else {
		struct wa_registration reg;
		memset(&reg, 0, sizeof(reg));
		spk = json_object_get(creds, "signedPreKey");
		reg.registration_id = (uint32_t)json_integer_value(json_object_get(creds, "registrationId"));
		reg.signed_prekey_id = (uint32_t)json_integer_value(json_object_get(spk, "keyId"));
		uint8_t *sig = NULL;
		size_t siglen = 0;
		if (buf32(reg.identity_pub, json_object_get(json_object_get(creds, "signedIdentityKey"), "public")) < 0 ||
		    buf32(reg.signed_prekey_pub, json_object_get(json_object_get(spk, "keyPair"), "public")) < 0 ||
		    wa_bufjson_decode(&sig, &siglen, json_object_get(spk, "signature")) < 0 || siglen != 64) {
			free(sig);
			snprintf(err, errlen, "'%s/creds.json': no usable registration keys", dir);
			goto out;
		}
		memcpy(reg.signed_prekey_sig, sig, 64);
		free(sig);
		if (wa_clientpayload_register(payload, len, cfg, &reg, &why) < 0) {
			snprintf(err, errlen, "%s", why.text);
			goto out;
		}
	}
	rc = 0;
out:
	json_decref(creds);
	return rc;
}

static unsigned char root_override[32];

static int
hex32(unsigned char out[32], const char *s)
{
	int i;

	if (strlen(s) != 64)
		return -1;
	for (i = 0; i < 32; i++) {
		unsigned v;
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (unsigned char)v;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "debug", no_argument, NULL, 'D' },
		{ "presence", no_argument, NULL, 'P' },
		{ "wait-tag", required_argument, NULL, 'w' },
		{ "ping-after-tag", no_argument, NULL, 'A' },
		{ "stay", required_argument, NULL, 's' },
		{ "connect-timeout", required_argument, NULL, 'C' },
		{ "handshake-timeout", required_argument, NULL, 'H' },
		{ "iq-timeout", required_argument, NULL, 'I' },
		{ "timeout", required_argument, NULL, 't' },
		{ "url", required_argument, NULL, 'u' },
		{ "root-key", required_argument, NULL, 'r' },
		{ "ca-file", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct state st;
	struct wa_conn_opts o;
	struct wa_client_config cfg;
	struct wa_keypair noise;
	struct wa_conn *c = NULL;
	struct wa_why why;
	const char *dir = NULL;
	unsigned char *payload = NULL;
	size_t plen = 0;
	int ch, timeout = 30000, rc;
	char err[WA_WHY_MAX];

	memset(&st, 0, sizeof(st));
	memset(&o, 0, sizeof(o));
	tool_server_opts(&o);	/* --url and --root-key override it */
	while ((ch = getopt_long(argc, argv, "d:h", lo, NULL)) != -1) {
		switch (ch) {
		case 'D': st.debug = 1; break;
		case 'P': st.presence = 1; break;
		case 'w': st.wait_tag = optarg; break;
		case 'A': st.ping_after_tag = 1; break;
		case 's': st.stay_ms = atoi(optarg); break;
		case 'C': o.connect_timeout_ms = atoi(optarg); break;
		case 'H': o.handshake_timeout_ms = atoi(optarg); break;
		case 'I': o.iq_timeout_ms = atoi(optarg); break;
		case 't': timeout = atoi(optarg); break;
		case 'u': o.url = optarg; o.url_from = NULL; break;
		case 'r':
			if (hex32(root_override, optarg) < 0) {
				fprintf(stderr, "wa-demo-connect: --root-key wants 64 hex digits\n");
				return 2;
			}
			o.root_key = root_override;
			o.root_from = NULL;
			break;
		case 'c': o.ca_file = optarg; break;
		case 'd': dir = optarg; break;
		case 'h': printf("usage: %s\n", USAGE); return 0;
		default: fprintf(stderr, "usage: %s\n", USAGE); return 2;
		}
	}
	if (optind != argc || (st.ping_after_tag && !st.wait_tag)) {
		fprintf(stderr, "usage: %s\n", USAGE);
		return 2;
	}

	wa_client_config_default(&cfg);
	if (dir) {
		if (from_folder(dir, &cfg, &noise, &payload, &plen, err, sizeof(err)) < 0) {
			fprintf(stderr, "wa-demo-connect: %s\n", err);
			return 1;
		}
	} else {
		struct wa_registration reg;
		if (fresh_registration(&noise, &reg) < 0 ||
		    wa_clientpayload_register(&payload, &plen, &cfg, &reg, &why) < 0) {
			fprintf(stderr, "wa-demo-connect: cannot make keys\n");
			return 1;
		}
	}

	o.debug = st.debug;
	o.log = logcb;
	o.on_open = on_open;
	o.on_node = on_node;
	o.on_close = on_close;
	o.arg = &st;
	rc = wa_conn_open(&c, &o, &noise, payload, plen, &why);
	wa_curve_keypair_wipe(&noise);
	free(payload);
	if (rc < 0) {
		fprintf(stderr, "wa-demo-connect: %s\n", why.text);
		return 1;
	}
	wa_conn_timer(c, timeout, overall_timeout, &st);
	while (wa_conn_state(c) != WA_CONN_CLOSED) {
		struct pollfd fds[WA_CONN_MAXFDS];
		int t, n = wa_conn_pollfds(c, fds, WA_CONN_MAXFDS, &t);
		if (poll(fds, (nfds_t)n, t) < 0)
			break;
		wa_conn_process(c, &why);
	}
	wa_conn_free(c);
	if (st.ping_ok && (!st.wait_tag || st.tag_seen) && !st.timed_out && st.close_rc == 0 && !st.why[0])
		return 0;
	fprintf(stderr, "wa-demo-connect: error: %s\n", st.why[0] ? st.why : "connection failed");
	return 1;
}
