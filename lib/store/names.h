/*
 * names.h - every on-disk name wa uses, in one place.
 *
 * The auth folder is the Baileys multi-file layout (creds.json and
 * <type>-<id>.json); see wa-authdir(5).  wa keeps its own files in one
 * hidden sub-folder so Baileys sees only its own.
 */
#ifndef WA_NAMES_H
#define WA_NAMES_H

#define WA_CREDS        "creds.json"
#define WA_SUBDIR       ".wa"           /* wa's own files */
#define WA_LOCK         "lock"          /* in WA_SUBDIR: flock'd by the one writer */
#define WA_STAGE        "tmp"           /* in WA_SUBDIR: temporary files before rename */
#define WA_QUARANTINE   "quarantine"    /* in WA_SUBDIR: what prune moved away */
#define WA_STATUS       "status.json"   /* in WA_SUBDIR: wa-run's state */
#define WA_EVENTS       "events.jsonl"  /* in WA_SUBDIR: event history */
#define WA_MANIFEST     "wa-manifest.json" /* first member of a backup archive */
#define WA_BACKUP_SUFFIX ".backups"     /* default backups folder: <auth folder>.backups */
#define WA_INBOX_SUFFIX ".inbox"        /* default inbox spool: <auth folder>.inbox (wa-message(5)) */
#define WA_OUTBOX_SUFFIX ".outbox"      /* default outbox: <auth folder>.outbox (wa-message(5)) */

#endif
