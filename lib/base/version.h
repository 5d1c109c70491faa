/* version.h - wa's version, shown by the tools and recorded in backups. */
#ifndef WA_VERSION_H
#define WA_VERSION_H

#define WA_VERSION "0.1.0"

#endif
