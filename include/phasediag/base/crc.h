/* CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), in software:
 * the integrity check of the checkpoint's records and of the in-flight task
 * state files.  CRC-32C of the 9 bytes "123456789" is 0xE3069283.
 *
 * Running form: start from 0, feed the bytes in pieces, the value after the
 * last piece is the CRC of their concatenation:
 *
 *   uint32_t c = 0;
 *   c = pd_crc32c(c, head, nhead);
 *   c = pd_crc32c(c, body, nbody);   (== pd_crc32c(0, head ++ body, ...))
 *
 * Slicing by 8 (8 table lookups per 8 bytes), byte-order independent; the
 * tables are built on the first call (not thread-safe on that call). */
#ifndef PHASEDIAG_CRC_H
#define PHASEDIAG_CRC_H

#include <stddef.h>
#include <stdint.h>

/* The CRC of the bytes so far (crc) continued over n bytes of buf. */
uint32_t pd_crc32c(uint32_t crc, const void *buf, size_t n);

/* The same over count 8-byte values (int64, uint64 or double) taken as
 * little-endian bytes whatever the host's byte order, so a checksum of
 * values read back through a portable format (HDF5) is the writer's. */
uint32_t pd_crc32c_le64(uint32_t crc, const void *values, size_t count);

#endif
