// Programs linked with mimalloc (smsx_link_allocator in CMakeLists.txt) call this early
// (smsxd once its configuration is read: `memory.huge_pages`). mimalloc then backs its
// segments with transparent huge pages (madvise), as MIMALLOC_LARGE_OS_PAGES=1 would, and so
// do the largest tables (core/huge_page_mapping.h). Millions of orders spread over
// gigabytes of heap cost far fewer TLB misses that way, and fork(), which the server uses
// for snapshots, copies one page-table entry per 2 MiB instead of per 4 KiB
// (docs/benchmarks.md, "Snapshots and recovery").
//
// The price: the kernel fills each 2 MiB page on its first touch, all at once, inside
// whatever the loop was doing. In this project's KVM guest that took 1 to 25 ms per page,
// a stall whenever the heap grows (docs/benchmarks.md, "Pauses"). `wanted = false` asks for
// 4 KiB pages instead. Without mimalloc (sanitizer builds) only the tables follow it.
#pragma once

#include "core/huge_page_mapping.h"

#if defined(SMSX_WITH_MIMALLOC)
#include <mimalloc.h>
#endif

namespace smsx {

inline void use_huge_pages_for_heap(bool wanted = true) {
  huge_pages_wanted() = wanted;
#if defined(SMSX_WITH_MIMALLOC)
  mi_option_set_enabled(mi_option_large_os_pages, wanted);
#endif
}

}  // namespace smsx
