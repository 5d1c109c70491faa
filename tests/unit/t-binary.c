/* t-binary: the WABinary codec, node building and printing, frame unpacking,
 * and a replay of the fuzz corpus (fuzz/corpus/binary) through the fuzz
 * harness's properties. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "tap.h"

#include "../../fuzz/fuzz-binary.c"

static unsigned char *
unhex(const char *s, size_t *len)
{
	size_t n = 0, i;
	unsigned char *p = malloc(strlen(s) / 2 + 1);
	unsigned v;

	for (i = 0; s[i]; ) {
		if (s[i] == ' ') {
			i++;
			continue;
		}
		sscanf(s + i, "%2x", &v);
		p[n++] = (unsigned char)v;
		i += 2;
	}
	*len = n;
	return p;
}

static char *
tohex(const unsigned char *p, size_t n)
{
	char *s = malloc(2 * n + 1);
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(s + 2 * i, "%02x", p[i]);
	s[2 * n] = 0;
	return s;
}

/* decode hex; rc, and the one-line text in text (static) */
static char text[4096];

static int
dec(const char *hex)
{
	struct wa_node *n;
	unsigned char *b;
	size_t len;
	char *t;
	int rc;

	b = unhex(hex, &len);
	rc = wa_binary_decode(&n, b, len, NULL);
	free(b);
	text[0] = 0;
	if (rc == 0) {
		if (wa_node_format(&t, n, 0) == 0) {
			snprintf(text, sizeof text, "%s", t);
			free(t);
		}
		wa_node_free(n);
	}
	return rc;
}

/* encode n (freed) and compare with want hex (no spaces) */
static void
enc_is(struct wa_node *n, const char *want, const char *name)
{
	unsigned char *b;
	size_t len;
	char *h;

	if (wa_binary_encode(&b, &len, n, NULL) < 0) {
		ok(0, "%s (encode failed)", name);
		wa_node_free(n);
		return;
	}
	h = tohex(b, len);
	is_str(h, want, "%s", name);
	free(h);
	free(b);
	wa_node_free(n);
}

static struct wa_node *
mk(const char *tag, const char *k, const char *v)
{
	struct wa_node *n;

	wa_node_make(&n, tag, k, v, (char *)NULL);
	return n;
}

/* encode an attribute value alone: the bytes after f8 03 19 08 (<iq id=..>) */
static void
value_is(const char *value, const char *want, const char *name)
{
	char full[512];

	snprintf(full, sizeof full, "f8031908%s", want);
	enc_is(mk("iq", "id", value), full, name);
}

/* value survives encode -> decode as the same string */
static int
value_roundtrip(const char *value)
{
	struct wa_node *n = mk("iq", "id", value), *m = NULL;
	unsigned char *b;
	size_t len;
	int good;

	good = wa_binary_encode(&b, &len, n, NULL) == 0 && wa_binary_decode(&m, b, len, NULL) == 0 &&
	    m->nattrs == 1 && strcmp(m->attrs[0].value, value) == 0;
	if (good)
		free(b);
	wa_node_free(n);
	wa_node_free(m);
	return good;
}

