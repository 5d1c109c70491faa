/*
 * clientpayload.c - build the handshake's ClientPayload as Baileys 7 rc14
 * does (validate-connection.js: getUserAgent, getWebInfo,
 * getClientPayload, generateLoginNode, generateRegistrationNode).
 *
 * Baileys' choices mirrored here, quirks included:
 *  - userAgent.platform ANDROID if browser[1] contains "android" (any
 *    case), else WEB; webInfo left out entirely for the android case;
 *  - webInfo.webSubPlatform DARWIN / WIN32 only with sync_full_history,
 *    browser[0] "Mac OS" / "Windows" and browser[1] exactly "Desktop";
 *  - DeviceProps.platformType = PlatformType[upper(browser[1])], "ANDROID"
 *    -> ANDROID_PHONE, unknown names and UNKNOWN (0, falsy in JS) ->
 *    CHROME;
 *  - every field Baileys sets to a value (also false / 0) is sent, fields
 *    it leaves undefined are not.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "wire/clientpayload.h"
#include "clientpayload.pb-c.h"

void
wa_client_config_default(struct wa_client_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->version[0] = 2;
	cfg->version[1] = 3000;
	cfg->version[2] = 1043857760;
	cfg->browser[0] = "Mac OS";
	cfg->browser[1] = "Chrome";
	cfg->browser[2] = "14.4.1";
	cfg->country = "US";
	cfg->sync_full_history = 1;
}

static int
has_android(const char *s)
{
	static const char w[] = "android";
	size_t i, n = strlen(s);

	for (i = 0; i + 7 <= n; i++) {
		size_t j;
		for (j = 0; j < 7 && tolower((unsigned char)s[i + j]) == w[j]; j++)
			;
		if (j == 7)
			return 1;
	}
	return 0;
}

/* The parts every payload shares (getClientPayload). */
struct common {
	Wa__ClientPayload__UserAgent ua;
	Wa__ClientPayload__UserAgent__AppVersion av;
	Wa__ClientPayload__WebInfo wi;
};

static void
common_init(Wa__ClientPayload *p, struct common *c, const struct wa_client_config *cfg)
{
	int android = has_android(cfg->browser[1]);

	wa__client_payload__user_agent__init(&c->ua);
	wa__client_payload__user_agent__app_version__init(&c->av);
	wa__client_payload__web_info__init(&c->wi);

	c->av.has_primary = c->av.has_secondary = c->av.has_tertiary = 1;
	c->av.primary = cfg->version[0];
	c->av.secondary = cfg->version[1];
	c->av.tertiary = cfg->version[2];
	c->ua.appversion = &c->av;
	c->ua.has_platform = 1;
	c->ua.platform = android ? WA__CLIENT_PAYLOAD__USER_AGENT__PLATFORM__ANDROID
				 : WA__CLIENT_PAYLOAD__USER_AGENT__PLATFORM__WEB;
	c->ua.has_releasechannel = 1;
	c->ua.releasechannel = WA__CLIENT_PAYLOAD__USER_AGENT__RELEASE_CHANNEL__RELEASE;
	c->ua.osversion = (char *)"0.1";
	c->ua.device = (char *)"Desktop";
	c->ua.osbuildnumber = (char *)"0.1";
	c->ua.localelanguageiso6391 = (char *)"en";
	c->ua.mnc = (char *)"000";
	c->ua.mcc = (char *)"000";
	c->ua.localecountryiso31661alpha2 = (char *)(cfg->country ? cfg->country : "US");

	p->useragent = &c->ua;
	p->has_connecttype = 1;
	p->connecttype = WA__CLIENT_PAYLOAD__CONNECT_TYPE__WIFI_UNKNOWN;
	p->has_connectreason = 1;
	p->connectreason = WA__CLIENT_PAYLOAD__CONNECT_REASON__USER_ACTIVATED;
	if (!android) {
		c->wi.has_websubplatform = 1;
		c->wi.websubplatform = WA__CLIENT_PAYLOAD__WEB_INFO__WEB_SUB_PLATFORM__WEB_BROWSER;
		if (cfg->sync_full_history && strcmp(cfg->browser[1], "Desktop") == 0) {
			if (strcmp(cfg->browser[0], "Mac OS") == 0)
				c->wi.websubplatform = WA__CLIENT_PAYLOAD__WEB_INFO__WEB_SUB_PLATFORM__DARWIN;
			else if (strcmp(cfg->browser[0], "Windows") == 0)
				c->wi.websubplatform = WA__CLIENT_PAYLOAD__WEB_INFO__WEB_SUB_PLATFORM__WIN32;
		}
		p->webinfo = &c->wi;
	}
	if (cfg->push_name)
		p->pushname = (char *)cfg->push_name;
}

