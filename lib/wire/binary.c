/*
 * binary.c - the WABinary encoder and decoder.
 *
 * A node is a list: size N, the tag, N-1 >> 1 key/value pairs, and the
 * content when N is even.  Lists are 00 (empty), F8 n, or F9 nn nn.
 * Strings are a single-byte token (01..EB), a dictionary token (EC..EF +
 * index), a packed string (FF nibbles "0-9-.", FB hex "0-9A-F": a header
 * byte with the odd-length flag in bit 7 and the byte count in bits 0..6),
 * raw bytes (FC len8, FD len20, FE len32), or a JID (FA user server;
 * F7 domain-type device user; F6 user device16 server; F5 user device16
 * integrator16 [server]).  Content is a list of nodes, raw bytes
 * (BINARY_*), or any other string.
 *
 * The decoder reads with one cursor that never passes the end: every
 * length is compared with what is left before it is used, and every
 * allocation is charged to a budget (WA_BINARY_MAX_ALLOC) first, so the
 * memory a tree takes is bounded whatever the input claims.  Recursion is
 * bounded by WA_BINARY_MAX_DEPTH (nodes) and WA_BINARY_MAX_JID_DEPTH (JID
 * parts that are themselves JIDs).
 *
 * The encoder mirrors Baileys' choices (see binary.h) and writes a JID
 * only in the shapes whose decoding gives back the very same string, so
 * decode(encode(t)) == t for every tree the decoder can produce, up to
 * string content turning into byte content.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "wire/binary.h"
#include "wire/tokens.h"

enum {
	T_LIST_EMPTY = 0,
	T_DICT0 = 236,
	T_DICT3 = 239,
	T_INTEROP_JID = 245,
	T_FB_JID = 246,
	T_AD_JID = 247,
	T_LIST_8 = 248,
	T_LIST_16 = 249,
	T_JID_PAIR = 250,
	T_HEX_8 = 251,
	T_BINARY_8 = 252,
	T_BINARY_20 = 253,
	T_BINARY_32 = 254,
	T_NIBBLE_8 = 255,
	PACKED_MAX = 127,
};

#define ALLOC_OVERHEAD 32 /* charged per allocation besides its size */

/* ---- decoder ---- */

struct dec {
	const unsigned char *p;
	size_t len, pos;
	size_t used;
	struct wa_why *why;
};

static int
bad(struct dec *d, const char *what)
{
	wa_why_set(d->why, WA_ECORRUPT, "%s at byte %zu", what, d->pos);
	return WA_ECORRUPT;
}

static void *
dalloc(struct dec *d, size_t n, int *rc)
{
	void *p;

	if (n > WA_BINARY_MAX_ALLOC || WA_BINARY_MAX_ALLOC - n < d->used + ALLOC_OVERHEAD) {
		*rc = wa_why_set(d->why, WA_ETOOBIG, "decoded tree over %zu bytes at byte %zu",
		    (size_t)WA_BINARY_MAX_ALLOC, d->pos);
		return NULL;
	}
	d->used += n + ALLOC_OVERHEAD;
	if (!(p = malloc(n ? n : 1)))
		*rc = wa_why_set(d->why, WA_ENOMEM, "out of memory at byte %zu", d->pos);
	return p;
}

static int
get8(struct dec *d, unsigned *v)
{
	if (d->pos >= d->len)
		return bad(d, "unexpected end");
	*v = d->p[d->pos++];
	return 0;
}

static int
getn(struct dec *d, size_t n, size_t *v)
{
	size_t i, x = 0;

	if (d->len - d->pos < n)
		return bad(d, "unexpected end");
	for (i = 0; i < n; i++)
		x = x << 8 | d->p[d->pos++];
	*v = x;
	return 0;
}

/* A string under construction: s[0..n), NUL-terminated, charged. */
struct str {
	char *s;
	size_t n;
};

static int
str_make(struct dec *d, struct str *out, const void *p, size_t n)
{
	int rc = 0;

	if (n == SIZE_MAX || !(out->s = dalloc(d, n + 1, &rc)))
		return rc ? rc : WA_ETOOBIG;
	if (n)
		memcpy(out->s, p, n);
	out->s[n] = 0;
	out->n = n;
	return 0;
}

