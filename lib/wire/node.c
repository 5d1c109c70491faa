/*
 * node.c - building, comparing, copying, printing and freeing node trees.
 * The wire form is in binary.c.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "wire/node.h"

static void
content_free(struct wa_node *n)
{
	size_t i;

	for (i = 0; i < n->nchildren; i++)
		wa_node_free(n->children[i]);
	free(n->children);
	free(n->data);
	n->children = NULL;
	n->nchildren = n->childcap_ = 0;
	n->data = NULL;
	n->len = 0;
	n->content = WA_CONTENT_NONE;
}

void
wa_node_free(struct wa_node *n)
{
	size_t i;

	if (!n)
		return;
	for (i = 0; i < n->nattrs; i++) {
		free(n->attrs[i].key);
		free(n->attrs[i].value);
	}
	free(n->attrs);
	content_free(n);
	free(n->tag);
	free(n);
}

int
wa_node_new(struct wa_node **out, const char *tag)
{
	struct wa_node *n;

	*out = NULL;
	if (!tag || !*tag)
		return WA_EINVAL;
	if (!(n = calloc(1, sizeof *n)))
		return WA_ENOMEM;
	if (!(n->tag = strdup(tag))) {
		free(n);
		return WA_ENOMEM;
	}
	*out = n;
	return 0;
}

int
wa_node_make(struct wa_node **out, const char *tag, ...)
{
	struct wa_node *n;
	const char *k, *v;
	va_list ap;
	int rc;

	if ((rc = wa_node_new(&n, tag)) < 0)
		return rc;
	va_start(ap, tag);
	while ((k = va_arg(ap, const char *))) {
		v = va_arg(ap, const char *);
		if (v && (rc = wa_node_attr_set(n, k, v)) < 0)
			break;
	}
	va_end(ap);
	if (rc < 0) {
		wa_node_free(n);
		return rc;
	}
	*out = n;
	return 0;
}

static struct wa_attr *
attr_find(const struct wa_node *n, const char *key)
{
	size_t i;

	for (i = 0; i < n->nattrs; i++)
		if (strcmp(n->attrs[i].key, key) == 0)
			return &n->attrs[i];
	return NULL;
}

const char *
wa_node_attr(const struct wa_node *n, const char *key)
{
	struct wa_attr *a = attr_find(n, key);

	return a ? a->value : NULL;
}

int
wa_node_attr_set(struct wa_node *n, const char *key, const char *value)
{
	struct wa_attr *a = attr_find(n, key);
	char *k, *v;

	if (!value) {
		if (a) {
			free(a->key);
			free(a->value);
			memmove(a, a + 1, (size_t)(n->attrs + n->nattrs - (a + 1)) * sizeof *a);
			n->nattrs--;
		}
		return 0;
	}
	if (!(v = strdup(value)))
		return WA_ENOMEM;
	if (a) {
		free(a->value);
		a->value = v;
		return 0;
	}
	if (n->nattrs == n->attrcap_) {
		size_t cap = n->attrcap_ ? 2 * n->attrcap_ : 4;
		struct wa_attr *p = realloc(n->attrs, cap * sizeof *p);

		if (!p) {
			free(v);
			return WA_ENOMEM;
		}
		n->attrs = p;
		n->attrcap_ = cap;
	}
	if (!(k = strdup(key))) {
		free(v);
		return WA_ENOMEM;
	}
	n->attrs[n->nattrs].key = k;
	n->attrs[n->nattrs].value = v;
	n->nattrs++;
	return 0;
}

int
wa_node_child_add(struct wa_node *n, struct wa_node *child)
{
	if (!child)
		return WA_EINVAL;
	if (n->content != WA_CONTENT_NONE && n->content != WA_CONTENT_LIST) {
		wa_node_free(child);
		return WA_EINVAL;
	}
	if (n->nchildren == n->childcap_) {
		size_t cap = n->childcap_ ? 2 * n->childcap_ : 4;
		struct wa_node **p = realloc(n->children, cap * sizeof *p);

		if (!p) {
			wa_node_free(child);
			return WA_ENOMEM;
		}
		n->children = p;
		n->childcap_ = cap;
	}
	n->children[n->nchildren++] = child;
	n->content = WA_CONTENT_LIST;
	return 0;
}

struct wa_node *
wa_node_child(const struct wa_node *n, const char *tag)
{
	size_t i;

	for (i = 0; i < n->nchildren; i++)
		if (strcmp(n->children[i]->tag, tag) == 0)
			return n->children[i];
	return NULL;
}

static int
set_data(struct wa_node *n, const void *p, size_t len, enum wa_content kind)
{
	unsigned char *d;

	if (len == SIZE_MAX || !(d = malloc(len + 1)))
		return WA_ENOMEM;
	if (len)
		memcpy(d, p, len);
	d[len] = 0;
	content_free(n);
	n->data = d;
	n->len = len;
	n->content = kind;
	return 0;
}

int
wa_node_set_bytes(struct wa_node *n, const void *p, size_t len)
{
	return set_data(n, p, len, WA_CONTENT_BYTES);
}

int
wa_node_set_string(struct wa_node *n, const char *s)
{
	return set_data(n, s, strlen(s), WA_CONTENT_STRING);
}

void
wa_node_set_list(struct wa_node *n)
{
	content_free(n);
	n->content = WA_CONTENT_LIST;
}

void
wa_node_clear(struct wa_node *n)
{
	content_free(n);
}

int
wa_node_dup(struct wa_node **out, const struct wa_node *n)
{
	struct wa_node *c, *child;
	size_t i;
	int rc;

	*out = NULL;
	if ((rc = wa_node_new(&c, n->tag)) < 0)
		return rc;
	for (i = 0; i < n->nattrs; i++)
		if ((rc = wa_node_attr_set(c, n->attrs[i].key, n->attrs[i].value)) < 0)
			goto fail;
	switch (n->content) {
	case WA_CONTENT_NONE:
		break;
	case WA_CONTENT_LIST:
		wa_node_set_list(c);
		for (i = 0; i < n->nchildren; i++)
			if ((rc = wa_node_dup(&child, n->children[i])) < 0 ||
			    (rc = wa_node_child_add(c, child)) < 0)
				goto fail;
		break;
	case WA_CONTENT_BYTES:
	case WA_CONTENT_STRING:
		if ((rc = set_data(c, n->data, n->len, n->content)) < 0)
			goto fail;
		break;
	}
	*out = c;
	return 0;
fail:
	wa_node_free(c);
	return rc;
}

int
wa_node_equal(const struct wa_node *a, const struct wa_node *b, unsigned flags)
{
	size_t i;
	int ka = a->content, kb = b->content;

	if (strcmp(a->tag, b->tag) != 0 || a->nattrs != b->nattrs)
		return 0;
	for (i = 0; i < a->nattrs; i++)
		if (strcmp(a->attrs[i].key, b->attrs[i].key) != 0 ||
		    strcmp(a->attrs[i].value, b->attrs[i].value) != 0)
			return 0;
	if (flags & WA_NODE_EQ_TEXT) {
		if (ka == WA_CONTENT_STRING)
			ka = WA_CONTENT_BYTES;
		if (kb == WA_CONTENT_STRING)
			kb = WA_CONTENT_BYTES;
	}
	if (ka != kb)
		return 0;
	switch (a->content) {
	case WA_CONTENT_NONE:
		return 1;
	case WA_CONTENT_LIST:
		if (a->nchildren != b->nchildren)
			return 0;
		for (i = 0; i < a->nchildren; i++)
			if (!wa_node_equal(a->children[i], b->children[i], flags))
				return 0;
		return 1;
	case WA_CONTENT_BYTES:
	case WA_CONTENT_STRING:
		return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
	}
	return 0;
}

/* A growing output buffer; an allocation failure sticks in oom. */
struct out {
	char *p;
	size_t len, cap;
	int oom;
};

