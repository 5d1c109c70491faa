/*
 * retry.c - the durable retry table (retry.h).
 *
 * One small JSON object in the auth folder's .wa/, loaded once, changed
 * in memory, and written whole by the durable write when the receive path
 * commits a batch that changed it (before the batch's retry receipts
 * leave).  It holds only the messages being repaired, so it stays small;
 * entries past the server's 14 days go at open.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/file.h"
#include "session/retry.h"
#include "store/durable.h"

#define KEEP_MS (14LL * 86400 * 1000)

struct wa_retries {
	int wafd, stagefd;
	json_t *tab;
	int dirty;
};

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
wa_retries_open(struct wa_retries **out, int wafd, int stagefd, struct wa_why *why)
{
	struct wa_retries *t;
	struct wa_why w = WA_WHY_INIT;
	json_t *doc = NULL, *v;
	const char *k;
	void *tmp;
	int rc;

	*out = NULL;
	if (!(t = calloc(1, sizeof *t)))
		return WA_ENOMEM;
	t->wafd = wafd;
	t->stagefd = stagefd;
	rc = wa_json_read(&doc, wafd, WA_RETRIES_FILE, ".wa", &w);
	if (rc == 0 && !json_is_object(doc)) {
		json_decref(doc);
		doc = NULL;
		rc = WA_ECORRUPT;
		snprintf(w.text, sizeof w.text, "not a JSON object");
	}
	if (rc < 0 && rc != WA_ENOTFOUND) {
		char aside[64];
		snprintf(aside, sizeof aside, "%s.corrupt-%lld", WA_RETRIES_FILE, now_ms());
		(void)wa_durable_move(wafd, WA_RETRIES_FILE, wafd, aside);
		wa_why_set(why, 0, "'.wa/%s' unreadable (%s): moved to '.wa/%s', retry counts start afresh",
		    WA_RETRIES_FILE, w.text, aside);
	}
	if (!doc && !(doc = json_object())) {
		free(t);
		return WA_ENOMEM;
	}
	json_object_foreach_safe(doc, tmp, k, v) {
		json_t *last = json_object_get(v, "last");
		if (!json_is_object(v) || !json_is_integer(last) || now_ms() - json_integer_value(last) > KEEP_MS) {
			json_object_del(doc, k);
			t->dirty = 1;
		}
	}
	t->tab = doc;
	*out = t;
	return 0;
}

void
wa_retries_free(struct wa_retries *t)
{
	if (!t)
		return;
	json_decref(t->tab);
	free(t);
}

json_t *
wa_retries_get(struct wa_retries *t, const char *key)
{
	return json_object_get(t->tab, key);
}

int
wa_retries_put(struct wa_retries *t, const char *key, json_t *entry)
{
	t->dirty = 1;
	if (!entry) {
		json_object_del(t->tab, key);
		return 0;
	}
	return json_object_set_new(t->tab, key, entry) < 0 ? WA_ENOMEM : 0;
}

const json_t *
wa_retries_all(const struct wa_retries *t)
{
	return t->tab;
}

size_t
wa_retries_count(const struct wa_retries *t)
{
	return json_object_size(t->tab);
}

int
wa_retries_save(struct wa_retries *t, struct wa_why *why)
{
	char *text;
	int rc;

	if (!t->dirty)
		return 0;
	if (!(text = json_dumps(t->tab, JSON_COMPACT)))
		return wa_why_set(why, WA_ENOMEM, "%s", wa_strerror(WA_ENOMEM));
	rc = wa_durable_put(t->wafd, WA_RETRIES_FILE, t->stagefd, text, strlen(text));
	free(text);
	if (rc < 0)
		return wa_why_set(why, rc, "'.wa/%s': %s", WA_RETRIES_FILE, wa_strerror(rc));
	t->dirty = 0;
	return 0;
}
