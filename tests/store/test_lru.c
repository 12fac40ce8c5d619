/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_lru.c — mu_lru: the S4LRU rules on hand-checked cases (promotion,
    the top level, the demotion cascade, eviction order, sizes, delete,
    resize, boost, foreach) and every documented error of the in-memory
    calls. The model test is test_lru_model.c, persistence
    test_lru_persist.c; shared helpers in test_lru.h. */
#include "test_lru.h"

/* ---- the rules on small cases -------------------------------------------- */

static void
test_insert_and_promote(void)
{
    mu_lru_t *lru = mu_lru_new(8, 4); /* 2 units per level */
    MU_CHECK(lru != NULL);
    MU_CHECK_EQ(inc(lru, "a", 1), 0);
    MU_CHECK_EQ(inc(lru, "b", 1), 0);
    MU_CHECK_EQ(inc(lru, "c", 1), 0);
    MU_CHECK(strcmp(dump(lru), "3:|2:|1:|0:c,b,a") == 0);
    MU_CHECK_EQ(inc(lru, "a", 1), 1); /* hit: level 0 -> head of level 1 */
    MU_CHECK(strcmp(dump(lru), "3:|2:|1:a|0:c,b") == 0);
    MU_CHECK_EQ(inc(lru, "b", 1), 1);
    MU_CHECK(strcmp(dump(lru), "3:|2:|1:b,a|0:c") == 0);
    MU_CHECK_EQ(inc(lru, "a", 1), 1); /* level 1 -> level 2 */
    MU_CHECK(strcmp(dump(lru), "3:|2:a|1:b|0:c") == 0);
    MU_CHECK_EQ(STAT(lru, HITS, -1), 3);
    MU_CHECK_EQ(STAT(lru, MISSES, -1), 3);
    MU_CHECK_EQ(STAT(lru, COUNT, -1), 3);
    MU_CHECK_EQ(STAT(lru, SIZE, -1), 3);
    MU_CHECK_EQ(STAT(lru, COUNT, 2), 1);
    MU_CHECK_EQ(STAT(lru, CAPACITY, 2), 2);
    MU_CHECK_EQ(STAT(lru, CAPACITY, 0), 2);
    MU_CHECK_EQ(STAT(lru, CAPACITY, -1), 8);
    mu_lru_destroy(&lru);
    MU_CHECK(lru == NULL);
    mu_lru_destroy(&lru); /* NULL is accepted */
    mu_lru_destroy(NULL);
}

static void
test_top_stays_top(void)
{
    mu_lru_t *lru = mu_lru_new(100, 3);
    MU_CHECK(lru != NULL);
    for (int i = 0; i < 3; i++)
        MU_CHECK(inc(lru, "x", 1) >= 0);
    for (int i = 0; i < 3; i++)
        MU_CHECK(inc(lru, "y", 1) >= 0);
    MU_CHECK(strcmp(dump(lru), "2:y,x|1:|0:") == 0);
    MU_CHECK_EQ(inc(lru, "x", 1), 1); /* top: moves to the top's head */
    MU_CHECK(strcmp(dump(lru), "2:x,y|1:|0:") == 0);
    MU_CHECK_EQ(inc(lru, "x", 1), 1);
    MU_CHECK(strcmp(dump(lru), "2:x,y|1:|0:") == 0);
    int level = -1;
    MU_CHECK_EQ(mu_lru_peek(lru, "x", 1, NULL, &level), 0);
    MU_CHECK_EQ(level, 2);
    mu_lru_destroy(&lru);
}

static void
test_demotion_cascade(void)
{
    mu_lru_t *lru = mu_lru_new(8, 4); /* 2 units per level */
    MU_CHECK(lru != NULL);
    /* Build 2:p,q  1:r,s  0:t */
    const char *seq[] = { "q", "p", "s", "r", "t", "q", "p", "q", "p", "s", "r" };
    for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++)
        MU_CHECK(inc(lru, seq[i], 1) >= 0);
    MU_CHECK(strcmp(dump(lru), "3:|2:p,q|1:r,s|0:t") == 0);
    /* Overflow of level 1 by a promotion: u enters 1, s (tail) goes to 0. */
    MU_CHECK_EQ(inc(lru, "u", 1), 0);
    MU_CHECK_EQ(inc(lru, "u", 1), 1);
    MU_CHECK(strcmp(dump(lru), "3:|2:p,q|1:u,r|0:s,t") == 0);
    /* A hit that grows r to 2 units: r enters 2 (size 4 > 2), q demoted to 1
       (1: q,u), 2 still 3 > 2, p demoted (1: p,q,u = 3 > 2), u demoted to
       0. A cascade over two levels. */
    MU_CHECK_EQ(inc(lru, "r", 2), 1);
    MU_CHECK(strcmp(dump(lru), "3:|2:r|1:p,q|0:u,s,t") == 0);
    MU_CHECK_EQ(STAT(lru, SIZE, 2), 2);
    MU_CHECK_EQ(STAT(lru, SIZE, 1), 2);
    MU_CHECK_EQ(STAT(lru, SIZE, 0), 3);
    MU_CHECK_EQ(STAT(lru, SIZE, -1), 7);
    mu_lru_destroy(&lru);
}

