#include "phasediag/base/crc.h"

#include <string.h>

#define PD_CRC32C_POLY 0x82F63B78u /* reflected Castagnoli polynomial */

/* tab[0]: the byte table; tab[k][b]: the CRC of b followed by k zero bytes */
static uint32_t pd_crc_tab[8][256];
static int pd_crc_ready;

static void pd_crc_init(void) {
  for (uint32_t b = 0; b < 256; b++) {
    uint32_t c = b;
    for (int k = 0; k < 8; k++) c = c & 1 ? (c >> 1) ^ PD_CRC32C_POLY : c >> 1;
    pd_crc_tab[0][b] = c;
  }
  for (int k = 1; k < 8; k++)
    for (int b = 0; b < 256; b++) {
      const uint32_t c = pd_crc_tab[k - 1][b];
      pd_crc_tab[k][b] = (c >> 8) ^ pd_crc_tab[0][c & 0xff];
    }
  pd_crc_ready = 1;
}

uint32_t pd_crc32c(uint32_t crc, const void *buf, size_t n) {
  if (!pd_crc_ready) pd_crc_init();
  const unsigned char *p = buf;
  uint32_t c = ~crc;
  for (; n >= 8; n -= 8, p += 8) { /* bytes assembled: any byte order */
    const uint32_t lo = c ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 |
                             (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
    c = pd_crc_tab[7][lo & 0xff] ^ pd_crc_tab[6][(lo >> 8) & 0xff] ^
        pd_crc_tab[5][(lo >> 16) & 0xff] ^ pd_crc_tab[4][lo >> 24] ^
        pd_crc_tab[3][p[4]] ^ pd_crc_tab[2][p[5]] ^ pd_crc_tab[1][p[6]] ^
        pd_crc_tab[0][p[7]];
  }
  for (; n > 0; n--, p++) c = (c >> 8) ^ pd_crc_tab[0][(c ^ *p) & 0xff];
  return ~c;
}

uint32_t pd_crc32c_le64(uint32_t crc, const void *values, size_t count) {
  const unsigned char *p = values;
  const uint64_t one = 1;
  unsigned char first;
  memcpy(&first, &one, 1);
  if (first == 1) return pd_crc32c(crc, values, 8 * count); /* little end */
  for (size_t i = 0; i < count; i++, p += 8) {
    uint64_t v;
    unsigned char le[8];
    memcpy(&v, p, 8);
    for (int k = 0; k < 8; k++) le[k] = (unsigned char)(v >> (8 * k));
    crc = pd_crc32c(crc, le, 8);
  }
  return crc;
}