static int read_string(struct dec *d, unsigned tag, int jdepth, struct str *out);

static int
read_tagged(struct dec *d, int jdepth, struct str *out)
{
	unsigned tag = 0;
	int rc;

	out->s = NULL;
	out->n = 0;
	if ((rc = get8(d, &tag)) < 0)
		return rc;
	return read_string(d, tag, jdepth, out);
}

static int
read_raw(struct dec *d, size_t n, struct str *out)
{
	if (d->len - d->pos < n)
		return bad(d, "string longer than the input");
	if (memchr(d->p + d->pos, 0, n))
		return bad(d, "NUL byte in a string");
	d->pos += n;
	return str_make(d, out, d->p + d->pos - n, n);
}

static int
read_packed(struct dec *d, unsigned tag, struct str *out)
{
	static const char nib[16] = "0123456789-.\0\0\0\0";
	static const char hex[16] = "0123456789ABCDEF";
	unsigned hdr = 0;
	size_t nb, n, i;
	int rc = 0;

	if ((rc = get8(d, &hdr)) < 0)
		return rc;
	nb = hdr & 127;
	if (d->len - d->pos < nb)
		return bad(d, "packed string longer than the input");
	n = 2 * nb;
	if ((hdr & 128) && n)
		n--;
	if (!(out->s = dalloc(d, n + 1, &rc)))
		return rc;
	for (i = 0; i < 2 * nb; i++) {
		unsigned v = d->p[d->pos + i / 2];
		char c;

		v = i % 2 ? v & 15 : v >> 4;
		if (tag == T_NIBBLE_8) {
			if (v >= 12 && v <= 14) {
				d->pos += i / 2;
				free(out->s);
				out->s = NULL;
				return bad(d, "invalid nibble");
			}
			c = nib[v];
		} else {
			c = hex[v];
		}
		if (i < n) {
			if (!c) {
				d->pos += i / 2;
				free(out->s);
				out->s = NULL;
				return bad(d, "NUL in a packed string");
			}
			out->s[i] = c;
		}
	}
	d->pos += nb;
	out->s[n] = 0;
	out->n = n;
	return 0;
}

/* out = a ‖ b ‖ c ‖ e (any may be empty) */
static int
str_cat(struct dec *d, struct str *out, const char *a, size_t na, const char *b, size_t nb,
    const char *c, size_t nc, const char *e, size_t ne)
{
	size_t n = na + nb + nc + ne;
	int rc = 0;

	if (!(out->s = dalloc(d, n + 1, &rc)))
		return rc;
	memcpy(out->s, a, na);
	memcpy(out->s + na, b, nb);
	memcpy(out->s + na + nb, c, nc);
	memcpy(out->s + na + nb + nc, e, ne);
	out->s[n] = 0;
	out->n = n;
	return 0;
}

