/* Counts heap allocations of the process it is preloaded into, for
 * allocations per request (bench/hub_load/run.sh --wrk): malloc, calloc,
 * realloc and the C++ operator new (which calls malloc) all pass through
 * here; every 100 ms the running total is written to $COUNT_ALLOCS_FILE.
 *
 *   cc -shared -fPIC -O2 -o count_allocs.so count_allocs.c -lpthread
 *   COUNT_ALLOCS_FILE=/tmp/n LD_PRELOAD=./count_allocs.so carrefour hub ...
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

extern void* __libc_malloc(size_t);
extern void* __libc_calloc(size_t, size_t);
extern void* __libc_realloc(void*, size_t);

/* One counter per thread slot, each on its own cache line: counting must
 * not make the threads of the measured process contend. */
struct slot { atomic_ulong n; char pad[64 - sizeof(atomic_ulong)]; };
static struct slot slots[64];
static void count(void) {
  unsigned long slot = (((unsigned long)pthread_self() >> 12) * 11400714819323198485ul) >> 58;
  atomic_fetch_add_explicit(&slots[slot].n, 1, memory_order_relaxed);
}
static unsigned long total(void) {
  unsigned long sum = 0;
  for (int i = 0; i < 64; ++i) sum += atomic_load_explicit(&slots[i].n, memory_order_relaxed);
  return sum;
}

void* malloc(size_t n) { count(); return __libc_malloc(n); }
void* calloc(size_t n, size_t s) { count(); return __libc_calloc(n, s); }
void* realloc(void* p, size_t n) { count(); return __libc_realloc(p, n); }

static void* report(void* file_name) {
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp", (const char*)file_name);
  for (;;) {
    FILE* out = fopen(tmp, "w");
    if (out != NULL) {
      fprintf(out, "%lu\n", total());
      fclose(out);
      rename(tmp, (const char*)file_name);
    }
    usleep(100000);
  }
  return NULL;
}

__attribute__((constructor)) static void start(void) {
  const char* file = getenv("COUNT_ALLOCS_FILE");
  if (file == NULL) return;
  unsetenv("LD_PRELOAD");  /* not in the children */
  pthread_t thread;
  pthread_create(&thread, NULL, report, (void*)file);
  pthread_detach(thread);
}
