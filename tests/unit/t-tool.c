/*
 * t-tool.c - the commands' shared parsing (cmd/tool.c): tool_duration's
 * units, malformed input, and values whose seconds do not fit a long
 * (refused with TOOL_TOOBIG, never wrapped).
 */
#include <limits.h>
#include <stdio.h>

#include "tool.h"
#include "tap.h"

int
main(void)
{
	char buf[64];

	is_int(tool_duration("30"), 30, "30 is 30 s");
	is_int(tool_duration("30s"), 30, "30s");
	is_int(tool_duration("5m"), 300, "5m");
	is_int(tool_duration("2h"), 7200, "2h");
	is_int(tool_duration("1d"), 86400, "1d");
	is_int(tool_duration("0"), 0, "0");
	is_int(tool_duration(""), -1, "empty: malformed");
	is_int(tool_duration("-1"), -1, "negative: malformed");
	is_int(tool_duration("5y"), -1, "unknown unit: malformed");
	is_int(tool_duration("5mm"), -1, "two units: malformed");
	is_int(tool_duration("m"), -1, "a unit alone: malformed");

	/* the largest that fit, and one more */
	snprintf(buf, sizeof buf, "%ldd", LONG_MAX / 86400);
	is_int(tool_duration(buf), LONG_MAX / 86400 * 86400, "%s fits", buf);
	snprintf(buf, sizeof buf, "%ldd", LONG_MAX / 86400 + 1);
	is_int(tool_duration(buf), TOOL_TOOBIG, "%s: too big", buf);
	snprintf(buf, sizeof buf, "%ldh", LONG_MAX / 3600 + 1);
	is_int(tool_duration(buf), TOOL_TOOBIG, "%s: too big", buf);
	snprintf(buf, sizeof buf, "%ldm", LONG_MAX / 60 + 1);
	is_int(tool_duration(buf), TOOL_TOOBIG, "%s: too big", buf);
	snprintf(buf, sizeof buf, "%ld", LONG_MAX);
	is_int(tool_duration(buf), LONG_MAX, "%s s fits", buf);
	is_int(tool_duration("9223372036854775808"), TOOL_TOOBIG, "over LONG_MAX seconds: too big");
	is_int(tool_duration("99999999999999999999d"), TOOL_TOOBIG, "over LONG_MAX days: too big");
	is_int(tool_duration("99999999999999999999x"), -1, "over LONG_MAX with a bad unit: malformed");
	done_testing();
	return exit_status();
}
