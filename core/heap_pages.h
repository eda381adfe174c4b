// Programs linked with mimalloc (smsx_link_allocator in CMakeLists.txt) call this first
// thing: mimalloc then backs its segments with transparent huge pages (madvise), as
// MIMALLOC_LARGE_OS_PAGES=1 would. Millions of orders spread over gigabytes of heap cost far
// fewer TLB misses that way, and fork() — which the server uses for snapshots — copies one
// page table entry per 2 MiB instead of per 4 KiB (docs/benchmarks.md, "Snapshots and
// recovery"). Without mimalloc (sanitizer builds) it does nothing.
#pragma once

#if defined(SMSX_WITH_MIMALLOC)
#include <mimalloc.h>
#endif

namespace smsx {

inline void use_huge_pages_for_heap() {
#if defined(SMSX_WITH_MIMALLOC)
  mi_option_enable(mi_option_large_os_pages);
#endif
}

}  // namespace smsx
