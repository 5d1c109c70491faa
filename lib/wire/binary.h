/*
 * binary.h - WABinary: nodes to bytes and back (dictionary version 3).
 *
 * A transport frame's plaintext is one flags byte and a body; the body is
 * zlib-compressed when flags & 2, and is then the encoded node.  Clients
 * send flags 0 and never compress.
 *
 *	receive: wa_binary_decode_frame(&node, plain, len, 0, &why)
 *	send:    wa_binary_encode_frame(&buf, &len, node, &why)
 *
 * Decoding gives the same tree Baileys 7 gives (decodeBinaryNode): tokens
 * expand to their strings, packed strings unpack, JIDs become strings
 * ("user:device@server", ":0" left out), BINARY content becomes byte
 * content and other content a string.  Where Baileys would throw, decoding
 * fails.  Stricter than Baileys: a node must use up the whole body
 * (whatsmeow's rule), strings holding a NUL byte are refused, nesting and
 * memory are capped (below); a repeated attribute key keeps its first
 * place and its last value, as in Baileys.
 *
 * Encoding writes what Baileys' encodeBinaryNode writes for the same tree,
 * byte for byte, choosing each string's form in Baileys' order: empty ->
 * BINARY_8 of length 0, token, nibble-packed, hex-packed (uppercase only),
 * JID (the string holds '@'), raw.  One exception: where Baileys' JID form
 * would not decode back to the same string (an "_agent" part, a ":0"
 * device, a device on a server other than s.whatsapp.net, lid, hosted or
 * hosted.lid, a device above 255, an empty server ...), or the JID would
 * nest deeper than WA_BINARY_MAX_JID_DEPTH, the string is written raw, so
 * that what is sent is what was meant.  Byte content is written BINARY_*;
 * string content that ends up raw is therefore read back as bytes.
 *
 * All lengths are checked against the input before anything is allocated;
 * no input makes these functions crash (fuzzed: fuzz/fuzz-binary.c).
 */
#ifndef WA_BINARY_H
#define WA_BINARY_H

#include <stddef.h>

#include "base/err.h"
#include "wire/node.h"

#define WA_BINARY_MAX_DEPTH 64              /* nodes within nodes */
#define WA_BINARY_MAX_JID_DEPTH 8           /* JIDs within JIDs */
#define WA_BINARY_MAX_ALLOC ((size_t)64 << 20)   /* heap one decoded tree may take */
#define WA_BINARY_MAX_INFLATE ((size_t)32 << 20) /* default inflate cap */

/* Decode one node from exactly len bytes (a frame body, no flags byte).
 * *out is the caller's, freed with wa_node_free.  WA_ECORRUPT (malformed,
 * truncated, trailing bytes), WA_ETOOBIG (nesting or memory cap),
 * WA_ENOMEM; why (may be NULL) names the problem and the byte offset. */
int wa_binary_decode(struct wa_node **out, const void *buf, size_t len, struct wa_why *why);

/* Encode n into a new buffer *out of *outlen bytes (malloc'd, the caller
 * frees it).  WA_EINVAL (empty tag), WA_ETOOBIG (more than 65535 list
 * entries, more than 2^32-1 content bytes, nesting beyond
 * WA_BINARY_MAX_DEPTH), WA_ENOMEM. */
int wa_binary_encode(unsigned char **out, size_t *outlen, const struct wa_node *n,
    struct wa_why *why);

/* The same with the flags byte 0 in front: a frame plaintext to encrypt. */
int wa_binary_encode_frame(unsigned char **out, size_t *outlen, const struct wa_node *n,
    struct wa_why *why);

/* Frame plaintext (flags byte + body) to the node bytes: the body copied,
 * or inflated (zlib) when flags & 2.  Inflating past max bytes (0: use
 * WA_BINARY_MAX_INFLATE) stops with WA_ETOOBIG, so a small frame cannot
 * blow up in memory.  Bytes after the end of the zlib stream are ignored,
 * as zlib readers in Node and Go do.  *out is malloc'd, the caller frees
 * it.  WA_ECORRUPT (empty frame, bad or truncated zlib data), WA_ETOOBIG,
 * WA_ENOMEM. */
int wa_binary_unpack(unsigned char **out, size_t *outlen, const void *frame, size_t len,
    size_t max, struct wa_why *why);

/* wa_binary_unpack then wa_binary_decode, without a copy when the frame
 * is not compressed. */
int wa_binary_decode_frame(struct wa_node **out, const void *frame, size_t len, size_t max,
    struct wa_why *why);

#endif
