/*
 * node.h - the protocol's element tree: a tag, attributes, and content that
 * is nothing, a list of child nodes, raw bytes, or a string.
 *
 *	struct wa_node *iq;
 *	if (wa_node_make(&iq, "iq", "id", id, "to", "s.whatsapp.net",
 *	    "type", "get", "xmlns", "w:p", (char *)NULL) < 0 ||
 *	    wa_node_child_add(iq, ping) < 0)	// ping is iq's now, even on error
 *		...
 *	wa_node_free(iq);
 *
 * The struct is open for reading: walk attrs[0..nattrs) and
 * children[0..nchildren) directly.  Change it only through the functions
 * below (they keep the private capacities right).
 *
 * Strings (tag, keys, values, string content) are NUL-terminated and never
 * hold a NUL byte; byte content may.  data is followed by a NUL byte in
 * both cases, so string content can be read as a C string.  The wire does
 * not type attribute values: a JID is a string ("123:4@lid") here, and the
 * encoder picks its representation (see binary.h).
 *
 * Every function returns 0 or a negative WA_E* code; nothing prints.
 */
#ifndef WA_NODE_H
#define WA_NODE_H

#include <stddef.h>

enum wa_content {
	WA_CONTENT_NONE = 0, /* no content */
	WA_CONTENT_LIST,     /* children[0..nchildren), possibly none */
	WA_CONTENT_BYTES,    /* data[0..len): raw bytes (BINARY on the wire) */
	WA_CONTENT_STRING,   /* data[0..len): text (token, packed or JID on the wire) */
};

struct wa_attr {
	char *key;
	char *value;
};

struct wa_node {
	char *tag;
	struct wa_attr *attrs;
	size_t nattrs;
	enum wa_content content;
	struct wa_node **children;
	size_t nchildren;
	unsigned char *data; /* BYTES or STRING; data[len] == 0 */
	size_t len;
	size_t attrcap_, childcap_; /* private */
};

/* A node with tag (copied; not empty, no NUL) and no attributes or content.
 * WA_EINVAL, WA_ENOMEM. */
int wa_node_new(struct wa_node **out, const char *tag);

/* wa_node_new plus attributes: key, value pairs ended by a NULL key.  A
 * NULL value leaves that attribute out (as Baileys does for undefined). */
int wa_node_make(struct wa_node **out, const char *tag, ...)
	__attribute__((sentinel));

/* Set attribute key to value (both copied).  An existing key keeps its
 * place and takes the new value; a new key goes last.  value NULL removes
 * the attribute.  WA_ENOMEM. */
int wa_node_attr_set(struct wa_node *n, const char *key, const char *value);

/* The value of attribute key, or NULL.  Points into n. */
const char *wa_node_attr(const struct wa_node *n, const char *key);

/* Append child to n's list (n's content becomes a list if it was none).
 * n owns child from this call on, also on error (then child is freed).
 * WA_EINVAL if n holds bytes or a string, WA_ENOMEM. */
int wa_node_child_add(struct wa_node *n, struct wa_node *child);

/* The first child with this tag, or NULL. */
struct wa_node *wa_node_child(const struct wa_node *n, const char *tag);

/* Replace n's content with a copy of len bytes / the string s / an empty
 * list / nothing.  WA_ENOMEM (n unchanged). */
int wa_node_set_bytes(struct wa_node *n, const void *p, size_t len);
int wa_node_set_string(struct wa_node *n, const char *s);
void wa_node_set_list(struct wa_node *n);
void wa_node_clear(struct wa_node *n);

/* A deep copy.  WA_ENOMEM. */
int wa_node_dup(struct wa_node **out, const struct wa_node *n);

/* 1 if the trees are equal (tags, attributes in order, content), else 0.
 * WA_NODE_EQ_TEXT: string and byte content with the same bytes are equal
 * (the wire turns string content that is not a token, packed or a JID into
 * bytes). */
#define WA_NODE_EQ_TEXT 1u
int wa_node_equal(const struct wa_node *a, const struct wa_node *b, unsigned flags);

/* Text for logs: <iq id="1" type="get"><ping/></iq>.  Attribute values and
 * string content are escaped XML-style (&quot; &amp; &lt; &gt;, control
 * bytes as &#xNN;); byte content shows as {N bytes: hex}, cut after 64
 * bytes unless WA_NODE_FMT_FULL.  WA_NODE_FMT_INDENT puts each child on
 * its own line, indented by two spaces per level.  *out is NUL-terminated,
 * the caller frees it with free().  WA_ENOMEM. */
#define WA_NODE_FMT_INDENT 1u
#define WA_NODE_FMT_FULL 2u
int wa_node_format(char **out, const struct wa_node *n, unsigned flags);

/* Free n and everything under it.  NULL-safe. */
void wa_node_free(struct wa_node *n);

#endif