static void
test_eviction_order(void)
{
    mu_lru_t *lru = mu_lru_new(4, 2); /* level 0: 2, level 1: 2 */
    MU_CHECK(lru != NULL);
    const char *keys[] = { "a", "b", "c", "d", "e" };
    for (int i = 0; i < 5; i++)
        MU_CHECK_EQ(inc(lru, keys[i], 1), 0);
    MU_CHECK_EQ(mu_lru_over(lru), 1);
    evicted_t ev = { .text = "" };
    MU_CHECK_EQ(mu_lru_evict(lru, MU_LRU_DRY_RUN, evict_cb, &ev), 1);
    MU_CHECK(strcmp(ev.text, "a") == 0);
    MU_CHECK_EQ(STAT(lru, COUNT, -1), 5); /* dry run changes nothing */
    memset(&ev, 0, sizeof ev);
    MU_CHECK_EQ(mu_lru_evict(lru, 0, evict_cb, &ev), 1);
    MU_CHECK(strcmp(ev.text, "a") == 0);
    MU_CHECK_EQ(mu_lru_contains(lru, "a", 1), 0); /* forgotten */
    MU_CHECK_EQ(mu_lru_over(lru), 0);
    MU_CHECK_EQ(mu_lru_evict(lru, 0, evict_cb, &ev), 0);
    MU_CHECK_EQ(inc(lru, "b", 1), 1); /* b protected in level 1 */
    MU_CHECK_EQ(inc(lru, "f", 3), 0);
    MU_CHECK_EQ(inc(lru, "g", 1), 0);
    MU_CHECK(strcmp(dump(lru), "1:b|0:g,f,e,d,c") == 0);
    memset(&ev, 0, sizeof ev);
    MU_CHECK_EQ(mu_lru_evict(lru, 0, evict_cb, &ev), 4); /* total 8 -> 3 */
    MU_CHECK(strcmp(ev.text, "c,d,e,f") == 0);
    MU_CHECK_EQ(ev.size, 6);
    MU_CHECK(strcmp(dump(lru), "1:b|0:g") == 0);
    MU_CHECK_EQ(STAT(lru, EVICTIONS, -1), 5);
    MU_CHECK_EQ(STAT(lru, SIZE, -1), 2);
    MU_CHECK_EQ(mu_lru_evict(lru, 0, NULL, NULL), 0); /* fn may be NULL */
    mu_lru_destroy(&lru);
}

static void
test_size_changes(void)
{
    mu_lru_t *lru = mu_lru_new(100, 4);
    MU_CHECK(lru != NULL);
    MU_CHECK_EQ(inc(lru, "a", 10), 0);
    MU_CHECK_EQ(inc(lru, "b", 5), 0);
    MU_CHECK_EQ(STAT(lru, SIZE, -1), 15);
    MU_CHECK_EQ(inc(lru, "a", 3), 1); /* shrinks 10 -> 3, moves to 1 */
    MU_CHECK_EQ(STAT(lru, SIZE, -1), 8);
    MU_CHECK_EQ(STAT(lru, SIZE, 1), 3);
    MU_CHECK_EQ(STAT(lru, SIZE, 0), 5);
    /* b grows to 200 in level 1 (25 units): a (the tail), then b, go down. */
    MU_CHECK_EQ(inc(lru, "b", 200), 1);
    MU_CHECK_EQ(STAT(lru, SIZE, -1), 203);
    MU_CHECK(strcmp(dump(lru), "3:|2:|1:|0:b,a") == 0);
    MU_CHECK_EQ(mu_lru_over(lru), 103);
    uint64_t size = 0;
    MU_CHECK_EQ(mu_lru_peek(lru, "b", 1, &size, NULL), 0);
    MU_CHECK_EQ(size, 200);
    MU_CHECK_EQ(inc(lru, "z", 0), 0); /* size 0 is allowed */
    MU_CHECK_EQ(STAT(lru, SIZE, -1), 203);
    MU_CHECK_EQ(inc(lru, "", 1), 0); /* the empty key is a key */
    MU_CHECK_EQ(mu_lru_increment(lru, NULL, 0, 1), 1);
    mu_lru_destroy(&lru);
}

