/* CRC-32C: the known answers, the running form and the slicing path against
 * a bit-at-a-time reference. */
#include <string.h>

#include "pd_test.h"
#include "phasediag/base/crc.h"

/* bit at a time, straight from the definition */
static uint32_t crc_ref(const unsigned char *p, size_t n) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; i++) {
    c ^= p[i];
    for (int k = 0; k < 8; k++) c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
  }
  return ~c;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  const char *s = "123456789";
  uint32_t c = pd_crc32c(0, s, 9);
  PD_TEST_CHECK(c == 0xE3069283u, "CRC-32C(\"123456789\") = %08x", c);
  PD_TEST_CHECK(pd_crc32c(0, s, 0) == 0, "empty input");
  /* RFC 3720 (iSCSI) B.4: 32 bytes of zeros, of 0xff, ascending */
  unsigned char b[4096];
  memset(b, 0, 32);
  c = pd_crc32c(0, b, 32);
  PD_TEST_CHECK(c == 0x8A9136AAu, "32 zeros: %08x", c);
  memset(b, 0xff, 32);
  c = pd_crc32c(0, b, 32);
  PD_TEST_CHECK(c == 0x62A8AB43u, "32 x 0xff: %08x", c);
  for (int i = 0; i < 32; i++) b[i] = (unsigned char)i;
  c = pd_crc32c(0, b, 32);
  PD_TEST_CHECK(c == 0x46DD794Eu, "0..31: %08x", c);
  /* every length and alignment against the reference; split anywhere */
  for (size_t i = 0; i < sizeof b; i++)
    b[i] = (unsigned char)(pd_rng_uniform(7, 1, i, 0) * 256);
  for (size_t n = 0; n <= 80; n++)
    for (size_t o = 0; o < 8; o++)
      PD_TEST_CHECK(pd_crc32c(0, b + o, n) == crc_ref(b + o, n),
                    "length %zu offset %zu", n, o);
  const uint32_t whole = pd_crc32c(0, b, sizeof b);
  PD_TEST_CHECK(whole == crc_ref(b, sizeof b), "4096 bytes");
  for (size_t k = 0; k <= sizeof b; k += 61)
    PD_TEST_CHECK(pd_crc32c(pd_crc32c(0, b, k), b + k, sizeof b - k) == whole,
                  "split at %zu", k);
  /* one flipped bit anywhere changes it */
  for (size_t i = 0; i < sizeof b; i += 97) {
    b[i] ^= 0x10;
    PD_TEST_CHECK(pd_crc32c(0, b, sizeof b) != whole, "flip at %zu", i);
    b[i] ^= 0x10;
  }
  /* 8-byte values as little-endian bytes */
  const uint64_t v[2] = {UINT64_C(0x0807060504030201),
                         UINT64_C(0x100f0e0d0c0b0a09)};
  unsigned char le[16];
  for (int i = 0; i < 16; i++) le[i] = (unsigned char)(i + 1);
  PD_TEST_CHECK(pd_crc32c_le64(0, v, 2) == pd_crc32c(0, le, 16),
                "little-endian values");
  return pd_test_end("test_crc");
}