static int
read_jid(struct dec *d, unsigned tag, int jdepth, struct str *out)
{
	struct str user = { 0 }, server = { 0 };
	char num[32];
	size_t dev = 0, integ = 0, mark;
	unsigned dt = 0, dv = 0;
	const char *srv;
	int rc, n;

	if (jdepth >= WA_BINARY_MAX_JID_DEPTH)
		return wa_why_set(d->why, WA_ETOOBIG, "JIDs nested deeper than %d at byte %zu",
		    WA_BINARY_MAX_JID_DEPTH, d->pos);
	switch (tag) {
	case T_JID_PAIR:
		if ((rc = read_tagged(d, jdepth + 1, &user)) < 0 ||
		    (rc = read_tagged(d, jdepth + 1, &server)) < 0)
			break;
		if (!server.n) {
			rc = bad(d, "JID with an empty server");
			break;
		}
		rc = str_cat(d, out, user.s, user.n, "@", 1, server.s, server.n, "", 0);
		break;
	case T_AD_JID:
		if ((rc = get8(d, &dt)) < 0 || (rc = get8(d, &dv)) < 0 ||
		    (rc = read_tagged(d, jdepth + 1, &user)) < 0)
			break;
		srv = dt == 1 ? "lid" : dt == 128 ? "hosted" : dt == 129 ? "hosted.lid" : "s.whatsapp.net";
		n = dv ? snprintf(num, sizeof num, ":%u@", dv) : snprintf(num, sizeof num, "@");
		rc = str_cat(d, out, user.s, user.n, num, (size_t)n, srv, strlen(srv), "", 0);
		break;
	case T_FB_JID:
		if ((rc = read_tagged(d, jdepth + 1, &user)) < 0 || (rc = getn(d, 2, &dev)) < 0 ||
		    (rc = read_tagged(d, jdepth + 1, &server)) < 0)
			break;
		n = snprintf(num, sizeof num, ":%zu@", dev);
		rc = str_cat(d, out, user.s, user.n, num, (size_t)n, server.s, server.n, "", 0);
		break;
	case T_INTEROP_JID:
		if ((rc = read_tagged(d, jdepth + 1, &user)) < 0 || (rc = getn(d, 2, &dev)) < 0 ||
		    (rc = getn(d, 2, &integ)) < 0)
			break;
		/* Baileys: the server is optional; on any failure to read one,
		 * rewind and use "interop" */
		mark = d->pos;
		if ((rc = read_tagged(d, jdepth + 1, &server)) == WA_ECORRUPT) {
			d->pos = mark;
			rc = str_make(d, &server, "interop", 7);
		}
		if (rc < 0)
			break;
		{
			char pre[16];
			int np = snprintf(pre, sizeof pre, "%zu-", integ);

			n = snprintf(num, sizeof num, ":%zu@", dev);
			rc = str_cat(d, out, pre, (size_t)np, user.s, user.n, num, (size_t)n,
			    server.s, server.n);
		}
		break;
	default:
		rc = bad(d, "not a JID");
	}
	free(user.s);
	free(server.s);
	return rc;
}

static int
read_string(struct dec *d, unsigned tag, int jdepth, struct str *out)
{
	unsigned idx = 0;
	size_t n = 0;
	const char *t;
	int rc;

	out->s = NULL;
	out->n = 0;
	if (tag >= 1 && tag < WA_TOKENS_NSINGLE) {
		t = wa_tokens_single[tag];
		return str_make(d, out, t, strlen(t));
	}
	switch (tag) {
	case T_LIST_EMPTY:
		return str_make(d, out, "", 0);
	case T_DICT0: case T_DICT0 + 1: case T_DICT0 + 2: case T_DICT3:
		if ((rc = get8(d, &idx)) < 0)
			return rc;
		t = wa_tokens_double[tag - T_DICT0][idx];
		return str_make(d, out, t, strlen(t));
	case T_BINARY_8:
		if ((rc = getn(d, 1, &n)) < 0)
			return rc;
		return read_raw(d, n, out);
	case T_BINARY_20:
		if ((rc = getn(d, 3, &n)) < 0)
			return rc;
		return read_raw(d, n & 0xfffff, out);
	case T_BINARY_32:
		if ((rc = getn(d, 4, &n)) < 0)
			return rc;
		return read_raw(d, n, out);
	case T_NIBBLE_8:
	case T_HEX_8:
		return read_packed(d, tag, out);
	case T_JID_PAIR:
	case T_AD_JID:
	case T_FB_JID:
	case T_INTEROP_JID:
		return read_jid(d, tag, jdepth, out);
	}
	d->pos--;
	return bad(d, "invalid string tag");
}

static int
read_list_size(struct dec *d, unsigned tag, size_t *n)
{
	switch (tag) {
	case T_LIST_EMPTY:
		*n = 0;
		return 0;
	case T_LIST_8:
		return getn(d, 1, n);
	case T_LIST_16:
		return getn(d, 2, n);
	}
	d->pos--;
	return bad(d, "not a list");
}

struct keypos {
	const char *key;
	size_t pos;
};

static int
keypos_cmp(const void *a, const void *b)
{
	const struct keypos *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	return c ? c : (x->pos > y->pos) - (x->pos < y->pos);
}

