/*
 * bufjson.c - binary values in Baileys' JSON files (bufjson.h): decode
 * every form Baileys and Node write, encode only BufferJSON's base64 form,
 * so that what wa writes loads in Baileys unchanged.  Base64 goes through
 * OpenSSL in pieces, so no length is ever cut to an int.
 */
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/bufjson.h"
#include "base/err.h"

/*
 * OpenSSL's EVP_EncodeBlock and EVP_DecodeBlock take an int length: a
 * size_t passed as is would be truncated for 2 GiB and more (a negative
 * or short length).  Both run over pieces of B64_CHUNK characters (a
 * multiple of 4) or B64_CHUNK / 4 * 3 bytes, so any size_t length works.
 */
#define B64_CHUNK 4096

static int
b64_char(char *c)
{
	if (*c == '-')
		*c = '+';
	else if (*c == '_')
		*c = '/';
	return (*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
	    *c == '+' || *c == '/';
}

int
wa_base64_decode(uint8_t **out, size_t *len, const char *s, size_t n)
{
	char piece[B64_CHUNK];
	size_t i, m, k, done = 0, pad;
	uint8_t *buf;

	*out = NULL;
	*len = 0;
	/* the characters before any '=' padding, which must end the string */
	for (m = 0; m < n && s[m] != '='; m++)
		;
	for (i = m; i < n; i++)
		if (s[i] != '=')
			return WA_ECORRUPT;
	if (m % 4 == 1)
		return WA_ECORRUPT;
	pad = m % 4 ? 4 - m % 4 : 0;  /* '=' to add; each stands for one byte less */
	if (!(buf = malloc(m / 4 * 3 + 3)))
		return WA_ENOMEM;
	for (i = 0; i < m; i += k) {
		k = m - i < B64_CHUNK ? m - i : B64_CHUNK;
		memcpy(piece, s + i, k);
		for (size_t j = 0; j < k; j++)
			if (!b64_char(&piece[j])) {
				free(buf);
				return WA_ECORRUPT;
			}
		while (k % 4)   /* only the last piece: B64_CHUNK is a multiple of 4 */
			piece[k++] = '=';
		if (EVP_DecodeBlock(buf + done, (unsigned char *)piece, (int)k) < 0) {
			free(buf);
			return WA_ECORRUPT;
		}
		done += k / 4 * 3;
	}
	*out = buf;
	*len = done - pad;
	return 0;
}

char *
wa_base64_encode(const uint8_t *buf, size_t len)
{
	size_t i, k, done = 0;
	char *s;

	if (len > (SIZE_MAX - 1) / 4 * 3 - 2)
		return NULL;
	if (!(s = malloc((len + 2) / 3 * 4 + 1)))
		return NULL;
	s[0] = 0;
	for (i = 0; i < len; i += k) {
		k = len - i < B64_CHUNK / 4 * 3 ? len - i : B64_CHUNK / 4 * 3;
		done += (size_t)EVP_EncodeBlock((unsigned char *)s + done, buf + i, (int)k);
	}
	s[done] = 0;
	return s;
}

static int
is_uint_key(const char *k)
{
	if (!*k)
		return 0;
	for (; *k; k++)
		if (*k < '0' || *k > '9')
			return 0;
	return 1;
}

int
wa_bufjson_decode(uint8_t **out, size_t *len, const json_t *v)
{
	const json_t *data, *e;
	const char *k;
	size_t i, n;
	uint8_t *buf;

	*out = NULL;
	*len = 0;
	if (json_is_string(v))
		return wa_base64_decode(out, len, json_string_value(v), json_string_length(v));
	if (!json_is_object(v))
		return WA_ECORRUPT;
	data = json_object_get(v, "data");
	if (json_is_string(json_object_get(v, "type")) &&
	    strcmp(json_string_value(json_object_get(v, "type")), "Buffer") == 0 && data) {
		if (json_is_string(data))
			return wa_base64_decode(out, len, json_string_value(data), json_string_length(data));
		if (!json_is_array(data))
			return WA_ECORRUPT;
		n = json_array_size(data);
		if (!(buf = malloc(n ? n : 1)))
			return WA_ENOMEM;
		json_array_foreach(data, i, e) {
			if (!json_is_integer(e) || json_integer_value(e) < 0 || json_integer_value(e) > 255) {
				free(buf);
				return WA_ECORRUPT;
			}
			buf[i] = (uint8_t)json_integer_value(e);
		}
		*out = buf;
		*len = n;
		return 0;
	}
	/* {"0":12,"1":34,...}: all keys integers 0..n-1, all values bytes */
	n = json_object_size(v);
	if (n == 0)
		return WA_ECORRUPT;
	if (!(buf = calloc(n, 1)))
		return WA_ENOMEM;
	json_object_foreach((json_t *)v, k, e) {
		unsigned long idx;
		if (!is_uint_key(k) || !json_is_integer(e) || json_integer_value(e) < 0 || json_integer_value(e) > 255)
			goto bad;
		idx = strtoul(k, NULL, 10);
		if (idx >= n)
			goto bad;
		buf[idx] = (uint8_t)json_integer_value(e);
	}
	*out = buf;
	*len = n;
	return 0;
bad:
	free(buf);
	return WA_ECORRUPT;
}

long
wa_bufjson_len(const json_t *v)
{
	uint8_t *b;
	size_t n;
	int rc = wa_bufjson_decode(&b, &n, v);

	if (rc < 0)
		return rc;
	if (b) {
		OPENSSL_cleanse(b, n);
		free(b);
	}
	return (long)n;
}

json_t *
wa_bufjson_encode(const uint8_t *buf, size_t len)
{
	char *s = wa_base64_encode(buf, len);
	json_t *o;

	if (!s)
		return NULL;
	o = json_pack("{s:s,s:s}", "type", "Buffer", "data", s);
	free(s);
	return o;
}