static int
pack(unsigned char **out, size_t *outlen, const Wa__ClientPayload *p)
{
	size_t n = wa__client_payload__get_packed_size(p);
	unsigned char *b = malloc(n ? n : 1);

	if (!b)
		return WA_ENOMEM;
	wa__client_payload__pack(p, b);
	*out = b;
	*outlen = n;
	return 0;
}

int
wa_clientpayload_login(unsigned char **out, size_t *outlen, const struct wa_client_config *cfg,
    const char *me, struct wa_why *why)
{
	Wa__ClientPayload p = WA__CLIENT_PAYLOAD__INIT;
	struct common c;
	const char *at, *colon, *s;
	unsigned long long user = 0;
	unsigned long dev = 0;
	size_t ulen;

	*out = NULL;
	*outlen = 0;
	/* digits[:device]@s.whatsapp.net (Baileys' me.id is a PN device JID) */
	at = strchr(me, '@');
	if (!at || strcmp(at + 1, "s.whatsapp.net") != 0)
		return wa_why_set(why, WA_EINVAL, "me id '%s' is not a phone-number JID", me);
	colon = memchr(me, ':', (size_t)(at - me));
	ulen = (size_t)((colon ? colon : at) - me);
	if (ulen == 0 || ulen > 19)
		return wa_why_set(why, WA_EINVAL, "me id '%s' has no phone number", me);
	for (s = me; s < me + ulen; s++) {
		if (!isdigit((unsigned char)*s))
			return wa_why_set(why, WA_EINVAL, "me id '%s' has no phone number", me);
		user = user * 10 + (unsigned)(*s - '0');
	}
	if (colon) {
		if (colon + 1 == at || at - colon - 1 > 5)
			return wa_why_set(why, WA_EINVAL, "me id '%s' has a bad device", me);
		for (s = colon + 1; s < at; s++) {
			if (!isdigit((unsigned char)*s))
				return wa_why_set(why, WA_EINVAL, "me id '%s' has a bad device", me);
			dev = dev * 10 + (unsigned)(*s - '0');
		}
		if (dev > 65535)
			return wa_why_set(why, WA_EINVAL, "me id '%s' has a bad device", me);
	}

	common_init(&p, &c, cfg);
	p.has_passive = 1;
	p.passive = 1;
	p.has_pull = 1;
	p.pull = 1;
	p.has_username = 1;
	p.username = user;
	if (colon) {
		p.has_device = 1;
		p.device = (uint32_t)dev;
	}
	p.has_liddbmigrated = 1;
	p.liddbmigrated = 0;
	return pack(out, outlen, &p);
}

static int
md5_version(unsigned char out[16], const uint32_t v[3])
{
	char s[64];
	unsigned int n = 16;
	int len = snprintf(s, sizeof(s), "%u.%u.%u", v[0], v[1], v[2]);

	return EVP_Digest(s, (size_t)len, out, &n, EVP_md5(), NULL) == 1 ? 0 : WA_ESYS;
}

static int
platform_type(const char *name)
{
	char up[64];
	size_t i;
	const ProtobufCEnumValue *v;

	for (i = 0; name[i] && i < sizeof(up) - 1; i++)
		up[i] = (char)toupper((unsigned char)name[i]);
	up[i] = 0;
	if (strcmp(up, "ANDROID") == 0)
		return WA__DEVICE_PROPS__PLATFORM_TYPE__ANDROID_PHONE;
	v = protobuf_c_enum_descriptor_get_value_by_name(&wa__device_props__platform_type__descriptor, up);
	if (!name[i] && v && v->value != 0)
		return v->value;
	return WA__DEVICE_PROPS__PLATFORM_TYPE__CHROME;
}

