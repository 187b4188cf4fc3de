// CRC-32C (Castagnoli), the checksum of the disk tier's page records. Chosen over a 64-bit
// hash because it is the standard for storage (ext4, iSCSI, LevelDB), detects every burst
// error up to 32 bits and every odd bit count, and has a well-known test vector. Software
// slice-by-8 (~1.5 GB/s per core, far above what a page read or write costs); no dependency.
#pragma once

#include <cstddef>
#include <cstdint>

namespace agentserve {

// Continues a CRC: crc32c(crc32c(0, a), b) == crc32c(0, a ++ b).
uint32_t crc32c(uint32_t crc, const void* data, size_t size);

}  // namespace agentserve