/* A repeated key keeps its first place and takes its last value. */
static int
dedupe_attrs(struct dec *d, struct wa_node *n)
{
	struct keypos *kp;
	size_t i, j, w;
	int rc = 0, any = 0;

	if (n->nattrs < 2)
		return 0;
	if (n->nattrs <= 8) {
		for (i = 1; i < n->nattrs && !any; i++)
			for (j = 0; j < i; j++)
				if (strcmp(n->attrs[i].key, n->attrs[j].key) == 0)
					any = 1;
		if (!any)
			return 0;
	}
	if (!(kp = dalloc(d, n->nattrs * sizeof *kp, &rc)))
		return rc;
	for (i = 0; i < n->nattrs; i++) {
		kp[i].key = n->attrs[i].key;
		kp[i].pos = i;
	}
	qsort(kp, n->nattrs, sizeof *kp, keypos_cmp);
	for (i = 0; i < n->nattrs; i = j) {
		for (j = i + 1; j < n->nattrs && strcmp(kp[i].key, kp[j].key) == 0; j++)
			;
		if (j - i > 1) {
			struct wa_attr *first = &n->attrs[kp[i].pos], *last = &n->attrs[kp[j - 1].pos];
			size_t k;

			free(first->value);
			first->value = last->value;
			last->value = NULL;
			for (k = i + 1; k < j; k++) {
				struct wa_attr *a = &n->attrs[kp[k].pos];

				free(a->key);
				free(a->value);
				a->key = a->value = NULL;
			}
		}
	}
	free(kp);
	for (i = w = 0; i < n->nattrs; i++)
		if (n->attrs[i].key)
			n->attrs[w++] = n->attrs[i];
	n->nattrs = w;
	return 0;
}

static int
read_node(struct dec *d, int depth, struct wa_node **out)
{
	struct wa_node *n;
	struct str tag, k, v;
	size_t size = 0, na, i, m = 0;
	unsigned b = 0;
	int rc = 0;

	*out = NULL;
	if (depth > WA_BINARY_MAX_DEPTH)
		return wa_why_set(d->why, WA_ETOOBIG, "nodes nested deeper than %d at byte %zu",
		    WA_BINARY_MAX_DEPTH, d->pos);
	if ((rc = get8(d, &b)) < 0 || (rc = read_list_size(d, b, &size)) < 0)
		return rc;
	if (size == 0)
		return bad(d, "node of size 0");
	if ((rc = read_tagged(d, 0, &tag)) < 0)
		return rc;
	if (!tag.n) {
		free(tag.s);
		return bad(d, "node with an empty tag");
	}
	if (!(n = dalloc(d, sizeof *n, &rc))) {
		free(tag.s);
		return rc;
	}
	memset(n, 0, sizeof *n);
	n->tag = tag.s;
	na = (size - 1) >> 1;
	if (na) {
		if (na > (d->len - d->pos) / 2) {
			rc = bad(d, "more attributes than input");
			goto fail;
		}
		if (!(n->attrs = dalloc(d, na * sizeof *n->attrs, &rc)))
			goto fail;
		n->attrcap_ = na;
		for (i = 0; i < na; i++) {
			if ((rc = read_tagged(d, 0, &k)) < 0)
				goto fail;
			if ((rc = read_tagged(d, 0, &v)) < 0) {
				free(k.s);
				goto fail;
			}
			n->attrs[i].key = k.s;
			n->attrs[i].value = v.s;
			n->nattrs++;
		}
		if ((rc = dedupe_attrs(d, n)) < 0)
			goto fail;
	}
	if (size % 2)
		goto done;
	if ((rc = get8(d, &b)) < 0)
		goto fail;
	switch (b) {
	case T_LIST_EMPTY:
	case T_LIST_8:
	case T_LIST_16:
		if ((rc = read_list_size(d, b, &m)) < 0)
			goto fail;
		n->content = WA_CONTENT_LIST;
		if (!m)
			break;
		if (m > (d->len - d->pos) / 3) {
			rc = bad(d, "more children than input");
			goto fail;
		}
		if (!(n->children = dalloc(d, m * sizeof *n->children, &rc)))
			goto fail;
		n->childcap_ = m;
		for (i = 0; i < m; i++) {
			if ((rc = read_node(d, depth + 1, &n->children[i])) < 0)
				goto fail;
			n->nchildren++;
		}
		break;
	case T_BINARY_8:
	case T_BINARY_20:
	case T_BINARY_32:
		if ((rc = getn(d, b == T_BINARY_8 ? 1 : b == T_BINARY_20 ? 3 : 4, &m)) < 0)
			goto fail;
		if (b == T_BINARY_20)
			m &= 0xfffff;
		if (d->len - d->pos < m) {
			rc = bad(d, "content longer than the input");
			goto fail;
		}
		if (!(n->data = dalloc(d, m + 1, &rc)))
			goto fail;
		if (m)
			memcpy(n->data, d->p + d->pos, m);
		n->data[m] = 0;
		n->len = m;
		n->content = WA_CONTENT_BYTES;
		d->pos += m;
		break;
	default:
		if ((rc = read_string(d, b, 0, &v)) < 0)
			goto fail;
		n->data = (unsigned char *)v.s;
		n->len = v.n;
		n->content = WA_CONTENT_STRING;
	}
done:
	*out = n;
	return 0;
fail:
	wa_node_free(n);
	return rc;
}