static void
test_delete_contains(void)
{
    mu_lru_t *lru = mu_lru_new(100, 4);
    MU_CHECK(lru != NULL);
    MU_CHECK_EQ(inc(lru, "a", 1), 0);
    MU_CHECK_EQ(inc(lru, "b", 2), 0);
    MU_CHECK_EQ(inc(lru, "c", 3), 0);
    char longkey[100];
    memset(longkey, 'L', sizeof longkey);
    MU_CHECK_EQ(mu_lru_increment(lru, longkey, sizeof longkey, 4), 0);
    MU_CHECK_EQ(mu_lru_contains(lru, "b", 1), 1);
    MU_CHECK_EQ(mu_lru_contains(lru, longkey, sizeof longkey), 1);
    MU_CHECK_EQ(mu_lru_contains(lru, longkey, sizeof longkey - 1), 0);
    MU_CHECK_EQ(STAT(lru, HITS, -1), 0); /* contains does not count or promote */
    MU_CHECK_EQ(mu_lru_delete(lru, "b", 1), 0);
    MU_CHECK_EQ(mu_lru_delete(lru, "b", 1), MU_ENOENT);
    MU_CHECK_EQ(mu_lru_delete(lru, longkey, sizeof longkey), 0);
    MU_CHECK(strcmp(dump(lru), "3:|2:|1:|0:c,a") == 0);
    MU_CHECK_EQ(STAT(lru, SIZE, -1), 4);
    MU_CHECK_EQ(STAT(lru, COUNT, -1), 2);
    MU_CHECK_EQ(STAT(lru, EVICTIONS, -1), 0);
    MU_CHECK_EQ(mu_lru_peek(lru, "b", 1, NULL, NULL), MU_ENOENT);
    MU_CHECK_EQ(inc(lru, "b", 7), 0); /* back as a new key */
    MU_CHECK_EQ(STAT(lru, SIZE, -1), 11);
    mu_lru_destroy(&lru);
}

static void
test_resize(void)
{
    mu_lru_t *lru = mu_lru_new(8, 4); /* 2 per level */
    MU_CHECK(lru != NULL);
    const char *seq[] = { "a", "b", "a", "b", "a", "b", "c", "d", "c", "d", "e" };
    for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++)
        MU_CHECK(inc(lru, seq[i], 1) >= 0);
    MU_CHECK(strcmp(dump(lru), "3:|2:b,a|1:d,c|0:e") == 0);
    MU_CHECK_EQ(mu_lru_resize(lru, 4), 0); /* 1 per level: a to 1, then c, d to 0 */
    MU_CHECK_EQ(STAT(lru, CAPACITY, 1), 1);
    MU_CHECK(strcmp(dump(lru), "3:|2:b|1:a|0:d,c,e") == 0);
    MU_CHECK_EQ(mu_lru_over(lru), 1);
    evicted_t ev = { .text = "" };
    MU_CHECK_EQ(mu_lru_evict(lru, 0, evict_cb, &ev), 1);
    MU_CHECK(strcmp(ev.text, "e") == 0);
    MU_CHECK_EQ(mu_lru_resize(lru, 103), 0); /* growing moves nothing */
    MU_CHECK(strcmp(dump(lru), "3:|2:b|1:a|0:d,c") == 0);
    MU_CHECK_EQ(STAT(lru, CAPACITY, 0), 28); /* 25 + the remainder 3 */
    MU_CHECK_EQ(STAT(lru, CAPACITY, 3), 25);
    mu_lru_destroy(&lru);
}

