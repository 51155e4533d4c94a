#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/config.h"
#include "common/err.h"

#define PREFIX "CMTEST_CFG_"

struct fixture {
	char dir[64];
	char path[128];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	strcpy(f->dir, "/tmp/test_config.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/svc.conf", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	unlink(f->path);
	rmdir(f->dir);
	free(f);
	unsetenv(PREFIX "HTTP_PORT");
	unsetenv(PREFIX "LISTEN");
	unsetenv(PREFIX "NAME");
	unsetenv(PREFIX "ONLY_ENV");
	unsetenv(PREFIX);
	return 0;
}

static void write_file(const struct fixture *f, const char *text)
{
	FILE *fp = fopen(f->path, "w");

	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

static const char good[] = "# service settings\n"
			   "listen = tcp://127.0.0.1:5555\n"
			   "\n"
			   "   http.port=8080   # inline comment\n"
			   "name =   Sở Tư pháp  \n"
			   "secret = a#b=c\n"
			   "empty =\n"
			   "\tverbose = yes\r\n"
			   "big = 18446744073709551615\n";

static void test_load_file(void **state)
{
	struct fixture *f = *state;
	struct cm_config *c = NULL;
	int line = -1;
	char src[160];

	write_file(f, good);
	assert_int_equal(cm_config_load(f->path, NULL, &c, &line), 0);
	assert_non_null(c);
	assert_int_equal(line, 0);

	assert_string_equal(cm_config_str(c, "listen", NULL), "tcp://127.0.0.1:5555");
	assert_string_equal(cm_config_str(c, "http.port", NULL), "8080");
	assert_string_equal(cm_config_str(c, "name", NULL), "Sở Tư pháp");
	assert_string_equal(cm_config_str(c, "secret", NULL), "a#b=c");
	assert_string_equal(cm_config_str(c, "empty", "x"), "");
	assert_string_equal(cm_config_str(c, "verbose", NULL), "yes");

	snprintf(src, sizeof(src), "%s:4", f->path);
	assert_string_equal(cm_config_source(c, "http.port"), src);
	assert_string_equal(cm_config_source(c, "missing"), "default");

	uint64_t v = 0;
	assert_int_equal(cm_config_u64(c, "big", 0, UINT64_MAX, 1, &v), 0);
	assert_true(v == UINT64_MAX);

	cm_config_free(&c);
	assert_null(c);
	cm_config_free(&c);
}

static void test_unknown_key_default(void **state)
{
	struct fixture *f = *state;
	struct cm_config *c = NULL;
	uint64_t v = 0;
	bool b = false;

	write_file(f, good);
	assert_int_equal(cm_config_load(f->path, PREFIX, &c, NULL), 0);
	assert_string_equal(cm_config_str(c, "nope", "dflt"), "dflt");
	assert_null(cm_config_str(c, "nope", NULL));
	assert_int_equal(cm_config_u64(c, "nope", 1, 10, 7, &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(cm_config_bool(c, "nope", true, &b), 0);
	assert_true(b);
	assert_string_equal(cm_config_str_or_die(c, "nope", "d"), "d");
	assert_int_equal(cm_config_u64_or_die(c, "http.port", 1, 65535, 1), 8080);
	assert_true(cm_config_bool_or_die(c, "verbose", false));
	cm_config_free(&c);
}

static void expect_malformed(const struct fixture *f, const char *text, int want_line)
{
	struct cm_config *c = (struct cm_config *)1;
	int line = -1;

	write_file(f, text);
	assert_int_equal(cm_config_load(f->path, NULL, &c, &line), CM_ECONFIG);
	assert_null(c);
	if (line != want_line)
		fail_msg("\"%s\": line %d, want %d", text, line, want_line);
}

static void test_malformed_lines(void **state)
{
	struct fixture *f = *state;

	expect_malformed(f, "a = 1\n# c\nno equals here\n", 3);
	expect_malformed(f, "Port = 1\n", 1);
	expect_malformed(f, "a = 1\n= 5\n", 2);
	expect_malformed(f, "a b = 1\n", 1);
	expect_malformed(f, "a = 1\n\n\na = 2\n", 4);
	expect_malformed(f, "key-with-dash = 1\n", 1);
	expect_malformed(f, "ok = 1\nlast line without newline", 2);
}

static void test_missing_file(void **state)
{
	struct fixture *f = *state;
	struct cm_config *c = NULL;
	char path[160];
	int line = -1;

	snprintf(path, sizeof(path), "%s/absent.conf", f->dir);
	assert_int_equal(cm_config_load(path, PREFIX, &c, &line), -ENOENT);
	assert_null(c);
	assert_int_equal(line, 0);
}

static void test_env_override(void **state)
{
	struct fixture *f = *state;
	struct cm_config *c = NULL;
	uint64_t v = 0;

	write_file(f, good);
	setenv(PREFIX "HTTP_PORT", "9090", 1);
	setenv(PREFIX "ONLY_ENV", "from env", 1);
	setenv(PREFIX "NAME", "", 1);
	/* A variable that is just the prefix names no key. */
	setenv(PREFIX, "ignored", 1);
	assert_int_equal(cm_config_load(f->path, PREFIX, &c, NULL), 0);

	assert_int_equal(cm_config_u64(c, "http.port", 1, 65535, 1, &v), 0);
	assert_int_equal(v, 9090);
	assert_string_equal(cm_config_source(c, "http.port"), "env " PREFIX "HTTP_PORT");
	assert_string_equal(cm_config_str(c, "only_env", NULL), "from env");
	assert_string_equal(cm_config_str(c, "name", "x"), "");
	assert_string_equal(cm_config_source(c, "name"), "env " PREFIX "NAME");
	assert_string_equal(cm_config_str(c, "listen", NULL), "tcp://127.0.0.1:5555");
	assert_string_equal(cm_config_source(c, ""), "default");

	/* The environment is read once, at load. */
	setenv(PREFIX "HTTP_PORT", "7070", 1);
	assert_int_equal(cm_config_u64(c, "http.port", 1, 65535, 1, &v), 0);
	assert_int_equal(v, 9090);
	cm_config_free(&c);

	/* Without a file, the environment alone; without a prefix, no env. */
	assert_int_equal(cm_config_load(NULL, PREFIX, &c, NULL), 0);
	assert_string_equal(cm_config_str(c, "http.port", NULL), "7070");
	cm_config_free(&c);
	assert_int_equal(cm_config_load(f->path, NULL, &c, NULL), 0);
	assert_string_equal(cm_config_str(c, "http.port", NULL), "8080");
	cm_config_free(&c);
}

static void test_u64_bounds(void **state)
{
	struct fixture *f = *state;
	struct cm_config *c = NULL;
	uint64_t v;

	write_file(f, "zero = 0\nten = 10\nneg = -1\nhex = 0x10\nsp = 1 2\n"
		      "huge = 18446744073709551616\nfrac = 1.5\nplus = +3\nblank =\n");
	assert_int_equal(cm_config_load(f->path, NULL, &c, NULL), 0);

	v = 99;
	assert_int_equal(cm_config_u64(c, "ten", 10, 10, 0, &v), 0);
	assert_int_equal(v, 10);
	assert_int_equal(cm_config_u64(c, "zero", 0, 5, 3, &v), 0);
	assert_int_equal(v, 0);

	static const char *const bad[] = {"neg", "hex", "sp", "huge", "frac", "plus", "blank"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 99;
		if (cm_config_u64(c, bad[i], 0, UINT64_MAX, 0, &v) != CM_ECONFIG)
			fail_msg("accepted %s", bad[i]);
		assert_int_equal(v, 99);
	}
	v = 99;
	assert_int_equal(cm_config_u64(c, "ten", 11, 20, 12, &v), CM_ECONFIG);
	assert_int_equal(cm_config_u64(c, "ten", 0, 9, 1, &v), CM_ECONFIG);
	assert_int_equal(cm_config_u64(c, "zero", 1, 9, 1, &v), CM_ECONFIG);
	assert_int_equal(v, 99);
	cm_config_free(&c);
}

static void test_bools(void **state)
{
	struct fixture *f = *state;
	struct cm_config *c = NULL;
	static const char *const t[] = {"t1", "t2", "t3", "t4", "t5"};
	static const char *const fl[] = {"f1", "f2", "f3", "f4", "f5"};
	bool b;

	write_file(f, "t1 = true\nt2 = YES\nt3 = 1\nt4 = On\nt5 = TRUE\n"
		      "f1 = false\nf2 = no\nf3 = 0\nf4 = OFF\nf5 = False\n"
		      "x1 = maybe\nx2 = 2\nx3 =\nx4 = truee\n");
	assert_int_equal(cm_config_load(f->path, NULL, &c, NULL), 0);
	for (size_t i = 0; i < 5; i++) {
		b = false;
		assert_int_equal(cm_config_bool(c, t[i], false, &b), 0);
		assert_true(b);
		b = true;
		assert_int_equal(cm_config_bool(c, fl[i], true, &b), 0);
		assert_false(b);
	}
	static const char *const bad[] = {"x1", "x2", "x3", "x4"};
	for (size_t i = 0; i < 4; i++) {
		b = true;
		assert_int_equal(cm_config_bool(c, bad[i], false, &b), CM_ECONFIG);
		assert_true(b);
	}
	cm_config_free(&c);
}

/* The _or_die helpers end the process; watch them do it in a child. */
static int exit_status_of(void (*fn)(const struct cm_config *), const struct cm_config *c)
{
	int status = 0;
	pid_t pid;

	/* The child's exit() flushes stdio: leave it nothing to repeat. */
	fflush(stdout);
	fflush(stderr);
	pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		fn(c);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void die_u64(const struct cm_config *c)
{
	(void)cm_config_u64_or_die(c, "port", 1, 65535, 80);
}

static void die_bool(const struct cm_config *c)
{
	(void)cm_config_bool_or_die(c, "flag", false);
}

static void die_str(const struct cm_config *c)
{
	(void)cm_config_str_or_die(c, "required.key", NULL);
}

static void ok_str(const struct cm_config *c)
{
	(void)cm_config_str_or_die(c, "port", NULL);
}

static void test_or_die_exits(void **state)
{
	struct fixture *f = *state;
	struct cm_config *c = NULL;

	write_file(f, "port = 70000\nflag = perhaps\n");
	assert_int_equal(cm_config_load(f->path, PREFIX, &c, NULL), 0);
	assert_int_equal(exit_status_of(die_u64, c), 1);
	assert_int_equal(exit_status_of(die_bool, c), 1);
	assert_int_equal(exit_status_of(die_str, c), 1);
	assert_int_equal(exit_status_of(ok_str, c), 0);
	cm_config_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_load_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_key_default, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_env_override, setup, teardown),
		cmocka_unit_test_setup_teardown(test_u64_bounds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bools, setup, teardown),
		cmocka_unit_test_setup_teardown(test_or_die_exits, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
