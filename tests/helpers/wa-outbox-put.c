/*
 * wa-outbox-put - write outbox jobs with the outbox API, for the sending
 * tests (33xx) while they do not go through wa-send.
 *
 *	wa-outbox-put OUTDIR < jobs     one JSON object per line
 *
 * Each job gets "v":1, "created_ms" and, when it has none, a fresh "id"
 * (wa_msg_new_id); it is put durably into OUTDIR/new/ (made when
 * missing).  Prints the id of each job, one per line; "error <reason>"
 * for a job the outbox refuses.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "msg/msgid.h"
#include "spool/outbox.h"

int
main(int argc, char **argv)
{
	struct wa_outbox *ob;
	struct wa_why why = WA_WHY_INIT;
	char line[1 << 17];
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: wa-outbox-put OUTDIR < jobs\n");
		return 64;
	}
	if ((rc = wa_outbox_open(&ob, argv[1], WA_OUTBOX_CREATE, WA_OUTBOX_KEEP_DAYS, &why)) < 0) {
		fprintf(stderr, "wa-outbox-put: %s\n", wa_why_text(&why, rc));
		return 1;
	}
	while (fgets(line, sizeof line, stdin)) {
		json_t *job = json_loads(line, 0, NULL);
		char id[WA_MSG_ID_MAX];
		struct timespec ts;

		if (!job) {
			printf("error bad json\n");
			continue;
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		json_object_set_new(job, "v", json_integer(1));
		json_object_set_new(job, "created_ms", json_integer((json_int_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000));
		if (!json_object_get(job, "id")) {
			if (wa_msg_new_id(id, "", ts.tv_sec) < 0)
				return 1;
			json_object_set_new(job, "id", json_string(id));
		}
		if ((rc = wa_outbox_put(ob, job, NULL, &why)) < 0)
			printf("error %s\n", wa_why_text(&why, rc));
		else
			printf("%s\n", json_string_value(json_object_get(job, "id")));
		fflush(stdout);
		json_decref(job);
	}
	wa_outbox_free(ob);
	return 0;
}