static void
put(struct out *o, const void *s, size_t n)
{
	if (o->oom)
		return;
	if (o->len + n + 1 > o->cap) {
		size_t cap = o->cap ? o->cap : 256;
		char *p;

		while (cap < o->len + n + 1)
			cap *= 2;
		if (!(p = realloc(o->p, cap))) {
			o->oom = 1;
			return;
		}
		o->p = p;
		o->cap = cap;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = 0;
}

static void
puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void
put_escaped(struct out *o, const unsigned char *s, size_t n)
{
	char tmp[8];
	size_t i;

	for (i = 0; i < n; i++) {
		switch (s[i]) {
		case '"': puts_(o, "&quot;"); break;
		case '&': puts_(o, "&amp;"); break;
		case '<': puts_(o, "&lt;"); break;
		case '>': puts_(o, "&gt;"); break;
		default:
			if (s[i] < 0x20 || s[i] == 0x7f) {
				snprintf(tmp, sizeof tmp, "&#x%02X;", s[i]);
				puts_(o, tmp);
			} else {
				put(o, &s[i], 1);
			}
		}
	}
}

static void
put_hexbytes(struct out *o, const unsigned char *d, size_t len, unsigned flags)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, n = len;
	char tmp[48];

	snprintf(tmp, sizeof tmp, "{%zu bytes", len);
	puts_(o, tmp);
	if (len)
		puts_(o, ": ");
	if (!(flags & WA_NODE_FMT_FULL) && n > 64)
		n = 64;
	for (i = 0; i < n; i++) {
		tmp[0] = hex[d[i] >> 4];
		tmp[1] = hex[d[i] & 15];
		put(o, tmp, 2);
	}
	if (n < len)
		puts_(o, "...");
	puts_(o, "}");
}