int
wa_binary_decode(struct wa_node **out, const void *buf, size_t len, struct wa_why *why)
{
	struct dec d = { .p = buf, .len = len, .why = why };
	struct wa_node *n;
	int rc;

	*out = NULL;
	if (why)
		why->text[0] = 0;
	if ((rc = read_node(&d, 1, &n)) < 0)
		return wa_why_default(why, rc);
	if (d.pos != d.len) {
		wa_node_free(n);
		return wa_why_set(why, WA_ECORRUPT, "%zu bytes left over after the node at byte %zu",
		    d.len - d.pos, d.pos);
	}
	*out = n;
	return 0;
}

/* ---- encoder ---- */

struct enc {
	unsigned char *p;
	size_t len, cap;
	int err;
	struct wa_why *why;
};

static void
put(struct enc *e, const void *s, size_t n)
{
	if (e->err)
		return;
	if (n > e->cap - e->len) {
		size_t cap = e->cap ? e->cap : 256;
		unsigned char *p;

		while (cap - e->len < n) {
			if (cap > SIZE_MAX / 2) {
				e->err = WA_ENOMEM;
				return;
			}
			cap *= 2;
		}
		if (!(p = realloc(e->p, cap))) {
			e->err = WA_ENOMEM;
			return;
		}
		e->p = p;
		e->cap = cap;
	}
	if (n)
		memcpy(e->p + e->len, s, n);
	e->len += n;
}

static void
put8(struct enc *e, unsigned v)
{
	unsigned char c = (unsigned char)v;

	put(e, &c, 1);
}

static void
put_byte_length(struct enc *e, size_t n)
{
	unsigned char b[5];

	if (n >= (size_t)1 << 20) {
		if ((uint64_t)n > 0xffffffffu) {
			if (!e->err)
				e->err = wa_why_set(e->why, WA_ETOOBIG, "%zu bytes: over the 2^32-1 a length can say", n);
			return;
		}
		b[0] = T_BINARY_32;
		b[1] = (unsigned char)(n >> 24);
		b[2] = (unsigned char)(n >> 16);
		b[3] = (unsigned char)(n >> 8);
		b[4] = (unsigned char)n;
		put(e, b, 5);
	} else if (n >= 256) {
		b[0] = T_BINARY_20;
		b[1] = (unsigned char)(n >> 16 & 0x0f);
		b[2] = (unsigned char)(n >> 8);
		b[3] = (unsigned char)n;
		put(e, b, 4);
	} else {
		b[0] = T_BINARY_8;
		b[1] = (unsigned char)n;
		put(e, b, 2);
	}
}

static int
nibble_val(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	return c == '-' ? 10 : c == '.' ? 11 : -1;
}

