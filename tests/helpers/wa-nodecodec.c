/*
 * wa-nodecodec - the binary codec and JID code as a line filter, for the
 * conformance tests against Baileys (tests/0300, tests/0301).
 *
 *	wa-nodecodec decode        hex node body per line  -> JSON node per line
 *	wa-nodecodec decode-frame  hex frame (flags+body)  -> JSON node per line
 *	wa-nodecodec encode        JSON node per line      -> hex node body per line
 *	wa-nodecodec format [-i]   hex node body per line  -> wa_node_format text
 *	wa-nodecodec jid           JID per line            -> JSON facts per line
 *
 * JSON node: {"tag":T,"attrs":[[K,V],...],"content":C}, "content" absent
 * for none, an array of nodes, a string, or {"hex":"..."} for bytes.  The
 * decoders print attributes sorted by key (byte order), so the output can
 * be compared with text tools; encode keeps the order given.  A line that
 * fails prints "ERR <reason>".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "wire/binary.h"
#include "wire/jid.h"
#include "wire/node.h"

#define USAGE "usage: wa-nodecodec decode | decode-frame | encode | format [-i] | jid"

static void
put_jstr(const unsigned char *s, size_t n)
{
	size_t i;

	putchar('"');
	for (i = 0; i < n; i++) {
		unsigned char c = s[i];

		switch (c) {
		case '"': fputs("\\\"", stdout); break;
		case '\\': fputs("\\\\", stdout); break;
		case '\b': fputs("\\b", stdout); break;
		case '\f': fputs("\\f", stdout); break;
		case '\n': fputs("\\n", stdout); break;
		case '\r': fputs("\\r", stdout); break;
		case '\t': fputs("\\t", stdout); break;
		default:
			if (c < 0x20)
				printf("\\u%04x", c);
			else
				putchar(c);
		}
	}
	putchar('"');
}

static void
put_hex(const unsigned char *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		putchar(hex[p[i] >> 4]);
		putchar(hex[p[i] & 15]);
	}
}

static int
attr_cmp(const void *a, const void *b)
{
	const struct wa_attr *const *x = a, *const *y = b;

	return strcmp((*x)->key, (*y)->key);
}

static void
put_node(const struct wa_node *n)
{
	const struct wa_attr **sorted;
	size_t i;

	fputs("{\"tag\":", stdout);
	put_jstr((const unsigned char *)n->tag, strlen(n->tag));
	fputs(",\"attrs\":[", stdout);
	if (!(sorted = malloc((n->nattrs + 1) * sizeof *sorted)))
		exit(111);
	for (i = 0; i < n->nattrs; i++)
		sorted[i] = &n->attrs[i];
	qsort(sorted, n->nattrs, sizeof *sorted, attr_cmp);
	for (i = 0; i < n->nattrs; i++) {
		fputs(i ? ",[" : "[", stdout);
		put_jstr((const unsigned char *)sorted[i]->key, strlen(sorted[i]->key));
		putchar(',');
		put_jstr((const unsigned char *)sorted[i]->value, strlen(sorted[i]->value));
		putchar(']');
	}
	free(sorted);
	putchar(']');
	switch (n->content) {
	case WA_CONTENT_NONE:
		break;
	case WA_CONTENT_LIST:
		fputs(",\"content\":[", stdout);
		for (i = 0; i < n->nchildren; i++) {
			if (i)
				putchar(',');
			put_node(n->children[i]);
		}
		putchar(']');
		break;
	case WA_CONTENT_BYTES:
		fputs(",\"content\":{\"hex\":\"", stdout);
		put_hex(n->data, n->len);
		fputs("\"}", stdout);
		break;
	case WA_CONTENT_STRING:
		fputs(",\"content\":", stdout);
		put_jstr(n->data, n->len);
		break;
	}
	putchar('}');
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int
unhex(unsigned char **out, size_t *outlen, const char *s, size_t n)
{
	unsigned char *p;
	size_t i;

	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		n--;
	if (n % 2 || !(p = malloc(n / 2 + 1)))
		return -1;
	for (i = 0; i < n; i += 2) {
		int hi = hexval(s[i]), lo = hexval(s[i + 1]);

		if (hi < 0 || lo < 0) {
			free(p);
			return -1;
		}
		p[i / 2] = (unsigned char)(hi << 4 | lo);
	}
	*out = p;
	*outlen = n / 2;
	return 0;
}

static void
err_line(int rc, const struct wa_why *why)
{
	printf("ERR %s%s%s\n", wa_strerror(rc), why && why->text[0] ? ": " : "",
	    why ? why->text : "");
}

static int
from_json(struct wa_node **out, json_t *j)
{
	json_t *tag = json_object_get(j, "tag"), *attrs = json_object_get(j, "attrs");
	json_t *content = json_object_get(j, "content"), *v;
	struct wa_node *n, *child;
	unsigned char *bytes;
	size_t i, len;
	int rc;

	if (!json_is_string(tag) || strlen(json_string_value(tag)) != json_string_length(tag))
		return WA_EINVAL;
	if ((rc = wa_node_new(&n, json_string_value(tag))) < 0)
		return rc;
	json_array_foreach(attrs, i, v) {
		json_t *k = json_array_get(v, 0), *val = json_array_get(v, 1);

		if (!json_is_string(k) || !json_is_string(val) ||
		    strlen(json_string_value(k)) != json_string_length(k) ||
		    strlen(json_string_value(val)) != json_string_length(val)) {
			rc = WA_EINVAL;
			goto fail;
		}
		/* a repeated key keeps its first place and takes the last value */
		if ((rc = wa_node_attr_set(n, json_string_value(k), json_string_value(val))) < 0)
			goto fail;
	}
	if (json_is_array(content)) {
		wa_node_set_list(n);
		json_array_foreach(content, i, v) {
			if ((rc = from_json(&child, v)) < 0 || (rc = wa_node_child_add(n, child)) < 0)
				goto fail;
		}
	} else if (json_is_string(content)) {
		if (strlen(json_string_value(content)) != json_string_length(content)) {
			rc = WA_EINVAL;
			goto fail;
		}
		if ((rc = wa_node_set_string(n, json_string_value(content))) < 0)
			goto fail;
	} else if (json_is_object(content)) {
		const char *h = json_string_value(json_object_get(content, "hex"));

		if (!h || unhex(&bytes, &len, h, strlen(h)) < 0) {
			rc = WA_EINVAL;
			goto fail;
		}
		rc = wa_node_set_bytes(n, bytes, len);
		free(bytes);
		if (rc < 0)
			goto fail;
	} else if (content) {
		rc = WA_EINVAL;
		goto fail;
	}
	*out = n;
	return 0;