int
wa_clientpayload_register(unsigned char **out, size_t *outlen,
    const struct wa_client_config *cfg, const struct wa_registration *reg, struct wa_why *why)
{
	Wa__ClientPayload p = WA__CLIENT_PAYLOAD__INIT;
	Wa__ClientPayload__DevicePairingRegistrationData d =
	    WA__CLIENT_PAYLOAD__DEVICE_PAIRING_REGISTRATION_DATA__INIT;
	Wa__DeviceProps dp = WA__DEVICE_PROPS__INIT;
	Wa__DeviceProps__AppVersion dv = WA__DEVICE_PROPS__APP_VERSION__INIT;
	Wa__DeviceProps__HistorySyncConfig hs = WA__DEVICE_PROPS__HISTORY_SYNC_CONFIG__INIT;
	struct common c;
	unsigned char hash[16], regid[4], keytype = 5, skeyid[3], *props;
	size_t propslen;
	int rc;

	*out = NULL;
	*outlen = 0;
	if ((rc = md5_version(hash, cfg->version)) < 0)
		return wa_why_set(why, rc, "cannot hash the version");

	dp.os = (char *)cfg->browser[0];
	dp.has_platformtype = 1;
	dp.platformtype = platform_type(cfg->browser[1]);
	dp.has_requirefullsync = 1;
	dp.requirefullsync = cfg->sync_full_history ? 1 : 0;
	hs.has_storagequotamb = 1;
	hs.storagequotamb = 10240;
	hs.has_inlineinitialpayloadine2eemsg = 1;
	hs.inlineinitialpayloadine2eemsg = 1;
	hs.has_supportcallloghistory = 1;
	hs.supportcallloghistory = 0;
	hs.has_supportbotuseragentchathistory = 1;
	hs.supportbotuseragentchathistory = 1;
	hs.has_supportcagreactionsandpolls = 1;
	hs.supportcagreactionsandpolls = 1;
	hs.has_supportbizhostedmsg = 1;
	hs.supportbizhostedmsg = 1;
	hs.has_supportrecentsyncchunkmessagecounttuning = 1;
	hs.supportrecentsyncchunkmessagecounttuning = 1;
	hs.has_supporthostedgroupmsg = 1;
	hs.supporthostedgroupmsg = 1;
	hs.has_supportfbidbotchathistory = 1;
	hs.supportfbidbotchathistory = 1;
	hs.has_supportmessageassociation = 1;
	hs.supportmessageassociation = 1;
	hs.has_supportgrouphistory = 1;
	hs.supportgrouphistory = 0;
	dp.historysyncconfig = &hs;
	dv.has_primary = dv.has_secondary = dv.has_tertiary = 1;
	dv.primary = 10;
	dv.secondary = 15;
	dv.tertiary = 7;
	dp.version = &dv;
	propslen = wa__device_props__get_packed_size(&dp);
	props = malloc(propslen ? propslen : 1);
	if (!props)
		return WA_ENOMEM;
	wa__device_props__pack(&dp, props);

	regid[0] = (unsigned char)(reg->registration_id >> 24);
	regid[1] = (unsigned char)(reg->registration_id >> 16);
	regid[2] = (unsigned char)(reg->registration_id >> 8);
	regid[3] = (unsigned char)reg->registration_id;
	skeyid[0] = (unsigned char)(reg->signed_prekey_id >> 16);
	skeyid[1] = (unsigned char)(reg->signed_prekey_id >> 8);
	skeyid[2] = (unsigned char)reg->signed_prekey_id;
#define BYTES(f, p_, n_) do { d.has_##f = 1; d.f.data = (uint8_t *)(p_); d.f.len = (n_); } while (0)
	BYTES(buildhash, hash, 16);
	BYTES(deviceprops, props, propslen);
	BYTES(eregid, regid, 4);
	BYTES(ekeytype, &keytype, 1);
	BYTES(eident, reg->identity_pub, 32);
	BYTES(eskeyid, skeyid, 3);
	BYTES(eskeyval, reg->signed_prekey_pub, 32);
	BYTES(eskeysig, reg->signed_prekey_sig, 64);
#undef BYTES

	common_init(&p, &c, cfg);
	p.has_passive = 1;
	p.passive = 0;
	p.has_pull = 1;
	p.pull = 0;
	p.devicepairingdata = &d;
	rc = pack(out, outlen, &p);
	free(props);
	return rc;
}
