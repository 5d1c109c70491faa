/*
 * wa-mkcreds - test helper: a fresh, unpaired auth folder made by wa's own
 * code (credsgen.h), the way wa-pair starts one.
 *
 *	wa-mkcreds [-p N] DIR
 *
 * Creates DIR if needed and writes N pre-keys (default 0) as
 * pre-key-1.json .. pre-key-N.json, then creds.json with nextPreKeyId
 * N + 1 (firstUnuploadedPreKeyId stays 1: nothing was uploaded), all
 * through wa_authdir_put, compact JSON as Baileys writes it.  Refuses a
 * folder that already has creds.json.  Exit 0, 1 on failure, 2 usage.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/authdir.h"
#include "crypto/credsgen.h"
#include "store/fname.h"

static int
put_json(struct wa_authdir *ad, const char *name, const json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT);
	int rc;

	if (!s)
		return WA_ENOMEM;
	rc = wa_authdir_put(ad, name, s, strlen(s));
	free(s);
	return rc;
}

int
main(int argc, char **argv)
{
	struct wa_authdir *ad = NULL;
	struct wa_why why = { "" };
	json_t *creds = NULL, *pk = NULL, *v;
	const char *id;
	char name[64];
	long n = 0;
	int c, rc;

	while ((c = getopt(argc, argv, "p:")) != -1) {
		if (c == 'p')
			n = strtol(optarg, NULL, 10);
		else
			goto usage;
	}
	if (optind != argc - 1 || n < 0 || n > 5000)
		goto usage;
	if ((rc = wa_authdir_open(&ad, argv[optind], WA_AUTHDIR_WRITE | WA_AUTHDIR_CREATE, "wa-mkcreds",
	    NULL, &why)) < 0) {
		fprintf(stderr, "wa-mkcreds: %s\n", why.text[0] ? why.text : wa_strerror(rc));
		return 1;
	}
	if (faccessat(ad->fd, "creds.json", F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		fprintf(stderr, "wa-mkcreds: '%s/creds.json' exists\n", argv[optind]);
		goto fail;
	}
	if ((rc = wa_creds_generate(&creds)) < 0)
		goto err;
	if (n > 0) {
		if ((rc = wa_prekeys_generate(&pk, 1, (uint32_t)n)) < 0)
			goto err;
		json_object_foreach(pk, id, v) {
			if ((rc = wa_fname_make(name, sizeof name, WA_FT_PRE_KEY, id)) < 0 ||
			    (rc = put_json(ad, name, v)) < 0)
				goto err;
		}
		json_object_set_new(creds, "nextPreKeyId", json_integer(n + 1));
	}
	if ((rc = put_json(ad, "creds.json", creds)) < 0)
		goto err;
	json_decref(pk);
	json_decref(creds);
	wa_authdir_close(ad);
	return 0;
err:
	fprintf(stderr, "wa-mkcreds: %s: %s\n", argv[optind], wa_strerror(rc));
fail:
	json_decref(pk);
	json_decref(creds);
	wa_authdir_close(ad);
	return 1;
usage:
	fputs("usage: wa-mkcreds [-p N] DIR\n", stderr);
	return 2;
}
