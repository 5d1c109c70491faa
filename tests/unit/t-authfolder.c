/* Unit tests for the auth-folder core: names, Buffer JSON, creds, lock, authdir. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/authdir.h"
#include "base/bufjson.h"
#include "store/creds.h"
#include "base/file.h"
#include "store/fname.h"
#include "store/lock.h"
#include "store/names.h"
#include "tap.h"

static void
test_fname(void)
{
	char out[300];
	const char *id;
	size_t n;

	ok(wa_fname_make(out, sizeof out, WA_FT_SESSION, "15550001111.3") == 0 &&
	    strcmp(out, "session-15550001111.3.json") == 0, "session name");
	ok(wa_fname_make(out, sizeof out, WA_FT_SENDER_KEY, "120363000000000000@g.us::99990001111_1::3") == 0 &&
	    strcmp(out, "sender-key-120363000000000000@g.us--99990001111_1--3.json") == 0, "':' maps to '-'");
	ok(wa_fname_make(out, sizeof out, WA_FT_APP_STATE_SYNC_KEY, "AAAAAB/x") == 0 &&
	    strcmp(out, "app-state-sync-key-AAAAAB__x.json") == 0, "'/' maps to '__'");
	ok(wa_fname_make(out, sizeof out, WA_FT_SESSION, "../../etc/passwd") == 0 &&
	    strchr(out, '/') == NULL, "a path in an id never becomes a path");
	is_int(wa_fname_make(out, sizeof out, WA_FT_SESSION, ""), WA_EINVAL, "empty id refused");
	is_int(wa_fname_make(out, sizeof out, WA_FT_SESSION, "a\nb"), WA_EINVAL, "control character refused");
	{
		char big[300];
		memset(big, 'x', sizeof big - 1);
		big[sizeof big - 1] = 0;
		is_int(wa_fname_make(out, sizeof out, WA_FT_SESSION, big), WA_EINVAL, "over 255 bytes refused");
	}
	is_int(wa_fname_make(out, 10, WA_FT_PRE_KEY, "42"), WA_ETOOBIG, "small buffer reported");

	is_int(wa_fname_classify("creds.json", NULL, NULL), WA_FT_CREDS, "creds.json");
	is_int(wa_fname_classify("sender-key-memory-1@g.us.json", &id, &n), WA_FT_SENDER_KEY_MEMORY, "sender-key-memory before sender-key");
	ok(n == strlen("1@g.us") && strncmp(id, "1@g.us", n) == 0, "id part of sender-key-memory");
	is_int(wa_fname_classify("sender-key-1@g.us--2--3.json", NULL, NULL), WA_FT_SENDER_KEY, "sender-key");
	is_int(wa_fname_classify("app-state-sync-version-regular.json", NULL, NULL), WA_FT_APP_STATE_SYNC_VERSION, "app-state-sync-version");
	is_int(wa_fname_classify("app-state-sync-key-AAA.json", NULL, NULL), WA_FT_APP_STATE_SYNC_KEY, "app-state-sync-key");
	is_int(wa_fname_classify("pre-key-7.json", NULL, NULL), WA_FT_PRE_KEY, "pre-key");
	is_int(wa_fname_classify("session-.json", NULL, NULL), WA_FT_OTHER_JSON, "no id: other json");
	is_int(wa_fname_classify("notes.txt", NULL, NULL), WA_FT_OTHER, "not json: other");
	is_int(wa_ftype_parse("lid-mapping"), WA_FT_LID_MAPPING, "type names parse");
	ok(!wa_fname_safe("..") && !wa_fname_safe("a/b") && !wa_fname_safe("") && wa_fname_safe(".wa"), "wa_fname_safe");
}

static void
test_bufjson(void)
{
	static const char *forms[] = {
		"{\"type\":\"Buffer\",\"data\":\"AQID\"}",
		"{\"type\":\"Buffer\",\"data\":[1,2,3]}",
		"\"AQID\"",
		"{\"0\":1,\"2\":3,\"1\":2}",
		"\"AQID\"",
	};
	uint8_t *b;
	size_t n, i;
	json_t *v;
	char *s;

	for (i = 0; i < sizeof forms / sizeof forms[0]; i++) {
		v = json_loads(forms[i], JSON_DECODE_ANY, NULL);
		ok(v && wa_bufjson_decode(&b, &n, v) == 0 && n == 3 && b[0] == 1 && b[1] == 2 && b[2] == 3,
		    "binary form %s", forms[i]);
		if (v && n)
			free(b);
		json_decref(v);
	}
	v = json_loads("{\"type\":\"Buffer\",\"data\":[1,256]}", 0, NULL);
	is_int(wa_bufjson_decode(&b, &n, v), WA_ECORRUPT, "byte over 255 refused");
	json_decref(v);
	v = json_loads("{\"0\":1,\"5\":2}", 0, NULL);
	is_int(wa_bufjson_decode(&b, &n, v), WA_ECORRUPT, "sparse integer-keyed object refused");
	json_decref(v);
	v = json_loads("[1,2]", 0, NULL);
	is_int(wa_bufjson_decode(&b, &n, v), WA_ECORRUPT, "array is not binary");
	json_decref(v);
	is_int(wa_base64_decode(&b, &n, "AQI", 3), 0, "unpadded base64 accepted");
	ok(n == 2 && b[0] == 1 && b[1] == 2, "unpadded base64 decodes");
	free(b);
	is_int(wa_base64_decode(&b, &n, "A*==", 4), WA_ECORRUPT, "bad base64 refused");
	{
		uint8_t raw[] = { 0xfb, 0xff, 0x00 };
		v = wa_bufjson_encode(raw, 3);
		s = json_dumps(v, JSON_COMPACT);
		is_str(s, "{\"type\":\"Buffer\",\"data\":\"+/8A\"}", "encode writes Baileys' BufferJSON");
		free(s);
		json_decref(v);
	}
}

static const char *creds_complete =
    "{\"noiseKey\":{\"private\":{\"type\":\"Buffer\",\"data\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"},"
    "\"public\":{\"type\":\"Buffer\",\"data\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"}},"
    "\"pairingEphemeralKeyPair\":{\"private\":{\"type\":\"Buffer\",\"data\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"},"
    "\"public\":{\"type\":\"Buffer\",\"data\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"}},"
    "\"signedIdentityKey\":{\"private\":{\"type\":\"Buffer\",\"data\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"},"
    "\"public\":{\"type\":\"Buffer\",\"data\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"}},"
    "\"signedPreKey\":{\"keyPair\":{\"private\":{\"type\":\"Buffer\",\"data\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"},"
    "\"public\":{\"type\":\"Buffer\",\"data\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"}},"
    "\"signature\":{\"type\":\"Buffer\",\"data\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\"},\"keyId\":1},"
    "\"registrationId\":1234,\"advSecretKey\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"";

static void
test_creds(void)
{
	struct wa_creds_info info;
	char buf[4096], acct[64];
	json_t *c;

	snprintf(buf, sizeof buf, "%s}", creds_complete);
	c = json_loads(buf, 0, NULL);
	wa_creds_inspect(&info, c);
	ok(info.complete && !info.paired, "fresh creds: complete, not paired");
	ok(strstr(info.problem, "not paired") != NULL, "problem says not paired (%s)", info.problem);
	json_decref(c);

	snprintf(buf, sizeof buf, "%s,\"me\":{\"id\":\"15550001111:3@s.whatsapp.net\"}}", creds_complete);
	c = json_loads(buf, 0, NULL);
	wa_creds_inspect(&info, c);
	ok(info.complete && !info.paired, "me alone is not proof of pairing");
	wa_creds_account(acct, sizeof acct, c);
	is_str(acct, "15550001111", "account user part");
	json_decref(c);

	snprintf(buf, sizeof buf, "%s,\"me\":{\"id\":\"15550001111:3@s.whatsapp.net\"},"
	    "\"account\":{\"details\":\"AQI=\",\"accountSignatureKey\":\"AQI=\",\"accountSignature\":\"AQI=\",\"deviceSignature\":\"AQI=\"},"
	    "\"platform\":\"android\"}", creds_complete);
	c = json_loads(buf, 0, NULL);
	wa_creds_inspect(&info, c);
	ok(info.complete && info.paired, "me + account: paired");
	is_str(info.platform, "android", "platform");
	json_decref(c);

	c = json_loads("{\"noiseKey\":{}}", 0, NULL);
	wa_creds_inspect(&info, c);
	ok(!info.complete && !info.paired && strstr(info.problem, "noiseKey") != NULL, "incomplete creds name the field");
	json_decref(c);
}

static void
test_files(const char *dir)
{
	struct wa_why why;
	json_t *j;
	int fd = open(dir, O_RDONLY | O_DIRECTORY);

	close(openat(fd, "empty.json", O_CREAT | O_WRONLY, 0600));
	{
		int f = openat(fd, "cut.json", O_CREAT | O_WRONLY, 0600);
		ok(write(f, "{\"a\":[1,2", 9) == 9, "write a truncated file");
		close(f);
	}
	ok(symlinkat("/etc/passwd", fd, "link.json") == 0, "make a symlink");
	is_int(wa_json_read(&j, fd, "missing.json", "D", &why), WA_ENOTFOUND, "missing is not corrupt");
	is_int(wa_json_read(&j, fd, "empty.json", "D", &why), WA_ECORRUPT, "empty is corrupt");
	ok(strstr(why.text, "'D/empty.json'") && strstr(why.text, "empty"), "message names the path: %s", why.text);
	is_int(wa_json_read(&j, fd, "cut.json", "D", &why), WA_ECORRUPT, "truncated is corrupt");
	ok(strstr(why.text, "byte 9") != NULL, "message names the byte offset: %s", why.text);
	is_int(wa_json_read(&j, fd, "link.json", "D", &why), WA_EUNSAFE, "symlink refused");
	ok(mkdirat(fd, "sub.json", 0700) == 0, "a folder named like a file");
	is_int(wa_json_read(&j, fd, "sub.json", "D", &why), WA_EUNSAFE, "not a regular file refused");
	close(fd);
}

static void
test_authdir_lock(const char *dir)
{
	struct wa_authdir *ad, *ad2;
	struct wa_lock_holder h;
	struct wa_why why;
	char path[4096], link[4096];
	struct stat st;
	int pfd[2];
	pid_t pid;
	char c;

	snprintf(path, sizeof path, "%s/auth", dir);
	is_int(wa_authdir_open(&ad, path, 0, "t", NULL, &why), WA_ENOTFOUND, "missing folder");
	ok(strstr(why.text, "no such folder") != NULL, "says no such folder: %s", why.text);
	is_int(wa_authdir_open(&ad, path, WA_AUTHDIR_WRITE | WA_AUTHDIR_CREATE, "t", NULL, &why), 0, "create and lock");
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0700, "folder is 0700");
	snprintf(link, sizeof link, "%s/auth/.wa", dir);
	ok(stat(link, &st) == 0 && (st.st_mode & 0777) == 0700, ".wa is 0700");
	is_int(wa_authdir_put(ad, "creds.json", "{}", 2), 0, "put a file");
	is_int(wa_authdir_put(ad, "../x", "{}", 2), WA_EINVAL, "put refuses a path");
	snprintf(link, sizeof link, "%s/auth/creds.json", dir);
	ok(stat(link, &st) == 0 && (st.st_mode & 0777) == 0600, "file is 0600");

	/* a second writer in another process fails at once, naming the holder */
	if (pipe(pfd) < 0)
		return;
	if ((pid = fork()) == 0) {
		int rc = wa_authdir_open(&ad2, path, WA_AUTHDIR_WRITE, "t2", &h, &why);
		c = rc == WA_ELOCKED && h.pid == getppid() && strstr(why.text, "in use by pid") ? 'y' : 'n';
		if (write(pfd[1], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	ok(read(pfd[0], &c, 1) == 1 && c == 'y', "second writer gets WA_ELOCKED naming the holder");
	waitpid(pid, NULL, 0);
	close(pfd[0]);
	close(pfd[1]);
	is_int(wa_lock_inspect(ad->wafd, &h), 0, "inspect the lock");
	ok(h.pid == getpid() && h.alive && strcmp(h.prog, "t") == 0, "holder is us and alive");
	wa_authdir_close(ad);

	/* released: read-only open sees an empty lock */
	is_int(wa_authdir_open(&ad, path, 0, "t", NULL, &why), 0, "read-only open");
	is_int(wa_lock_inspect(ad->wafd, &h), 0, "inspect after release");
	is_int(h.pid, 0, "released lock is empty");
	wa_authdir_close(ad);

	/* a holder killed hard leaves a stale lock that a new writer takes over */
	if ((pid = fork()) == 0) {
		if (wa_authdir_open(&ad2, path, WA_AUTHDIR_WRITE, "victim", NULL, NULL) == 0)
			raise(SIGKILL);
		_exit(1);
	}
	waitpid(pid, NULL, 0);
	is_int(wa_authdir_open(&ad, path, 0, "t", NULL, &why), 0, "open after a kill");
	wa_lock_inspect(ad->wafd, &h);
	ok(h.pid == pid && !h.alive && strcmp(h.prog, "victim") == 0, "stale lock: dead holder named");
	wa_authdir_close(ad);
	is_int(wa_authdir_open(&ad, path, WA_AUTHDIR_WRITE, "t", NULL, &why), 0, "a stale lock does not block a writer");
	wa_authdir_close(ad);

	/* a symlinked folder and a file where the folder should be */
	snprintf(link, sizeof link, "%s/authlink", dir);
	ok(symlink(path, link) == 0, "make a folder symlink");
	is_int(wa_authdir_open(&ad, link, 0, "t", NULL, &why), WA_EUNSAFE, "symlinked folder refused");
	snprintf(link, sizeof link, "%s/auth/creds.json", dir);
	is_int(wa_authdir_open(&ad, link, 0, "t", NULL, &why), WA_EINVAL, "a file is not a folder");
	ok(strstr(why.text, "is not a folder") != NULL, "says not a folder: %s", why.text);
}

int
main(void)
{
	char dir[] = "/tmp/t-authfolder.XXXXXX";
	char cmd[128];

	if (!mkdtemp(dir))
		return 1;
	test_fname();
	test_bufjson();
	test_creds();
	test_files(dir);
	test_authdir_lock(dir);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return 1;
	done_testing();
	return exit_status();
}
