/* CRC-32C (Castagnoli), the checksum of spool records: the CRC that Kafka,
 * ext4 and iSCSI use, with a CPU instruction on x86-64 (SSE 4.2). */
#ifndef MP_SPOOL_CRC32C_H
#define MP_SPOOL_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Continues a CRC over data[0..len): start with crc = 0. */
uint32_t mp__crc32c(uint32_t crc, const void *data, size_t len);

#endif
