// Huge pages for the engine's largest memory: the order chunks (core/order_store.h) and the
// request index's arrays (core/request_index.cc) are mapped with mmap, aligned to 2 MiB and
// advised MADV_HUGEPAGE; the heap gets them from mimalloc (core/heap_pages.h). With millions
// of orders a gigabyte in 4 KiB pages costs a TLB miss on nearly every probe, and fork()
// (the server's snapshots) has to copy a page-table entry for every 4 KiB; in 2 MiB pages
// both shrink 512-fold. With memory.huge_pages = false the mappings get MADV_NOHUGEPAGE
// instead. Where the kernel has no huge page to give (or THP is off) the memory is ordinary
// pages: only speed changes.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <new>

namespace smsx {

inline constexpr std::size_t kHugePageBytes = std::size_t{2} << 20;

// Whether mappings ask for huge pages (MADV_HUGEPAGE) or refuse them
// (MADV_NOHUGEPAGE). Process-wide; set once at start-up (core/heap_pages.h).
inline bool& huge_pages_wanted() {
  static bool wanted = true;
  return wanted;
}

// Maps `bytes` (a multiple of 2 MiB) at a 2 MiB boundary, so that each 2 MiB of it can be
// one huge page (a mapping that is not aligned has no whole huge page in its first and last
// 2 MiB, and none at all when it is 2 MiB long), advised as huge_pages_wanted() says.
// Zero-filled. Unmap with munmap(p, bytes).
inline void* map_huge_page_aligned(std::size_t bytes) {
  // 2 MiB more than asked, then the unaligned ends are given back: what is left is aligned.
  void* p = ::mmap(nullptr, bytes + kHugePageBytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  const auto start = reinterpret_cast<std::uintptr_t>(p);
  const std::uintptr_t aligned = (start + kHugePageBytes - 1) & ~std::uintptr_t{kHugePageBytes - 1};
  if (aligned > start) ::munmap(p, aligned - start);
  const std::uintptr_t end = start + bytes + kHugePageBytes;
  if (end > aligned + bytes)
    ::munmap(reinterpret_cast<void*>(aligned + bytes), end - aligned - bytes);
  void* mapping = reinterpret_cast<void*>(aligned);
  // Advice only: failure changes nothing.
  ::madvise(mapping, bytes, huge_pages_wanted() ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
  return mapping;
}

}  // namespace smsx
