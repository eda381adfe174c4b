// An allocator for the engine's largest tables that backs big allocations with
// transparent huge pages (2 MiB): mmap + madvise(MADV_HUGEPAGE) from 4 MiB up, the global
// operator new below (the heap, which mimalloc also puts in huge pages unless
// memory.huge_pages is false; core/heap_pages.h). With millions of orders a table of a
// gigabyte in 4 KiB pages costs a TLB miss on nearly every probe, and fork() (the server's
// snapshots) has to copy a page-table entry for every 4 KiB; in 2 MiB pages both shrink
// 512-fold. With memory.huge_pages = false the mappings get MADV_NOHUGEPAGE instead. Where
// the kernel has no huge page to give (or THP is off) the memory is ordinary pages: only
// speed changes.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <new>

namespace smsx {

inline constexpr std::size_t kHugePageBytes = std::size_t{2} << 20;
inline constexpr std::size_t kHugePageAllocationMin = std::size_t{4} << 20;

// Whether big allocations ask for huge pages (MADV_HUGEPAGE) or refuse them
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
  // Twice the size, then the unaligned ends are given back: what is left is aligned.
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

template <class T>
struct HugePageAllocator {
  using value_type = T;

  HugePageAllocator() = default;
  template <class U>
  HugePageAllocator(const HugePageAllocator<U>&) {}  // NOLINT: rebinding is implicit

  T* allocate(std::size_t n) {
    const std::size_t bytes = n * sizeof(T);
    if (bytes < kHugePageAllocationMin) {
      return static_cast<T*>(::operator new (bytes, std::align_val_t{alignof(T)}));
    }
    return static_cast<T*>(map_huge_page_aligned(rounded(bytes)));
  }

  void deallocate(T* p, std::size_t n) {
    const std::size_t bytes = n * sizeof(T);
    if (bytes < kHugePageAllocationMin) {
      ::operator delete (p, std::align_val_t{alignof(T)});
      return;
    }
    ::munmap(p, rounded(bytes));
  }

  friend bool operator==(const HugePageAllocator&, const HugePageAllocator&) { return true; }

 private:
  static std::size_t rounded(std::size_t bytes) {
    return (bytes + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
  }
};

}  // namespace smsx
