/*
 * t-fuzzcorpus.c - replay the kept inputs of fuzz/fuzz-frame.c,
 * fuzz/fuzz-proto.c, fuzz/fuzz-sigjson.c, fuzz/fuzz-msg.c and
 * fuzz/fuzz-recv.c (fuzz/corpus/frame, proto, sigjson, msg, recv; recv
 * reads its auth-folder fixture from $WA_TOP/fuzz) through the harnesses
 * themselves, so every kept input and crasher is a regression test in
 * make check (with ASan and UBSan, without clang).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

#define LLVMFuzzerTestOneInput fuzz_frame_one
#include "../../fuzz/fuzz-frame.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_proto_one
#include "../../fuzz/fuzz-proto.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_sigjson_one
#include "../../fuzz/fuzz-sigjson.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_msg_one
#include "../../fuzz/fuzz-msg.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_recv_one
#include "../../fuzz/fuzz-recv.c"
#undef LLVMFuzzerTestOneInput

#include "tap.h"

static int
replay(const char *sub, int (*fn)(const uint8_t *, size_t))
{
	const char *top = getenv("WA_TOP");
	char path[4096], file[8192];
	static unsigned char buf[1 << 17];
	struct dirent *e;
	DIR *dir;
	int count = 0;

	snprintf(path, sizeof path, "%s/fuzz/corpus/%s", top ? top : ".", sub);
	if (!(dir = opendir(path)))
		return -1;
	while ((e = readdir(dir))) {
		size_t n;
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(file, sizeof file, "%s/%s", path, e->d_name);
		if (!(f = fopen(file, "rb")))
			continue;
		n = fread(buf, 1, sizeof buf, f);
		fclose(f);
		fn(buf, n);
		count++;
	}
	closedir(dir);
	return count;
}

int
main(void)
{
	int n;

	n = replay("frame", fuzz_frame_one);
	ok(n > 50, "fuzz/corpus/frame replayed: %d inputs, properties hold", n);
	n = replay("proto", fuzz_proto_one);
	ok(n > 10, "fuzz/corpus/proto replayed: %d inputs, properties hold", n);
	n = replay("sigjson", fuzz_sigjson_one);
	ok(n >= 10, "fuzz/corpus/sigjson replayed: %d inputs, properties hold", n);
	n = replay("msg", fuzz_msg_one);
	ok(n >= 40, "fuzz/corpus/msg replayed: %d inputs, properties hold", n);
	n = replay("recv", fuzz_recv_one);
	ok(n >= 5 && !fr_broken, "fuzz/corpus/recv replayed on the fixture's auth folder: %d inputs, properties hold", n);
	done_testing();
	return exit_status();
}
