/*
 * file.h - read files from inside a folder, safely.
 *
 * Opens relative to a folder descriptor with O_NOFOLLOW|O_NONBLOCK, accepts
 * only regular files, caps the size, and says what is wrong in why:
 * "'DIR/NAME': is a symbolic link", "...: empty file",
 * "...: byte 812: unexpected end of input" (why uses the display prefix
 * given, normally the folder path).
 */
#ifndef WA_FILE_H
#define WA_FILE_H

#include <stddef.h>
#include <jansson.h>

#include "base/err.h"

#define WA_FILE_MAX (64u << 20)   /* no auth file is anywhere near this */

/* Read the whole file into a NUL-terminated buffer (*len excludes the NUL).
 * WA_ENOTFOUND, WA_EUNSAFE (symlink, not a regular file), WA_ETOOBIG,
 * WA_ESYS (errno: EACCES, EIO ...), WA_ENOMEM.  Caller frees *out. */
int wa_file_read(char **out, size_t *len, int dirfd, const char *name,
    const char *dirshow, struct wa_why *why);

/* Parse a JSON document held in buf.  WA_ECORRUPT for an empty buffer or a
 * parse error (why: byte offset and reason).  Any JSON value is accepted at
 * the top level (lid-mapping files hold a bare string).  Caller json_decref()s. */
int wa_json_parse(json_t **out, const char *buf, size_t len, const char *show, struct wa_why *why);

/* wa_file_read + wa_json_parse. */
int wa_json_read(json_t **out, int dirfd, const char *name, const char *dirshow, struct wa_why *why);

#endif
