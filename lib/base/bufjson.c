#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "base/bufjson.h"
#include "base/err.h"

int
wa_base64_decode(uint8_t **out, size_t *len, const char *s, size_t n)
{
	char *norm;
	size_t i, m = 0, pad = 0;
	uint8_t *buf;
	int got;

	*out = NULL;
	*len = 0;
	if (!(norm = malloc(n + 4)))
		return WA_ENOMEM;
	for (i = 0; i < n; i++) {
		char c = s[i];
		if (c == '-')
			c = '+';
		else if (c == '_')
			c = '/';
		else if (c == '=')
			break;
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/')) {
			free(norm);
			return WA_ECORRUPT;
		}
		norm[m++] = c;
	}
	for (; i < n; i++)
		if (s[i] != '=') {
			free(norm);
			return WA_ECORRUPT;
		}
	if (m % 4 == 1) {
		free(norm);
		return WA_ECORRUPT;
	}
	while (m % 4)
		norm[m++] = '=';
	if (m >= 1 && norm[m - 1] == '=')
		pad++;
	if (m >= 2 && norm[m - 2] == '=')
		pad++;
	if (!(buf = malloc(m / 4 * 3 + 1))) {
		free(norm);
		return WA_ENOMEM;
	}
	got = m ? EVP_DecodeBlock(buf, (unsigned char *)norm, (int)m) : 0;
	free(norm);
	if (got < 0) {
		free(buf);
		return WA_ECORRUPT;
	}
	*out = buf;
	*len = (size_t)got - pad;
	return 0;
}

char *
wa_base64_encode(const uint8_t *buf, size_t len)
{
	char *s = malloc((len + 2) / 3 * 4 + 1);

	if (!s)
		return NULL;
	EVP_EncodeBlock((unsigned char *)s, buf, (int)len);
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