static void
test_boost(void)
{
    mu_lru_t *lru = mu_lru_new(400, 4);
    MU_CHECK(lru != NULL);
    MU_CHECK_EQ(mu_lru_set_boost(lru, 10, 2), 0);
    MU_CHECK_EQ(inc(lru, "small", 10), 0);
    MU_CHECK_EQ(inc(lru, "big", 11), 0);
    MU_CHECK(strcmp(dump(lru), "3:|2:small|1:|0:big") == 0);
    MU_CHECK_EQ(mu_lru_set_boost(lru, 10, 99), 0); /* clamped to the top */
    MU_CHECK_EQ(inc(lru, "tiny", 1), 0);
    MU_CHECK(strcmp(dump(lru), "3:tiny|2:small|1:|0:big") == 0);
    MU_CHECK_EQ(mu_lru_set_boost(lru, 0, 0), 0); /* off */
    MU_CHECK_EQ(inc(lru, "t2", 1), 0);
    MU_CHECK(strcmp(dump(lru), "3:tiny|2:small|1:|0:t2,big") == 0);
    MU_CHECK_EQ(mu_lru_set_boost(lru, 5, -1), MU_EINVAL);
    mu_lru_destroy(&lru);
}

static int
stop_at_two(void *arg, const void *key, size_t len, uint64_t size, int level)
{
    int *n = arg;
    (void) key, (void) len, (void) size, (void) level;
    return ++*n == 2 ? 42 : 0;
}

static void
test_foreach_stop(void)
{
    mu_lru_t *lru = mu_lru_new(100, 4);
    MU_CHECK(lru != NULL);
    MU_CHECK_EQ(inc(lru, "a", 1), 0);
    MU_CHECK_EQ(inc(lru, "b", 1), 0);
    MU_CHECK_EQ(inc(lru, "c", 1), 0);
    int n = 0;
    MU_CHECK_EQ(mu_lru_foreach(lru, stop_at_two, &n), 42);
    MU_CHECK_EQ(n, 2);
    mu_lru_destroy(&lru);
}

/*  A batch whose sizes could overflow the total gets, item by item, what
    single calls get (many_chunk skips the checks only when no overflow is
    possible in the chunk). */
static void
test_batch_overflow(void)
{
    mu_lru_t *lru = mu_lru_new(10, 0);
    MU_CHECK(lru != NULL);
    mu_lru_item_t it[] = { { "a", 1, UINT64_MAX - 1 },
                           { "b", 1, 1 },
                           { "c", 1, 1 },
                           { "a", 1, UINT64_MAX } };
    int res[4];
    MU_CHECK_EQ(mu_lru_increment_many(lru, it, 4, res), MU_EINVAL);
    MU_CHECK(res[0] == 0 && res[1] == 0 && res[2] == MU_EINVAL && res[3] == MU_EINVAL);
    MU_CHECK_EQ(lru_stat(lru, T_STAT_SIZE, -1), UINT64_MAX);
    mu_lru_destroy(&lru);
    lru = mu_lru_new(10, 0);
    MU_CHECK(lru != NULL);
    MU_CHECK_EQ(mu_lru_increment(lru, "x", 1, UINT64_MAX - 100), 0);
    mu_lru_item_t small[] = { { "y", 1, 50 }, { "z", 1, 50 }, { "w", 1, 1 }, { "x", 1, 1 } };
    MU_CHECK_EQ(mu_lru_increment_many(lru, small, 4, res), MU_EINVAL);
    MU_CHECK(res[0] == 0 && res[1] == 0 && res[2] == MU_EINVAL && res[3] == 1);
    MU_CHECK_EQ(lru_stat(lru, T_STAT_SIZE, -1), 101); /* x shrank to 1 */
    mu_lru_destroy(&lru);
    /* 127 left: a full chunk of 64 new keys of size 2 needs 128, so only the
       last item fails (a bound divided by less than the chunk length would
       take the unchecked loop and wrap the total). */
    lru = mu_lru_new(10, 0);
    MU_CHECK(lru != NULL);
    MU_CHECK_EQ(mu_lru_increment(lru, "x", 1, UINT64_MAX - 128), 0);
    MU_CHECK_EQ(mu_lru_increment(lru, "y", 1, 1), 0); /* total UINT64_MAX - 127 */
    char keys[64][4];
    mu_lru_item_t chunk[64];
    int cres[64];
    for (int i = 0; i < 64; i++) {
        snprintf(keys[i], sizeof keys[i], "k%02d", i);
        chunk[i] = (mu_lru_item_t) { keys[i], 3, 2 };
    }
    MU_CHECK_EQ(mu_lru_increment_many(lru, chunk, 64, cres), MU_EINVAL);
    int zeros = 0;
    for (int i = 0; i < 63; i++)
        zeros += cres[i] == 0;
    MU_CHECK_EQ(zeros, 63);
    MU_CHECK_EQ(cres[63], MU_EINVAL);
    MU_CHECK_EQ(lru_stat(lru, T_STAT_SIZE, -1), UINT64_MAX - 1);
    MU_CHECK_EQ(mu_lru_contains(lru, keys[63], 3), 0);
    mu_lru_destroy(&lru);
}

