/*
 * t-clientpayload.c - login and registration payloads equal Baileys' bytes
 * for the same inputs (payload-vectors.h from
 * tests/fakewa/payload-vectors.mjs), and bad me ids are refused.
 */
#include <stdlib.h>
#include <string.h>

#include "wire/clientpayload.h"
#include "base/err.h"
#include "tap.h"
#include "payload-vectors.h"

static void
show(const char *what, const unsigned char *b, size_t n)
{
	size_t i;

	printf("#   %s (%zu):", what, n);
	for (i = 0; i < n; i++)
		printf("%s%02x", i % 32 ? "" : "\n#     ", b[i]);
	printf("\n");
}

int
main(void)
{
	size_t i;
	unsigned char *out;
	size_t len;
	struct wa_client_config def;
	struct wa_why why;
	static const char *bad[] = {
		"15550001111:7@lid", "abc:1@s.whatsapp.net", ":1@s.whatsapp.net", "1555:@s.whatsapp.net",
		"1555:x@s.whatsapp.net", "1555:70000@s.whatsapp.net", "15550001111", "",
		"12345678901234567890@s.whatsapp.net", "1555:1@s.whatsapp.net.evil",
	};

	wa_client_config_default(&def);
	ok(def.version[0] == login_vectors[0].cfg.version[0] &&
	    def.version[1] == login_vectors[0].cfg.version[1] &&
	    def.version[2] == login_vectors[0].cfg.version[2] &&
	    strcmp(def.browser[0], login_vectors[0].cfg.browser[0]) == 0 &&
	    strcmp(def.browser[1], login_vectors[0].cfg.browser[1]) == 0 &&
	    strcmp(def.country, "US") == 0 && def.sync_full_history == 1 && !def.push_name,
	    "the default configuration is Baileys' default");

	for (i = 0; i < sizeof(login_vectors) / sizeof(login_vectors[0]); i++) {
		const struct login_vector *v = &login_vectors[i];
		int rc = wa_clientpayload_login(&out, &len, &v->cfg, v->me, &why);
		if (!ok(rc == 0 && len == v->len && memcmp(out, v->bytes, len) == 0,
		    "login %s (%s, %s): Baileys' bytes", v->me, v->cfg.browser[0], v->cfg.browser[1])) {
			show("got", out, rc == 0 ? len : 0);
			show("want", v->bytes, v->len);
		}
		free(out);
	}
	for (i = 0; i < sizeof(reg_vectors) / sizeof(reg_vectors[0]); i++) {
		const struct reg_vector *v = &reg_vectors[i];
		int rc = wa_clientpayload_register(&out, &len, &v->cfg, &v->reg, &why);
		if (!ok(rc == 0 && len == v->len && memcmp(out, v->bytes, len) == 0,
		    "registration %u (%s, %s, sync %d): Baileys' bytes", v->reg.registration_id,
		    v->cfg.browser[0], v->cfg.browser[1], v->cfg.sync_full_history)) {
			show("got", out, rc == 0 ? len : 0);
			show("want", v->bytes, v->len);
		}
		free(out);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		out = (unsigned char *)"x";
		is_int(wa_clientpayload_login(&out, &len, &def, bad[i], &why), WA_EINVAL,
		    "login refuses me id '%s'", bad[i]);
		ok(out == NULL, "and returns nothing");
	}
	done_testing();
	return exit_status();
}
