/* harness.h: a tiny test harness for the pure C modules (in the spirit of
 * systemd's tests.h). Each test file has a main() that RUN()s its tests and
 * returns test_exit(); exit 77 means skipped. */
#pragma once

#include <stdio.h>
#include <string.h>

static int harness_failed, harness_run;
static const char *harness_current;

#define ASSERT_TRUE(e)                                                                             \
        do {                                                                                       \
                if (!(e)) {                                                                        \
                        fprintf(stderr, "%s:%d: %s: assertion failed: %s\n", __FILE__, __LINE__,   \
                                harness_current, #e);                                              \
                        harness_failed++;                                                          \
                        return;                                                                    \
                }                                                                                  \
        } while (0)

#define ASSERT_EQ(a, b)                                                                            \
        do {                                                                                       \
                long long _a = (long long)(a), _b = (long long)(b);                                \
                if (_a != _b) {                                                                    \
                        fprintf(stderr, "%s:%d: %s: %s == %s failed (%lld != %lld)\n", __FILE__,   \
                                __LINE__, harness_current, #a, #b, _a, _b);                        \
                        harness_failed++;                                                          \
                        return;                                                                    \
                }                                                                                  \
        } while (0)

#define ASSERT_OK(e) ASSERT_TRUE((e) >= 0)
#define ASSERT_STREQ(a, b) ASSERT_TRUE(strcmp((a), (b)) == 0)
#define ASSERT_MEMEQ(a, b, n) ASSERT_TRUE(memcmp((a), (b), (n)) == 0)

#define RUN(t)                                                                                     \
        do {                                                                                       \
                int _before = harness_failed;                                                      \
                harness_current = #t;                                                              \
                harness_run++;                                                                     \
                t();                                                                               \
                fprintf(stderr, "%s %s\n", harness_failed == _before ? "ok" : "FAIL", #t);         \
        } while (0)

static inline int test_exit(void)
{
        fprintf(stderr, "%d of %d tests failed\n", harness_failed, harness_run);
        return harness_failed ? 1 : 0;
}
