/*
 * fuzz-binary.c - libFuzzer harness for the WABinary decoder and encoder.
 *
 *	clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
 *	    -Ilib fuzz/fuzz-binary.c lib/binary.c lib/node.c lib/tokens.c \
 *	    lib/jid.c lib/err.c -lz -o build/fuzz-binary
 *	build/fuzz-binary -max_len=65536 -max_total_time=120 fuzz/corpus/binary
 *
 * An input is a frame plaintext: flags byte, then the body (zlib when
 * flags & 2).  For every body that decodes, the properties are
 *	t2 = decode(encode(t)) exists and equals t (string content may come
 *	back as bytes: WA_NODE_EQ_TEXT), and encode(t2) == encode(t);
 * and every attribute value that parses as a JID formats back to a
 * string that parses to the same JID.  A broken property aborts.
 *
 * tests/unit/t-binary.c includes this file and replays the corpus, so
 * every input kept in fuzz/corpus/binary/ is a regression test.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire/binary.h"
#include "wire/jid.h"
#include "wire/node.h"

#define FUZZ_INFLATE_MAX ((size_t)1 << 20)

#define check(c) do { if (!(c)) { \
	fprintf(stderr, "fuzz-binary: %s:%d: property failed: %s\n", __FILE__, __LINE__, #c); \
	abort(); } } while (0)

static void
fuzz_jids(const struct wa_node *n)
{
	char s[WA_JID_STR_MAX], addr[WA_SIGNAL_ADDR_MAX];
	struct wa_jid j, k;
	size_t i;

	for (i = 0; i < n->nattrs; i++) {
		if (wa_jid_parse(&j, n->attrs[i].value) < 0)
			continue;
		check(wa_jid_format(s, sizeof s, &j) == 0);
		check(wa_jid_parse(&k, s) == 0);
		check(strcmp(j.user, k.user) == 0 && strcmp(j.server, k.server) == 0 &&
		    j.agent == k.agent && j.device == k.device);
		if (wa_jid_to_signal_addr(addr, sizeof addr, &j) == 0)
			check(!strchr(addr, '/') && strcmp(addr, ".") && strcmp(addr, ".."));
	}
	for (i = 0; i < n->nchildren; i++)
		fuzz_jids(n->children[i]);
}

static void
fuzz_body(const uint8_t *data, size_t size)
{
	struct wa_node *t = NULL, *t2 = NULL;
	unsigned char *b1 = NULL, *b2 = NULL;
	size_t l1, l2;
	char *text;
	int rc;

	if (wa_binary_decode(&t, data, size, NULL) < 0)
		return;
	rc = wa_binary_encode(&b1, &l1, t, NULL);
	check(rc == 0);
	rc = wa_binary_decode(&t2, b1, l1, NULL);
	check(rc == 0);
	check(wa_node_equal(t, t2, WA_NODE_EQ_TEXT));
	rc = wa_binary_encode(&b2, &l2, t2, NULL);
	check(rc == 0);
	check(l1 == l2 && memcmp(b1, b2, l1) == 0);
	if (wa_node_format(&text, t, WA_NODE_FMT_INDENT) == 0)
		free(text);
	fuzz_jids(t);
	free(b1);
	free(b2);
	wa_node_free(t);
	wa_node_free(t2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *body;
	size_t blen;

	if (size == 0)
		return 0;
	if (data[0] & 2) {
		if (wa_binary_unpack(&body, &blen, data, size, FUZZ_INFLATE_MAX, NULL) == 0) {
			check(blen <= FUZZ_INFLATE_MAX);
			fuzz_body(body, blen);
			free(body);
		}
	} else {
		fuzz_body(data + 1, size - 1);
	}
	return 0;
}