static void
test_examples(void)
{
	struct wa_node *n;

	/* wa-protocol(7) §4.7 worked examples */
	n = mk("iq", "to", "@s.whatsapp.net");
	wa_node_attr_set(n, "type", "result");
	wa_node_attr_set(n, "id", "123");
	enc_is(n, "f8071911fa0003041408ff82123f", "<iq to type id> as Baileys");
	is_int(dec("f8071911fa0003041408ff82123f"), 0, "decodes");
	is_str(text, "<iq to=\"@s.whatsapp.net\" type=\"result\" id=\"123\"/>", "decoded tree");
	n = mk("success", "t", "1700000000");
	wa_node_attr_set(n, "lid", "123:4@lid");
	enc_is(n, "f8054c1aff05170000000076f70104ff82123f", "<success t lid> as Baileys");
	is_int(dec("f8054c1aff05170000000076f70104ff82123f"), 0, "decodes");
	is_str(text, "<success t=\"1700000000\" lid=\"123:4@lid\"/>", "decoded tree");
	wa_node_new(&n, "registration");
	wa_node_set_bytes(n, "\0\0\0\xb3", 4);
	enc_is(n, "f802adfc04000000b3", "<registration> bytes as Baileys");
	/* 4.6 packed examples */
	value_is("123", "ff82123f", "nibble, odd length");
	value_is("1.5-", "ff021b5a", "nibble with . and -");
	value_is("3EB0A1B2C3", "fb053eb0a1b2c3", "hex");
	value_is("1700000000", "ff051700000000", "nibble, even length");
	value_is("3eb0a1", "fc06336562306131", "lowercase hex goes raw");
	value_is("", "fc00", "empty string is BINARY_8 0");
	value_is("result", "14", "single-byte token");
	value_is("retry", "ec0b", "double-byte token dict 0");
	value_is("skey", "ec2d", "double-byte token skey");
}

static void
test_jids(void)
{
	value_is("15550002222@s.whatsapp.net", "faff8615550002222f03", "PN JID as JID_PAIR");
	value_is("15550002222:5@s.whatsapp.net", "f70005ff8615550002222f", "device JID as AD_JID");
	value_is("99990002222:5@lid", "f70105ff8699990002222f", "LID device: domain 1");
	value_is("99990002222@lid", "faff8699990002222f76", "LID without device: JID_PAIR");
	value_is("1:99@hosted", "f7806355", "hosted: domain 128, user \"1\" is token 85");
	value_is("1:99@hosted.lid", "f7816355", "hosted.lid: domain 129");
	value_is("@g.us", "fa001c", "empty user: LIST_EMPTY");
	value_is("status@broadcast", "fa0b0d", "user and server tokens");
	value_is("a@b@c", "fafc0161fafc0162ee25", "nested JID in the server part");
	/* shapes Baileys would send wrongly go raw */
	value_is("1:0@s.whatsapp.net", "fc12313a3040732e77686174736170702e6e6574", ":0 device goes raw");
	value_is("1_1@lid", "fc07315f31406c6964", "agent goes raw");
	value_is("1:5@g.us", "fc08313a354067" "2e7573", "device on g.us goes raw");
	value_is("1:300@lid", "fc09313a333030406c6964", "device over 255 goes raw");
	value_is("1@", "fc023140", "empty server goes raw");
	value_is("@@", "fc024040", "nested empty server goes raw");
	ok(value_roundtrip("1:0@s.whatsapp.net") && value_roundtrip("a_b@c") &&
	    value_roundtrip("@") && value_roundtrip("x:1:2@lid") && value_roundtrip("1:05@lid"),
	    "raw JID-like strings read back unchanged");
	ok(value_roundtrip("1@2@3@4@5@6@7@8@9@10@11@g.us"), "JIDs nested past the cap read back");
	is_int(dec("f80319fa00fa00fa00fa00fa00fa00fa00fa00fa0003"), WA_ETOOBIG, "decoder caps JID nesting");
	is_int(dec("f80219fa00fa00fa00fa00fa00fa00fa0003"), 0, "8 levels are fine");
	/* decoding each JID tag */
	is_int(dec("f8031908f70505ff82123f"), 0, "AD_JID with an unknown domain type");
	is_str(text, "<iq id=\"123:5@s.whatsapp.net\"/>", "... reads as s.whatsapp.net");
	is_int(dec("f8031908f78100ff82123f"), 0, "AD_JID device 0");
	is_str(text, "<iq id=\"123@hosted.lid\"/>", "... leaves out :0");
	is_int(dec("f8031908f6ff82123f0000fc046d736772"), 0, "FB_JID");
	is_str(text, "<iq id=\"123:0@msgr\"/>", "... keeps :0");
	is_int(dec("f8031908f5ff82123f00010005fc0769" "6e7465726f70"), 0, "INTEROP_JID with server");
	is_str(text, "<iq id=\"5-123:1@interop\"/>", "... integrator-user:device@server");
	is_int(dec("f80219f5ff82123f00010005"), 0, "INTEROP_JID without server (end of input)");
	is_str(text, "<iq>5-123:1@interop</iq>", "... defaults to interop");
	is_int(dec("f802f5ff82123f00010005f801f80119"), 0, "INTEROP_JID tag followed by a list");
	is_str(text, "<5-123:1@interop><iq/></5-123:1@interop>", "... rewinds as Baileys does");
	is_int(dec("f8031908fa0300"), WA_ECORRUPT, "JID_PAIR with an empty server");
}

