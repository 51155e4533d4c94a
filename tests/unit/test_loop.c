#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <string.h>

#include "common/loop.h"

struct service {
	uv_timer_t kick;	/* raises the signal from inside the loop */
	uv_timer_t work;	/* stands for the service's real work */
	struct cm_signals *sig;
	int signum_to_raise;
	int stops;
	int last_signum;
};

static void on_kick(uv_timer_t *t)
{
	struct service *svc = t->data;

	assert_int_equal(raise(svc->signum_to_raise), 0);
}

static void on_work(uv_timer_t *t)
{
	(void)t;
	fail_msg("the signal never reached the loop");
}

static void on_stop(void *arg, int signum)
{
	struct service *svc = arg;

	svc->stops++;
	svc->last_signum = signum;
	uv_close((uv_handle_t *)&svc->work, NULL);
	uv_close((uv_handle_t *)&svc->kick, NULL);
	cm_signals_free(&svc->sig);
	assert_null(svc->sig);
}

static void run_until_signal(int signum)
{
	uv_loop_t loop;
	struct service svc;

	memset(&svc, 0, sizeof(svc));
	svc.signum_to_raise = signum;
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(cm_signals_start(&loop, on_stop, &svc, &svc.sig), 0);
	assert_non_null(svc.sig);

	assert_int_equal(uv_timer_init(&loop, &svc.kick), 0);
	svc.kick.data = &svc;
	assert_int_equal(uv_timer_start(&svc.kick, on_kick, 0, 0), 0);
	/* A generous backstop: it only fires if delivery is broken. */
	assert_int_equal(uv_timer_init(&loop, &svc.work), 0);
	assert_int_equal(uv_timer_start(&svc.work, on_work, 60000, 60000), 0);

	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(svc.stops, 1);
	assert_int_equal(svc.last_signum, signum);
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_sigterm_stops_loop(void **state)
{
	(void)state;
	run_until_signal(SIGTERM);
}

static void test_sigint_stops_loop(void **state)
{
	(void)state;
	run_until_signal(SIGINT);
}

static void test_sigpipe_ignored(void **state)
{
	uv_loop_t loop;
	struct cm_signals *sig = NULL;
	struct sigaction sa;
	(void)state;

	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(cm_signals_start(&loop, on_stop, NULL, &sig), 0);
	assert_int_equal(sigaction(SIGPIPE, NULL, &sa), 0);
	assert_true(sa.sa_handler == SIG_IGN);
	/* Freed before the loop ever ran: the close callbacks still free it. */
	cm_signals_free(&sig);
	cm_signals_free(&sig);
	assert_int_equal(cm_loop_teardown(&loop), 0);
}

static void on_idle(uv_idle_t *h)
{
	(void)h;
}

static void on_timer(uv_timer_t *h)
{
	(void)h;
}

static void on_async(uv_async_t *h)
{
	(void)h;
}

static void test_teardown_open_handles(void **state)
{
	uv_loop_t loop;
	uv_timer_t t1, t2;
	uv_idle_t idle;
	uv_check_t check;
	uv_async_t async;
	(void)state;

	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(uv_timer_init(&loop, &t1), 0);
	assert_int_equal(uv_timer_start(&t1, on_timer, 1000, 1000), 0);
	assert_int_equal(uv_timer_init(&loop, &t2), 0); /* initialised, never started */
	assert_int_equal(uv_idle_init(&loop, &idle), 0);
	assert_int_equal(uv_idle_start(&idle, on_idle), 0);
	assert_int_equal(uv_check_init(&loop, &check), 0);
	assert_int_equal(uv_async_init(&loop, &async, on_async), 0);
	/* One handle already closing must not be closed twice. */
	uv_close((uv_handle_t *)&t2, NULL);

	assert_int_equal(uv_loop_close(&loop), UV_EBUSY);
	assert_int_equal(cm_loop_teardown(&loop), 0);
}

static void test_teardown_empty_loop(void **state)
{
	uv_loop_t loop;
	(void)state;

	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(cm_loop_teardown(&loop), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sigterm_stops_loop),
		cmocka_unit_test(test_sigint_stops_loop),
		cmocka_unit_test(test_sigpipe_ignored),
		cmocka_unit_test(test_teardown_open_handles),
		cmocka_unit_test(test_teardown_empty_loop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