static void
indent(struct out *o, unsigned flags, int level)
{
	int i;

	if (!(flags & WA_NODE_FMT_INDENT))
		return;
	put(o, "\n", 1);
	for (i = 0; i < level; i++)
		put(o, "  ", 2);
}

static void
format(struct out *o, const struct wa_node *n, unsigned flags, int level)
{
	size_t i;

	put(o, "<", 1);
	put_escaped(o, (const unsigned char *)n->tag, strlen(n->tag));
	for (i = 0; i < n->nattrs; i++) {
		put(o, " ", 1);
		put_escaped(o, (const unsigned char *)n->attrs[i].key, strlen(n->attrs[i].key));
		put(o, "=\"", 2);
		put_escaped(o, (const unsigned char *)n->attrs[i].value, strlen(n->attrs[i].value));
		put(o, "\"", 1);
	}
	switch (n->content) {
	case WA_CONTENT_NONE:
		puts_(o, "/>");
		return;
	case WA_CONTENT_LIST:
		put(o, ">", 1);
		for (i = 0; i < n->nchildren; i++) {
			indent(o, flags, level + 1);
			format(o, n->children[i], flags, level + 1);
		}
		if (n->nchildren)
			indent(o, flags, level);
		break;
	case WA_CONTENT_BYTES:
		put(o, ">", 1);
		put_hexbytes(o, n->data, n->len, flags);
		break;
	case WA_CONTENT_STRING:
		put(o, ">", 1);
		put_escaped(o, n->data, n->len);
		break;
	}
	puts_(o, "</");
	put_escaped(o, (const unsigned char *)n->tag, strlen(n->tag));
	put(o, ">", 1);
}

int
wa_node_format(char **out, const struct wa_node *n, unsigned flags)
{
	struct out o = { 0 };

	*out = NULL;
	format(&o, n, flags, 0);
	put(&o, "", 0);
	if (o.oom) {
		free(o.p);
		return WA_ENOMEM;
	}
	*out = o.p;
	return 0;
}