static void
test_tags(void)
{
	struct wa_node *n;
	unsigned char *b, *big;
	size_t len;
	int rc;

	is_int(dec("f80219" "00"), 0, "LIST_EMPTY content");
	is_str(text, "<iq></iq>", "... is an empty list");
	is_int(dec("f80219f802f80102f80103"), 0, "LIST_8 children");
	is_str(text, "<iq><xmlstreamend/><s.whatsapp.net/></iq>", "... in order");
	is_int(dec("f80219fd000100" "00"), WA_ECORRUPT, "BINARY_20 past the end");
	is_int(dec("f80219ff81" "1c"), WA_ECORRUPT, "nibble 12 is invalid, even as padding");
	is_int(dec("f80219ff0212f3"), WA_ECORRUPT, "NUL from nibble 15 inside a string");
	is_int(dec("f802" "19ff0212" "34"), 0, "nibble string as content");
	is_str(text, "<iq>1234</iq>", "... is string content");
	is_int(dec("f80219fb8112"), 0, "odd hex drops the last character");
	is_str(text, "<iq>1</iq>", "... whatever it is");
	is_int(dec("f80219ff80"), 0, "empty odd packed string");
	is_str(text, "<iq></iq>", "... is empty string content");
	is_int(dec("f80219ed05"), 0, "DICTIONARY_1 token");
	is_int(dec("f803190800"), 0, "LIST_EMPTY as a value");
	is_str(text, "<iq id=\"\"/>", "... is the empty string");
	is_int(dec("f8031908fc0261" "00"), WA_ECORRUPT, "NUL byte in a raw string");
	is_int(dec("f80219fc026100"), 0, "NUL byte in byte content is fine");
	is_int(dec("f80219f0"), WA_ECORRUPT, "unassigned tag 0xf0");
	is_int(dec("f80219f4"), WA_ECORRUPT, "unassigned tag 0xf4");
	is_int(dec("f80019"), WA_ECORRUPT, "list of size 0");
	is_int(dec("00"), WA_ECORRUPT, "LIST_EMPTY as a node");
	is_int(dec("f80100"), WA_ECORRUPT, "empty tag");
	is_int(dec("19"), WA_ECORRUPT, "a token where a list must be");
	is_int(dec("f8011900"), WA_ECORRUPT, "trailing byte");
	is_int(dec(""), WA_ECORRUPT, "empty input");
	is_int(dec("f8ff19"), WA_ECORRUPT, "attribute count beyond the input");
	is_int(dec("f80219f9ffff"), WA_ECORRUPT, "child count beyond the input");
	is_int(dec("f80219fe7fffffff"), WA_ECORRUPT, "BINARY_32 length beyond the input");
	is_int(dec("f8051908080809"), 0, "repeated key");
	is_str(text, "<iq id=\"notification\"/>", "... last value, first place");

	/* every prefix of a valid node fails cleanly */
	{
		struct wa_node *t, *c;
		size_t i, full;
		int bad = 0;

		wa_node_make(&t, "message", "id", "3EB0A1", "from", "1555:3@s.whatsapp.net",
		    "t", "1700000000", "x", "raw text", (char *)NULL);
		wa_node_make(&c, "enc", "v", "2", "type", "pkmsg", (char *)NULL);
		wa_node_set_bytes(c, "\x33\x08\x01", 3);
		wa_node_child_add(t, c);
		wa_node_make(&c, "participants", "jid", "99:5@lid", (char *)NULL);
		wa_node_set_list(c);
		wa_node_child_add(t, c);
		wa_binary_encode(&b, &full, t, NULL);
		wa_node_free(t);
		for (i = 0; i < full; i++) {
			if (wa_binary_decode(&n, b, i, NULL) != WA_ECORRUPT)
				bad++;
		}
		rc = wa_binary_decode(&n, b, full, NULL);
		wa_node_free(n);
		free(b);
		ok(bad == 0 && rc == 0, "every proper prefix is WA_ECORRUPT, the whole decodes");
	}

	/* byte lengths at the BINARY_8/20/32 edges */
	{
		static const size_t sizes[] = { 255, 256, (1u << 20) - 1, 1u << 20 };
		static const unsigned char tag[] = { 0xfc, 0xfd, 0xfd, 0xfe };
		size_t i;

		big = calloc(1, 1u << 20);
		for (i = 0; i < 4; i++) {
			struct wa_node *m;

			wa_node_new(&n, "enc");
			wa_node_set_bytes(n, big, sizes[i]);
			rc = wa_binary_encode(&b, &len, n, NULL);
			ok(rc == 0 && b[3] == tag[i] && wa_binary_decode(&m, b, len, NULL) == 0 &&
			    m->content == WA_CONTENT_BYTES && m->len == sizes[i],
			    "%zu bytes: tag %02x, reads back", sizes[i], tag[i]);
			if (rc == 0)
				wa_node_free(m);
			free(b);
			wa_node_free(n);
		}
		free(big);
	}
}

