/*
 * bufjson.h - binary values in Baileys' JSON files.
 *
 * A binary value may be written in four forms (wa-protocol(7) §14.2):
 *   {"type":"Buffer","data":"<base64>"}   Baileys' BufferJSON (what we write)
 *   {"type":"Buffer","data":[1,2,3]}      Node's own Buffer JSON
 *   "<base64>"                            protobuf toJSON (creds.account)
 *   {"0":1,"1":2}                         a Uint8Array without the replacer
 * wa_bufjson_decode accepts all four.
 */
#ifndef WA_BUFJSON_H
#define WA_BUFJSON_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

/* Decode v into a new buffer (caller frees *out; *out may be NULL when
 * *len is 0).  WA_ECORRUPT when v is none of the forms, WA_ENOMEM. */
int wa_bufjson_decode(uint8_t **out, size_t *len, const json_t *v);

/* Length of the binary value v, or a negative WA_E* code. */
long wa_bufjson_len(const json_t *v);

/* {"type":"Buffer","data":"<base64>"}, or NULL on ENOMEM. */
json_t *wa_bufjson_encode(const uint8_t *buf, size_t len);

/* Standard base64 with padding; also accepts missing padding and the
 * URL-safe alphabet on decode.  Caller frees.  WA_ECORRUPT, WA_ENOMEM. */
int wa_base64_decode(uint8_t **out, size_t *len, const char *s, size_t n);
char *wa_base64_encode(const uint8_t *buf, size_t len);

#endif
