/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_store_fds.c — the persistent stores at the process's open-file
    limit: mu_lru_open and mu_dcache_open, given 0, 1, 2, ... spare file
    descriptors until they work, fail with errno EMFILE (not EACCES: SQLite
    reports a file it could not open for want of a descriptor as
    SQLITE_CANTOPEN, like a permission problem), say so, and leave no
    descriptor open. Everything here is synchronous: the descriptors a
    refused call opened are closed when it returns. */
#include "mu_test.h"
#include "mutil.h"
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static char dir[256];

/*  Opens a store (make returns it or NULL with errno set) with 0, 1, ...
    spare descriptors until it works; each refusal must be EMFILE (errno
    and the recorded code) and leave no descriptor open. Returns the spare
    descriptors it took, or -1 (printed why). */
static int
refuse_each(void *(*make)(void), void (*destroy)(void *), const char *name)
{
    for (int spare = 0; spare < 16; spare++) {
        int before = mu_test_open_fds();
        mu_test_fill_fds(spare);
        errno = 0;
        void *store = make();
        int err = errno;
        mu_test_unfill_fds();
        if (store) {
            destroy(store);
            return spare;
        }
        if (err != EMFILE || mu_last_code() != -EMFILE) {
            printf("# %s, %d spare: errno %d, '%s'\n", name, spare, err, mu_last_error());
            return -1;
        }
        if (mu_test_open_fds() != before) {
            printf("# %s, %d spare: %d descriptors left open\n", name, spare,
                   mu_test_open_fds() - before);
            return -1;
        }
    }
    printf("# %s: still refused with 16 spare descriptors\n", name);
    return -1;
}

static void *
make_lru(void)
{
    return mu_lru_open(dir, "fds", 1000, 0, MU_LRU_CREATE);
}

static void
destroy_lru(void *lru)
{
    mu_lru_destroy((mu_lru_t **) &lru);
}

static void *
make_dcache(void)
{
    char path[300];
    snprintf(path, sizeof path, "%s/fds.cache", dir);
    mu_dcache_options_t options = { .size = sizeof options };
    return mu_dcache_open(path, &options);
}

static void
destroy_dcache(void *cache)
{
    mu_dcache_destroy((mu_dcache_t **) &cache);
}

static void
test_stores_at_the_limit(void)
{
    struct rlimit saved;
    MU_CHECK(getrlimit(RLIMIT_NOFILE, &saved) == 0 && saved.rlim_cur > MU_TEST_FD_ROOM);
    struct rlimit low = { MU_TEST_FD_ROOM, saved.rlim_max };
    MU_CHECK(setrlimit(RLIMIT_NOFILE, &low) == 0);
    int lru = refuse_each(make_lru, destroy_lru, "mu_lru_open (new)");
    int lru_again = refuse_each(make_lru, destroy_lru, "mu_lru_open (existing)");
    int cache = refuse_each(make_dcache, destroy_dcache, "mu_dcache_open (new)");
    int cache_again = refuse_each(make_dcache, destroy_dcache, "mu_dcache_open (existing)");
    (void) setrlimit(RLIMIT_NOFILE, &saved);
    MU_CHECK(lru > 1 && lru_again > 1 && cache > 1 && cache_again > 1);
}

int
main(void)
{
    mu_test_start(120);
    if (!mu_test_scratch_dir(dir, sizeof dir, "mu-store-fds"))
        return 1;
    MU_RUN(test_stores_at_the_limit);
    mu_test_remove_scratch_dir(dir);
    MU_DONE();
}