static void
test_limits(void)
{
	struct wa_node *n, *c, *m;
	unsigned char *b;
	size_t len, i;
	struct wa_why why;
	int rc;

	/* nesting: 64 levels fine, 65 refused both ways */
	wa_node_new(&n, "leaf");
	for (i = 1; i < 64; i++) {
		wa_node_new(&c, "d");
		wa_node_child_add(c, n);
		n = c;
	}
	rc = wa_binary_encode(&b, &len, n, NULL);
	ok(rc == 0 && wa_binary_decode(&m, b, len, NULL) == 0, "64 levels of nodes");
	if (rc == 0) {
		wa_node_free(m);
		free(b);
	}
	wa_node_new(&c, "d");
	wa_node_child_add(c, n);
	n = c;
	is_int(wa_binary_encode(&b, &len, n, NULL), WA_ETOOBIG, "encoder refuses 65 levels");
	wa_node_free(n);
	{
		/* 65 levels on the wire: 64 times <iq> with a one-child list
		 * (f8 02 19 f8 01), then <iq/> (f8 01 19) */
		unsigned char w[64 * 5 + 3];
		size_t k = 0;

		for (i = 0; i < 64; i++) {
			memcpy(w + k, "\xf8\x02\x19\xf8\x01", 5);
			k += 5;
		}
		memcpy(w + k, "\xf8\x01\x19", 3);
		is_int(wa_binary_decode(&m, w, k + 3, &why), WA_ETOOBIG, "decoder refuses 65 levels");
		is_int(wa_binary_decode(&m, w + 5, k - 2, &why), 0, "... and takes 64");
		wa_node_free(m);
	}

	/* too many children / attributes for the wire */
	wa_node_new(&n, "list");
	for (i = 0; i < 65536; i++) {
		wa_node_new(&c, "x");
		wa_node_child_add(n, c);
	}
	is_int(wa_binary_encode(&b, &len, n, NULL), WA_ETOOBIG, "65536 children");
	wa_node_free(n);
	is_int(wa_node_new(&n, ""), WA_EINVAL, "empty tag refused by wa_node_new");

	/* memory budget: 30000 children of 32 attributes each is ~2 MB of
	 * input that would take far more than the cap as a tree */
	{
		size_t per = 3 + 64, k = 0, cnt = 30000;
		unsigned char *w = malloc(6 + cnt * per);

		w[k++] = 0xf8; w[k++] = 0x02; w[k++] = 0x19;
		w[k++] = 0xf9; w[k++] = (unsigned char)(cnt >> 8); w[k++] = (unsigned char)cnt;
		for (i = 0; i < cnt; i++) {
			w[k++] = 0xf8; w[k++] = 65; w[k++] = 0x19;
			memset(w + k, 0x1b, 64); /* token 27 "ack", as key and value */
			k += 64;
		}
		rc = wa_binary_decode(&m, w, k, &why);
		is_int(rc, WA_ETOOBIG, "decoded tree over the memory cap");
		ok(strstr(why.text, "over") != NULL, "why: %s", why.text);
		free(w);
	}
}

