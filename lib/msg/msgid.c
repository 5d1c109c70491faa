/*
 * msgid.c - message ids (msgid.h), byte for byte Baileys'
 * generateMessageIDV2: a fixed 44-byte buffer, the user written from
 * offset 8 and "@c.us" after it, then the random bytes copied over
 * offsets 28..43 (so a long user is cut at 20 bytes).
 */
#include <stdio.h>
#include <string.h>
#include <openssl/evp.h>

#include "base/compat.h"
#include "base/err.h"
#include "msg/msgid.h"

int
wa_msg_new_id(char out[WA_MSG_ID_MAX], const char *me_user, int64_t now_s)
{
	unsigned char data[8 + 20 + 16] = { 0 }, md[EVP_MAX_MD_SIZE];
	char user[8 + 20 + 16 + 8];
	unsigned int mdlen = 0;
	size_t i, n;
	int rc;

	out[0] = 0;
	for (i = 0; i < 8; i++)
		data[i] = (unsigned char)((uint64_t)now_s >> (56 - 8 * i));
	if (me_user && *me_user) {
		n = (size_t)snprintf(user, sizeof user, "%s@c.us", me_user);
		if (n > sizeof data - 8)
			n = sizeof data - 8;
		memcpy(data + 8, user, n);
	}
	if (wa_compat_random(data + 28, 16) < 0)
		return WA_ESYS;
	rc = EVP_Digest(data, sizeof data, md, &mdlen, EVP_sha256(), NULL);
	if (rc != 1 || mdlen < 9)
		return WA_ENOMEM;
	memcpy(out, "3EB0", 4);
	for (i = 0; i < 9; i++)
		snprintf(out + 4 + 2 * i, 3, "%02X", md[i]);
	return 0;
}