fail:
	wa_node_free(n);
	return rc;
}

static void
do_jid(const char *s)
{
	static const struct wa_jid group = { "120363000000000000", "g.us", WA_JID_GROUP, 0, 0 };
	struct wa_jid j, n, plain;
	char buf[WA_SENDER_KEY_ID_MAX];
	int rc;

	if ((rc = wa_jid_parse(&j, s)) < 0) {
		err_line(rc, NULL);
		return;
	}
	fputs("{\"user\":", stdout);
	put_jstr((const unsigned char *)j.user, strlen(j.user));
	fputs(",\"server\":", stdout);
	put_jstr((const unsigned char *)j.server, strlen(j.server));
	printf(",\"device\":%u,\"domain\":%u", j.device, wa_jid_domain(&j));
	plain = j;
	plain.agent = 0;
	wa_jid_format(buf, sizeof buf, &plain);
	fputs(",\"enc\":", stdout);
	put_jstr((const unsigned char *)buf, strlen(buf));
	wa_jid_normalize(&n, &j);
	wa_jid_format(buf, sizeof buf, &n);
	fputs(",\"norm\":", stdout);
	put_jstr((const unsigned char *)buf, strlen(buf));
	fputs(",\"addr\":", stdout);
	if (wa_jid_to_signal_addr(buf, sizeof buf, &j) == 0)
		put_jstr((const unsigned char *)buf, strlen(buf));
	else
		fputs("null", stdout);
	fputs(",\"sk\":", stdout);
	if (wa_jid_to_sender_key_id(buf, sizeof buf, &group, &j) == 0)
		put_jstr((const unsigned char *)buf, strlen(buf));
	else
		fputs("null", stdout);
	fputs("}\n", stdout);
}

int
main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	int indent = argc > 2 && strcmp(argv[2], "-i") == 0;
	char *line = NULL;
	size_t cap = 0;
	ssize_t got;

	if (strcmp(mode, "decode") && strcmp(mode, "decode-frame") && strcmp(mode, "encode") &&
	    strcmp(mode, "format") && strcmp(mode, "jid")) {
		fprintf(stderr, "%s\n", USAGE);
		return 100;
	}
	while ((got = getline(&line, &cap, stdin)) >= 0) {
		struct wa_why why = { "" };
		struct wa_node *n = NULL;
		unsigned char *buf = NULL;
		size_t len;
		int rc;

		if (strcmp(mode, "jid") == 0) {
			line[strcspn(line, "\r\n")] = 0;
			do_jid(line);
			continue;
		}
		if (strcmp(mode, "encode") == 0) {
			json_error_t jerr;
			json_t *j = json_loadb(line, (size_t)got, JSON_ALLOW_NUL, &jerr);

			if (!j) {
				printf("ERR json: %s\n", jerr.text);
				continue;
			}
			rc = from_json(&n, j);
			json_decref(j);
			if (rc == 0)
				rc = wa_binary_encode(&buf, &len, n, &why);
			if (rc < 0) {
				err_line(rc, &why);
			} else {
				put_hex(buf, len);
				putchar('\n');
			}
			free(buf);
			wa_node_free(n);
			continue;
		}
		if (unhex(&buf, &len, line, (size_t)got) < 0) {
			printf("ERR bad hex\n");
			continue;
		}
		if (strcmp(mode, "decode-frame") == 0)
			rc = wa_binary_decode_frame(&n, buf, len, 0, &why);
		else
			rc = wa_binary_decode(&n, buf, len, &why);
		free(buf);
		if (rc < 0) {
			err_line(rc, &why);
			continue;
		}
		if (strcmp(mode, "format") == 0) {
			char *text;

			if ((rc = wa_node_format(&text, n, indent ? WA_NODE_FMT_INDENT : 0)) < 0) {
				err_line(rc, NULL);
			} else {
				puts(text);
				free(text);
			}
		} else {
			put_node(n);
			putchar('\n');
		}
		wa_node_free(n);
	}
	free(line);
	if (fflush(stdout) != 0 || ferror(stdin)) {
		fprintf(stderr, "wa-nodecodec: %s\n", strerror(errno));
		return 111;
	}
	return 0;
}