static int
hex_val(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	return c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* 1 if every byte of s packs with val (and n fits), else 0 */
static int
packable(const char *s, size_t n, int (*val)(unsigned char))
{
	size_t i;

	if (n > PACKED_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (val((unsigned char)s[i]) < 0)
			return 0;
	return 1;
}

static void
put_packed(struct enc *e, unsigned tag, const char *s, size_t n, int (*val)(unsigned char))
{
	size_t i;

	put8(e, tag);
	put8(e, (unsigned)((n + 1) / 2) | (n % 2 ? 128u : 0u));
	for (i = 0; i + 1 < n; i += 2)
		put8(e, (unsigned)(val((unsigned char)s[i]) << 4 | val((unsigned char)s[i + 1])));
	if (n % 2)
		put8(e, (unsigned)(val((unsigned char)s[n - 1]) << 4 | 15));
}

static void write_string(struct enc *e, const char *s, size_t n, int jdepth);

static int
eq(const char *s, size_t n, const char *lit)
{
	return strlen(lit) == n && memcmp(s, lit, n) == 0;
}

/* How Baileys' jidDecode + writeJid would write s, when that reads back
 * as s: 1 JID_PAIR, 2 AD_JID (*dt, *dev set); 0 when s is to go raw.  A
 * server part holding '@' is a JID again and must read back too. */
static int
jid_form(const char *s, size_t n, int jdepth, unsigned *dt, unsigned *dev)
{
	const char *at = memchr(s, '@', n), *colon, *server;
	size_t ulen, slen, i;
	unsigned d = 0, t2, d2;

	if (!at)
		return 0;
	ulen = (size_t)(at - s);
	server = at + 1;
	slen = n - ulen - 1;
	if (memchr(s, '_', ulen))
		return 0; /* the agent part would be lost */
	colon = memchr(s, ':', ulen);
	if (!colon) {
		if (!slen)
			return 0; /* "user@" does not decode */
		if (memchr(server, '@', slen) && jdepth + 1 < WA_BINARY_MAX_JID_DEPTH &&
		    !jid_form(server, slen, jdepth + 1, &t2, &d2))
			return 0;
		return 1;
	}
	/* user:device@server: the device must read back the same (1..255,
	 * no leading zero), the server be one a domain type names */
	if (colon + 1 == at || colon[1] == '0' || at - colon - 1 > 3)
		return 0;
	for (i = 1; colon + i < at; i++) {
		if (colon[i] < '0' || colon[i] > '9')
			return 0;
		d = d * 10 + (unsigned)(colon[i] - '0');
	}
	if (d > 255)
		return 0;
	if (eq(server, slen, "s.whatsapp.net"))
		*dt = 0;
	else if (eq(server, slen, "lid"))
		*dt = 1;
	else if (eq(server, slen, "hosted"))
		*dt = 128;
	else if (eq(server, slen, "hosted.lid"))
		*dt = 129;
	else
		return 0;
	*dev = d;
	return 2;
}

static void
write_jid(struct enc *e, int form, const char *s, size_t n, int jdepth, unsigned dt,
    unsigned dev)
{
	const char *at = memchr(s, '@', n);
	size_t ulen = (size_t)(at - s);

	if (form == 2) {
		put8(e, T_AD_JID);
		put8(e, dt);
		put8(e, dev);
		write_string(e, s, (size_t)((const char *)memchr(s, ':', ulen) - s), jdepth + 1);
		return;
	}
	put8(e, T_JID_PAIR);
	if (ulen)
		write_string(e, s, ulen, jdepth + 1);
	else
		put8(e, T_LIST_EMPTY);
	write_string(e, at + 1, n - ulen - 1, jdepth + 1);
}

static void
write_string(struct enc *e, const char *s, size_t n, int jdepth)
{
	unsigned dict, idx, dt = 0, dev = 0;
	int form;

	if (n == 0) {
		put_byte_length(e, 0);
		return;
	}
	if (wa_tokens_find(&dict, &idx, s, n) == 0) {
		if (dict != WA_TOKENS_SINGLE)
			put8(e, T_DICT0 + dict);
		put8(e, idx);
		return;
	}
	if (packable(s, n, nibble_val)) {
		put_packed(e, T_NIBBLE_8, s, n, nibble_val);
		return;
	}
	if (packable(s, n, hex_val)) {
		put_packed(e, T_HEX_8, s, n, hex_val);
		return;
	}
	if (jdepth < WA_BINARY_MAX_JID_DEPTH && (form = jid_form(s, n, jdepth, &dt, &dev))) {
		write_jid(e, form, s, n, jdepth, dt, dev);
		return;
	}
	put_byte_length(e, n);
	put(e, s, n);
}

static void
put_list_start(struct enc *e, size_t n)
{
	if (n == 0) {
		put8(e, T_LIST_EMPTY);
	} else if (n < 256) {
		put8(e, T_LIST_8);
		put8(e, (unsigned)n);
	} else {
		put8(e, T_LIST_16);
		put8(e, (unsigned)(n >> 8));
		put8(e, (unsigned)(n & 0xff));
	}
}

static void
write_node(struct enc *e, const struct wa_node *n, int depth)
{
	size_t size, i;

	if (e->err)
		return;
	if (depth > WA_BINARY_MAX_DEPTH) {
		e->err = wa_why_set(e->why, WA_ETOOBIG, "nodes nested deeper than %d",
		    WA_BINARY_MAX_DEPTH);
		return;
	}
	if (!n->tag || !*n->tag) {
		e->err = wa_why_set(e->why, WA_EINVAL, "node with an empty tag");
		return;
	}
	if (n->nattrs > (65535 - 2) / 2) {
		e->err = wa_why_set(e->why, WA_ETOOBIG, "<%s>: %zu attributes, at most 32766",
		    n->tag, n->nattrs);
		return;
	}
	size = 1 + 2 * n->nattrs + (n->content != WA_CONTENT_NONE);
	put_list_start(e, size);
	write_string(e, n->tag, strlen(n->tag), 0);
	for (i = 0; i < n->nattrs; i++) {
		write_string(e, n->attrs[i].key, strlen(n->attrs[i].key), 0);
		write_string(e, n->attrs[i].value, strlen(n->attrs[i].value), 0);
	}
	switch (n->content) {
	case WA_CONTENT_NONE:
		break;
	case WA_CONTENT_LIST:
		if (n->nchildren > 65535) {
			e->err = wa_why_set(e->why, WA_ETOOBIG, "<%s>: %zu children, at most 65535",
			    n->tag, n->nchildren);
			return;
		}
		put_list_start(e, n->nchildren);
		for (i = 0; i < n->nchildren; i++)
			write_node(e, n->children[i], depth + 1);
		break;
	case WA_CONTENT_BYTES:
		put_byte_length(e, n->len);
		put(e, n->data, n->len);
		break;
	case WA_CONTENT_STRING:
		write_string(e, (const char *)n->data, n->len, 0);
		break;
	}
}

static int
encode(unsigned char **out, size_t *outlen, const struct wa_node *n, int frame,
    struct wa_why *why)
{
	struct enc e = { .why = why };

	*out = NULL;
	*outlen = 0;
	if (why)
		why->text[0] = 0;
	if (frame)
		put8(&e, 0);
	write_node(&e, n, 1);
	if (!e.err && !e.p)
		put(&e, "", 0);
	if (e.err) {
		free(e.p);
		return wa_why_default(why, e.err);
	}
	*out = e.p;
	*outlen = e.len;
	return 0;
}

int
wa_binary_encode(unsigned char **out, size_t *outlen, const struct wa_node *n,
    struct wa_why *why)
{
	return encode(out, outlen, n, 0, why);
}

int
wa_binary_encode_frame(unsigned char **out, size_t *outlen, const struct wa_node *n,
    struct wa_why *why)
{
	return encode(out, outlen, n, 1, why);
}

/* ---- frames ---- */

int
wa_binary_unpack(unsigned char **out, size_t *outlen, const void *frame, size_t len,
    size_t max, struct wa_why *why)
{
	const unsigned char *f = frame;
	unsigned char *buf, *p;
	size_t cap;
	z_stream zs;
	int zr, rc;

	*out = NULL;
	*outlen = 0;
	if (why)
		why->text[0] = 0;
	if (!max)
		max = WA_BINARY_MAX_INFLATE;
	if (len == 0)
		return wa_why_set(why, WA_ECORRUPT, "empty frame");
	if (!(f[0] & 2)) {
		if (len - 1 > max)
			return wa_why_set(why, WA_ETOOBIG, "frame body of %zu bytes, over %zu",
			    len - 1, max);
		if (WA_TEST_ALLOC_FAILS() || !(buf = malloc(len)))
			return wa_why_set(why, WA_ENOMEM, "out of memory for a frame of %zu bytes", len - 1);
		memcpy(buf, f + 1, len - 1);
		*out = buf;
		*outlen = len - 1;
		return 0;
	}
	if (len - 1 > UINT32_MAX || max >= UINT32_MAX)
		return wa_why_set(why, WA_ETOOBIG, "frame too large to inflate");
	memset(&zs, 0, sizeof zs);
	if (WA_TEST_ALLOC_FAILS() || inflateInit(&zs) != Z_OK)
		return wa_why_set(why, WA_ENOMEM, "zlib: out of memory");
	/* room for max + 1 bytes at most: filling it means over the cap */
	cap = 4 * (len - 1) + 64;
	if (cap > max + 1 || cap < len)
		cap = max + 1;
	if (WA_TEST_ALLOC_FAILS() || !(buf = malloc(cap))) {
		inflateEnd(&zs);
		return wa_why_set(why, WA_ENOMEM, "out of memory inflating a frame (%zu bytes)", cap);
	}
	zs.next_in = (unsigned char *)(f + 1);
	zs.avail_in = (uInt)(len - 1);
	zs.next_out = buf;
	zs.avail_out = (uInt)cap;
	for (;;) {
		zr = inflate(&zs, Z_NO_FLUSH);
		if (zr == Z_STREAM_END)
			break;
		if (zr == Z_MEM_ERROR) {
			rc = wa_why_set(why, WA_ENOMEM, "zlib: out of memory");
			goto fail;
		}
		if (zr != Z_OK && zr != Z_BUF_ERROR) {
			rc = wa_why_set(why, WA_ECORRUPT, "bad zlib data: %s",
			    zs.msg ? zs.msg : "error");
			goto fail;
		}
		if (zs.avail_out == 0) {
			if (cap == max + 1) {
				rc = wa_why_set(why, WA_ETOOBIG, "frame inflates to over %zu bytes", max);
				goto fail;
			}
			cap = cap > (max + 1) / 2 ? max + 1 : 2 * cap;
			if (WA_TEST_ALLOC_FAILS() || !(p = realloc(buf, cap))) {
				rc = wa_why_set(why, WA_ENOMEM, "out of memory inflating a frame (%zu bytes)", cap);
				goto fail;
			}
			buf = p;
			zs.next_out = buf + zs.total_out;
			zs.avail_out = (uInt)(cap - zs.total_out);
			continue;
		}
		if (zs.avail_in == 0) {
			rc = wa_why_set(why, WA_ECORRUPT, "truncated zlib data");
			goto fail;
		}
	}
	if (zs.total_out > max) {
		rc = wa_why_set(why, WA_ETOOBIG, "frame inflates to over %zu bytes", max);
		goto fail;
	}
	*outlen = zs.total_out;
	*out = buf;
	inflateEnd(&zs);
	return 0;
fail:
	inflateEnd(&zs);
	free(buf);
	return wa_why_default(why, rc);
}

int
wa_binary_decode_frame(struct wa_node **out, const void *frame, size_t len, size_t max,
    struct wa_why *why)
{
	const unsigned char *f = frame;
	unsigned char *body;
	size_t blen;
	int rc;

	*out = NULL;
	if (len == 0)
		return wa_why_set(why, WA_ECORRUPT, "empty frame");
	if (!(f[0] & 2))
		return wa_binary_decode(out, f + 1, len - 1, why);
	if ((rc = wa_binary_unpack(&body, &blen, frame, len, max, why)) < 0)
		return rc;
	rc = wa_binary_decode(out, body, blen, why);
	free(body);
	return rc;
}
