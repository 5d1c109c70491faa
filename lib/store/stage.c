/*
 * stage.c - sweep leftover temporary files from the staging folder
 * (stage.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "store/durable.h"
#include "base/err.h"
#include "store/scan.h"
#include "store/stage.h"

int
wa_stage_sweep(int stagefd, size_t *removed)
{
	struct wa_scan *s = NULL;
	size_t i, n = 0;
	int rc = 0, saved = 0;

	if (removed)
		*removed = 0;
	if ((rc = wa_scan_dir(&s, stagefd)) < 0)
		return rc;
	for (i = 0; i < s->n; i++) {
		if (s->e[i].kind != WA_SCAN_FILE ||
		    strncmp(s->e[i].name, WA_DURABLE_TMP_PREFIX, sizeof WA_DURABLE_TMP_PREFIX - 1) != 0)
			continue;
		if (unlinkat(stagefd, s->e[i].name, 0) == 0) {
			n++;
		} else if (errno != ENOENT && !saved) {
			saved = errno;
			rc = WA_ESYS;
		}
	}
	wa_scan_free(s);
	if (removed)
		*removed = n;
	if (rc < 0)
		errno = saved;
	return rc;
}
