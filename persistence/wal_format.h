// On-disk constants of the write-ahead log and of snapshot files. docs/wal_format.md is
// the prose spec; every number here appears there with its byte offset. Changing any of
// them changes the format: bump the matching version.
//
// All integers are little-endian. LSNs (log sequence numbers) start at 1 and increase by
// exactly 1 per record across the whole log; LSN 0 means "none".
#pragma once

#include <cstddef>
#include <cstdint>

namespace smsx::persistence {

// ---- Segment files: wal-<first LSN, 20 decimal digits>.log --------------------------

inline constexpr char kSegmentPrefix[] = "wal-";
inline constexpr char kSegmentSuffix[] = ".log";
inline constexpr size_t kLsnDigits = 20;  // enough for every uint64_t, so names sort by LSN
inline constexpr size_t kSegmentNameBytes = 4 + kLsnDigits + 4;

inline constexpr uint32_t kSegmentMagic = 0x57584d53u;  // bytes "SMXW"
// Version 1: records appended (the file ends after the last record, or in a torn tail).
// Version 2: a preallocated segment (WalWriterOptions::preallocation): created zero-filled
// at its full size, records written over the zeros; zeros from a record boundary to the
// end of the file end the segment. Builds that know only version 1 refuse version 2 by
// its number instead of taking its zeros for damage.
inline constexpr uint32_t kSegmentVersion = 1;
inline constexpr uint32_t kSegmentVersionPreallocated = 2;

// Segment file header: magic u32 @0, version u32 @4, first LSN u64 @8,
// masked CRC32C of bytes [0, 16) u32 @16.
inline constexpr size_t kSegmentMagicOffset = 0;
inline constexpr size_t kSegmentVersionOffset = 4;
inline constexpr size_t kSegmentFirstLsnOffset = 8;
inline constexpr size_t kSegmentHeaderCrcOffset = 16;
inline constexpr size_t kSegmentHeaderBytes = 20;
static_assert(kSegmentHeaderCrcOffset + 4 == kSegmentHeaderBytes);

// The next segment, prepared ahead (zero-filled to its full size and synced) when segments
// are preallocated, and renamed to its segment name when the log rolls over to it. Never
// read: recovery ignores it and the writer deletes a leftover one when it opens.
inline constexpr char kSpareSegmentName[] = "wal-spare.tmp";

// A commit rolls to a new segment before its batch would take the current one past this
// size, unless the segment holds no record yet (so one oversized batch still fits).
inline constexpr uint64_t kSegmentBytesMax = 64ull << 20;  // 64 MiB

// ---- Records ------------------------------------------------------------------------
//
// masked CRC32C u32 @0 | payload length u32 @4 | LSN u64 @8 | type u8 @16 | payload @17
//
// The CRC covers bytes [4, 17 + length): length, LSN, type and payload, so a damaged
// length or LSN fails the checksum instead of being trusted.
inline constexpr size_t kRecordCrcOffset = 0;
inline constexpr size_t kRecordLengthOffset = 4;
inline constexpr size_t kRecordLsnOffset = 8;
inline constexpr size_t kRecordTypeOffset = 16;
inline constexpr size_t kRecordHeaderBytes = 17;
inline constexpr size_t kRecordCrcCoverageOffset = kRecordLengthOffset;
static_assert(kRecordTypeOffset + 1 == kRecordHeaderBytes);
static_assert(kRecordLsnOffset + 8 == kRecordTypeOffset);

// Bit 31 of the length field, in preallocated (version 2) segments only: set on the first
// record of each write(). After a power loss the pages of the last, unsynced write may
// reach the disk in any order; recovery cuts damage followed by intact records as that
// write's torn tail only when no intact record after the damage starts a write.
inline constexpr uint32_t kRecordBatchStartFlag = 1u << 31;

// Largest payload of one record. The engine's encoded commands are far smaller; a length
// above this in a header is damage, not a record.
inline constexpr uint32_t kRecordPayloadBytesMax = 1u << 20;  // 1 MiB
static_assert(kRecordPayloadBytesMax < kRecordBatchStartFlag);
static_assert(kSegmentHeaderBytes + kRecordHeaderBytes + kRecordPayloadBytesMax <= kSegmentBytesMax,
              "a record of the largest size must fit in one segment");

// Type 0 is never written: an all-zero header (preallocated or zero-filled space after a
// crash) must not parse as a record. Types 1..255 belong to the engine.
inline constexpr uint8_t kRecordTypeReserved = 0;

// The WAL budget of one place-order command, header included (issue 4 target), and the
// payload bytes that leaves for the engine's encoding.
inline constexpr size_t kPlaceOrderRecordBytesMax = 48;
inline constexpr size_t kPlaceOrderPayloadBytesMax = kPlaceOrderRecordBytesMax - kRecordHeaderBytes;
static_assert(kPlaceOrderPayloadBytesMax == 31);

// ---- Snapshot files: snap-<LSN, 20 decimal digits>.snap -----------------------------

inline constexpr char kSnapshotPrefix[] = "snap-";
inline constexpr char kSnapshotSuffix[] = ".snap";
inline constexpr char kTempSuffix[] = ".tmp";  // written here, renamed into place
inline constexpr size_t kSnapshotNameBytes = 5 + kLsnDigits + 5;

inline constexpr uint32_t kSnapshotMagic = 0x53584d53u;  // bytes "SMXS"
inline constexpr uint32_t kSnapshotVersion = 1;

// Snapshot header: magic u32 @0, version u32 @4, LSN u64 @8, body length u64 @16,
// masked CRC32C of the body u32 @24, masked CRC32C of bytes [0, 28) u32 @28; body @32.
inline constexpr size_t kSnapshotMagicOffset = 0;
inline constexpr size_t kSnapshotVersionOffset = 4;
inline constexpr size_t kSnapshotLsnOffset = 8;
inline constexpr size_t kSnapshotBodyBytesOffset = 16;
inline constexpr size_t kSnapshotBodyCrcOffset = 24;
inline constexpr size_t kSnapshotHeaderCrcOffset = 28;
inline constexpr size_t kSnapshotHeaderBytes = 32;
static_assert(kSnapshotHeaderCrcOffset + 4 == kSnapshotHeaderBytes);

// Snapshots kept after a new one is verified: the new one and its predecessor, so a
// corrupt newest snapshot falls back to the previous one and a longer replay.
inline constexpr size_t kSnapshotsKept = 2;

}  // namespace smsx::persistence