static void
test_unpack(void)
{
	static const unsigned char node[] = { 0xf8, 0x01, 0x19 };
	unsigned char frame[64], *out, *zeros, *z;
	struct wa_node *n;
	uLongf zlen = sizeof frame - 1;
	size_t len;
	int rc;

	frame[0] = 0;
	memcpy(frame + 1, node, 3);
	rc = wa_binary_unpack(&out, &len, frame, 4, 0, NULL);
	ok(rc == 0 && len == 3 && memcmp(out, node, 3) == 0, "flags 0: body as is");
	if (rc == 0)
		free(out);
	frame[0] = 2;
	compress(frame + 1, &zlen, node, 3);
	rc = wa_binary_unpack(&out, &len, frame, 1 + zlen, 0, NULL);
	ok(rc == 0 && len == 3 && memcmp(out, node, 3) == 0, "flags 2: zlib inflated");
	if (rc == 0)
		free(out);
	frame[0] = 0x86;
	rc = wa_binary_decode_frame(&n, frame, 1 + zlen, 0, NULL);
	ok(rc == 0 && strcmp(n->tag, "iq") == 0, "other flag bits are ignored");
	if (rc == 0)
		wa_node_free(n);
	memcpy(frame + 1 + zlen, "junk", 4);
	rc = wa_binary_unpack(&out, &len, frame, 1 + zlen + 4, 0, NULL);
	ok(rc == 0 && len == 3, "bytes after the zlib stream are ignored");
	if (rc == 0)
		free(out);
	is_int(wa_binary_unpack(&out, &len, frame, zlen - 1, 0, NULL), WA_ECORRUPT, "truncated zlib");
	frame[3] ^= 0xff;
	is_int(wa_binary_unpack(&out, &len, frame, 1 + zlen, 0, NULL), WA_ECORRUPT, "bad zlib data");
	is_int(wa_binary_unpack(&out, &len, frame, 0, 0, NULL), WA_ECORRUPT, "empty frame");
	is_int(wa_binary_decode_frame(&n, frame, 0, 0, NULL), WA_ECORRUPT, "empty frame to decode");

	/* a bomb: 64 MiB of zeros is ~64 KiB of zlib */
	zeros = calloc(1, 64u << 20);
	zlen = compressBound(64u << 20);
	z = malloc(zlen + 1);
	z[0] = 2;
	compress2(z + 1, &zlen, zeros, 64u << 20, 9);
	free(zeros);
	is_int(wa_binary_unpack(&out, &len, z, zlen + 1, 1u << 20, NULL), WA_ETOOBIG,
	    "zlib bomb stops at the cap (%lu bytes in)", (unsigned long)zlen);
	is_int(wa_binary_unpack(&out, &len, z, zlen + 1, 0, NULL), WA_ETOOBIG,
	    "... and at the default cap");
	rc = wa_binary_unpack(&out, &len, z, zlen + 1, 64u << 20, NULL);
	ok(rc == 0 && len == 64u << 20, "exactly at the cap is fine");
	if (rc == 0)
		free(out);
	free(z);
}

