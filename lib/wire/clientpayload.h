/*
 * clientpayload.h - the ClientPayload sent in the handshake's ClientFinish
 * (wa-protocol(7) §3): login for a paired device, registration for a new one.
 *
 * The bytes are what Baileys 7 rc14 sends for the same inputs
 * (generateLoginNode / generateRegistrationNode in validate-connection.js),
 * byte for byte (tests/unit/t-clientpayload.c, vectors from
 * tests/fakewa/payload-vectors.mjs), so the server sees one more Baileys
 * client.  wa_client_config_default gives Baileys' default configuration.
 */
#ifndef WA_CLIENTPAYLOAD_H
#define WA_CLIENTPAYLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

struct wa_client_config {
	uint32_t version[3];	/* WA Web version: 2.3000.1043857760 */
	const char *browser[3];	/* "Mac OS", "Chrome", "14.4.1" */
	const char *country;	/* localeCountryIso31661Alpha2: "US" */
	const char *push_name;	/* NULL: not sent */
	int sync_full_history;	/* DeviceProps.requireFullSync: 1 */
};

void wa_client_config_default(struct wa_client_config *cfg);

/* What registration announces; all public.  The signature is the identity
 * key's XEdDSA signature of 0x05 || signed_prekey_pub. */
struct wa_registration {
	uint32_t registration_id;
	unsigned char identity_pub[32];
	uint32_t signed_prekey_id;	/* sent as 3 bytes BE */
	unsigned char signed_prekey_pub[32];
	unsigned char signed_prekey_sig[64];
};

/* Login payload for the paired device me ("15550001111:7@s.whatsapp.net",
 * creds.me.id): username = the user as a number, device = the :N part
 * (left out when absent), passive, pull, lidDbMigrated false.  *out is
 * malloc'd, the caller frees it.  WA_EINVAL (me is not a phone-number
 * device JID), WA_ENOMEM. */
int wa_clientpayload_login(unsigned char **out, size_t *outlen, const struct wa_client_config *cfg,
    const char *me, struct wa_why *why);

/* Registration payload: passive and pull false, devicePairingData from reg
 * and DeviceProps from cfg.  WA_ENOMEM. */
int wa_clientpayload_register(unsigned char **out, size_t *outlen,
    const struct wa_client_config *cfg, const struct wa_registration *reg, struct wa_why *why);

#endif
