/*
 * wa-outbox-tool - lib/spool/outbox.h from the shell, for the tests.
 *
 *	wa-outbox-tool put DIR JSON...     put jobs (in this order, one process);
 *	                                   prints their file names
 *	wa-outbox-tool status DIR JSON     write a status file, as the runner
 *	                                   (takes the outbox lock for it)
 *	wa-outbox-tool find DIR ID         print the job with that id
 *	wa-outbox-tool queued DIR          print the names in new/, in order
 *	wa-outbox-tool load DIR NAME       print the checked job new/NAME or
 *	                                   cur/NAME, or the reason it is refused
 *	wa-outbox-tool finish DIR NAME     move new/NAME to cur/ (runner)
 *
 * Exit 0, or 1 with the reason on stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "spool/outbox.h"

static int
fail(const struct wa_why *why, int rc)
{
	fprintf(stderr, "wa-outbox-tool: %s\n", wa_why_text(why, rc));
	return 1;
}

static json_t *
parse(const char *s)
{
	json_error_t e;
	json_t *j = json_loads(s, 0, &e);

	if (!j)
		fprintf(stderr, "wa-outbox-tool: not JSON: %s\n", e.text);
	return j;
}

static int
print(json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);

	if (!s)
		return 1;
	printf("%s\n", s);
	free(s);
	return 0;
}

int
main(int argc, char **argv)
{
	struct wa_why why = WA_WHY_INIT;
	struct wa_outbox *ob;
	char name[WA_OUTBOX_NAME_MAX], **names;
	const char *cmd;
	size_t n, i;
	json_t *j;
	int rc, flags;

	if (argc < 3) {
		fprintf(stderr, "usage: wa-outbox-tool put|status|find|queued|load|finish DIR [ARG]\n");
		return 2;
	}
	cmd = argv[1];
	flags = strcmp(cmd, "status") == 0 || strcmp(cmd, "finish") == 0 ? WA_OUTBOX_RUNNER : 0;
	if (strcmp(cmd, "put") == 0 || strcmp(cmd, "status") == 0)
		flags |= WA_OUTBOX_CREATE;
	if (strcmp(cmd, "queued") != 0 && argc < 4) {
		fprintf(stderr, "wa-outbox-tool: %s needs an argument\n", cmd);
		return 2;
	}
	if ((rc = wa_outbox_open(&ob, argv[2], flags, WA_OUTBOX_KEEP_DAYS, &why)) < 0)
		return fail(&why, rc);
	if (strcmp(cmd, "put") == 0) {
		for (i = 3; i < (size_t)argc; i++) {
			if (!(j = parse(argv[i])))
				return 1;
			if ((rc = wa_outbox_put(ob, j, name, &why)) < 0)
				return fail(&why, rc);
			printf("%s\n", name);
			json_decref(j);
		}
		j = NULL;
	} else if (strcmp(cmd, "status") == 0) {
		if (!(j = parse(argv[3])))
			return 1;
		if ((rc = wa_outbox_status_write(ob, j, &why)) < 0)
			return fail(&why, rc);
	} else if (strcmp(cmd, "find") == 0) {
		if ((rc = wa_outbox_find(ob, argv[3], &j)) < 0)
			return fail(&why, rc);
		print(j);
	} else if (strcmp(cmd, "queued") == 0) {
		if ((rc = wa_outbox_queued(ob, &names, &n, &why)) < 0)
			return fail(&why, rc);
		for (i = 0; i < n; i++)
			printf("%s\n", names[i]);
		wa_outbox_names_free(names, n);
		j = NULL;
	} else if (strcmp(cmd, "load") == 0) {
		if ((rc = wa_outbox_load(ob, argv[3], &j, &why)) < 0)
			return fail(&why, rc);
		print(j);
	} else if (strcmp(cmd, "finish") == 0) {
		if ((rc = wa_outbox_finish(ob, argv[3], &why)) < 0)
			return fail(&why, rc);
		j = NULL;
	} else {
		fprintf(stderr, "wa-outbox-tool: unknown command '%s'\n", cmd);
		return 2;
	}
	json_decref(j);
	wa_outbox_free(ob);
	return 0;
}