static void
test_bad_arguments(void)
{
    errno = 0;
    MU_CHECK(mu_lru_new(0, 4) == NULL && errno == EINVAL);
    errno = 0;
    MU_CHECK(mu_lru_new(10, -1) == NULL && errno == EINVAL);
    errno = 0;
    MU_CHECK(mu_lru_new(10, MU_LRU_MAX_LEVELS + 1) == NULL && errno == EINVAL);
    mu_lru_t *lru = mu_lru_new(10, 0);
    MU_CHECK(lru != NULL);
    MU_CHECK_EQ(mu_lru_levels(lru), MU_LRU_LEVELS_DEFAULT);
    MU_CHECK_EQ(mu_lru_increment(lru, NULL, 3, 1), MU_EINVAL);
    static char big[MU_LRU_MAX_KEY + 1];
    MU_CHECK_EQ(mu_lru_increment(lru, big, sizeof big, 1), MU_EINVAL);
    MU_CHECK_EQ(mu_lru_increment(lru, big, MU_LRU_MAX_KEY, 1), 0);     /* the maximum is fine */
    MU_CHECK_EQ(mu_lru_increment(lru, "a", 1, UINT64_MAX), MU_EINVAL); /* total overflows */
    MU_CHECK_EQ(mu_lru_increment(lru, "b", 1, UINT64_MAX - 1), 0);
    MU_CHECK_EQ(mu_lru_increment(lru, big, MU_LRU_MAX_KEY, 2), MU_EINVAL); /* hit overflows */
    MU_CHECK_EQ(lru_stat(lru, T_STAT_SIZE, -1), UINT64_MAX);
    MU_CHECK_EQ(mu_lru_delete(lru, NULL, 1), MU_EINVAL);
    MU_CHECK_EQ(mu_lru_peek(lru, NULL, 1, NULL, NULL), MU_EINVAL);
    MU_CHECK_EQ(mu_lru_contains(lru, NULL, 1), 0);
    MU_CHECK_EQ(mu_lru_evict(lru, 2, NULL, NULL), MU_EINVAL);
    MU_CHECK_EQ(mu_lru_resize(lru, 0), MU_EINVAL);
    mu_lru_stats_t small = { .size = sizeof small - 1 };
    MU_CHECK_EQ(mu_lru_stats(lru, &small), MU_EINVAL); /* older than the first version */
    MU_CHECK_EQ(mu_lru_set_durability(lru, MU_LRU_GROUP, 10), MU_ENOTSUP); /* in memory */
    MU_CHECK_EQ(mu_lru_flush(lru), 0); /* nothing to do in memory */
    mu_lru_destroy(&lru);
}


/*  A caller bug (a NULL stats pointer) aborts: asserted. */
static void
s_child_stats_null(const char *arg, int fd)
{
    (void) arg;
    (void) fd;
    mu_lru_t *lru = mu_lru_new(10, 0);
    (void) !mu_lru_stats(lru, NULL);
}

/*  A failing call leaves its detail for mu_last_error(); caller bugs abort. */
static void
test_details_and_asserts(void)
{
    mu_lru_t *lru = mu_lru_new(10, 0);
    MU_CHECK(lru != NULL);
    MU_CHECK_EQ(mu_lru_delete(lru, "x", 1), MU_ENOENT);
    MU_CHECK_EQ(mu_last_code(), MU_ENOENT);
    MU_CHECK(strstr(mu_last_error(), "no such key") != NULL);
    MU_CHECK_EQ(mu_lru_resize(lru, 0), MU_EINVAL);
    MU_CHECK(strstr(mu_last_error(), "mu_lru_resize") != NULL);
    mu_lru_destroy(&lru);
    MU_CHECK(mu_test_child_aborts(s_child_stats_null, NULL));
}

int
main(void)
{
    if (!lru_tests_begin())
        return 1;
    MU_RUN(test_insert_and_promote);
    MU_RUN(test_top_stays_top);
    MU_RUN(test_demotion_cascade);
    MU_RUN(test_eviction_order);
    MU_RUN(test_size_changes);
    MU_RUN(test_delete_contains);
    MU_RUN(test_resize);
    MU_RUN(test_boost);
    MU_RUN(test_foreach_stop);
    MU_RUN(test_bad_arguments);
    MU_RUN(test_batch_overflow);
    MU_RUN(test_details_and_asserts);
    cleanup();
    MU_DONE();
}