static void
test_nodes(void)
{
	struct wa_node *n, *c, *d;
	unsigned char *b;
	size_t len;
	char *t;

	wa_node_make(&n, "iq", "id", "1", "skip", (char *)NULL, "type", "get", (char *)NULL);
	is_int(n->nattrs, 2, "NULL value leaves the attribute out");
	wa_node_attr_set(n, "id", "2");
	is_str(wa_node_attr(n, "id"), "2", "set replaces in place");
	is_str(n->attrs[0].key, "id", "... keeping the order");
	wa_node_attr_set(n, "id", NULL);
	ok(wa_node_attr(n, "id") == NULL && n->nattrs == 1, "NULL removes");
	wa_node_new(&c, "ping");
	is_int(wa_node_child_add(n, c), 0, "child added");
	ok(wa_node_child(n, "ping") == c && n->content == WA_CONTENT_LIST, "found by tag");
	wa_node_new(&c, "x");
	wa_node_set_string(c, "some text");
	wa_node_new(&d, "y");
	is_int(wa_node_child_add(c, d), WA_EINVAL, "no children under string content (child freed)");
	wa_node_child_add(n, c);
	wa_node_new(&c, "enc");
	wa_node_set_bytes(c, "\x01\x02\xff", 3);
	wa_node_child_add(n, c);
	wa_node_format(&t, n, 0);
	is_str(t, "<iq type=\"get\"><ping/><x>some text</x><enc>{3 bytes: 0102ff}</enc></iq>", "one-line text");
	free(t);
	wa_node_format(&t, n, WA_NODE_FMT_INDENT);
	is_str(t, "<iq type=\"get\">\n  <ping/>\n  <x>some text</x>\n  <enc>{3 bytes: 0102ff}</enc>\n</iq>",
	    "indented text");
	free(t);
	wa_node_dup(&d, n);
	ok(wa_node_equal(n, d, 0), "dup is equal");
	wa_node_set_string(d->children[2], "\x01\x02\xff");
	ok(!wa_node_equal(n, d, 0) && wa_node_equal(n, d, WA_NODE_EQ_TEXT),
	    "string vs bytes: equal only as text");
	wa_node_free(d);
	/* string content that is not a token comes back as bytes */
	wa_binary_encode(&b, &len, n, NULL);
	wa_binary_decode(&d, b, len, NULL);
	ok(d->children[1]->content == WA_CONTENT_BYTES && wa_node_equal(n, d, WA_NODE_EQ_TEXT),
	    "raw string content reads back as bytes");
	free(b);
	wa_node_free(d);
	wa_node_free(n);

	wa_node_make(&n, "m", "q", "a\"<&>\n", (char *)NULL);
	c = NULL;
	wa_node_new(&c, "big");
	{
		unsigned char z[100] = { 0 };

		wa_node_set_bytes(c, z, 100);
	}
	wa_node_child_add(n, c);
	wa_node_format(&t, n, 0);
	ok(strstr(t, "q=\"a&quot;&lt;&amp;&gt;&#x0A;\"") != NULL, "escaping: %s", t);
	ok(strstr(t, "{100 bytes: 0000") && strstr(t, "...}"), "long bytes cut");
	free(t);
	wa_node_format(&t, n, WA_NODE_FMT_FULL);
	ok(!strstr(t, "..."), "WA_NODE_FMT_FULL shows all");
	free(t);
	wa_node_free(n);
	wa_node_free(NULL);
}

static void
test_corpus(void)
{
	const char *top = getenv("WA_TOP");
	char path[4096];
	struct dirent *e;
	DIR *dir;
	int count = 0;

	snprintf(path, sizeof path, "%s/fuzz/corpus/binary", top ? top : ".");
	if (!(dir = opendir(path))) {
		ok(0, "open %s", path);
		return;
	}
	while ((e = readdir(dir))) {
		char file[8192];
		unsigned char buf[1 << 16];
		size_t n;
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(file, sizeof file, "%s/%s", path, e->d_name);
		if (!(f = fopen(file, "rb")))
			continue;
		n = fread(buf, 1, sizeof buf, f);
		fclose(f);
		LLVMFuzzerTestOneInput(buf, n);
		count++;
	}
	closedir(dir);
	ok(count > 100, "fuzz corpus replayed: %d inputs, properties hold", count);
}

int
main(void)
{
	test_examples();
	test_jids();
	test_tags();
	test_limits();
	test_unpack();
	test_nodes();
	test_corpus();
	done_testing();
	return exit_status();
}
