/* Framing shared by the agent and the docker client (see protocol.h). */
#include <string.h>

#include "protocol.h"

uint32_t bt_crc32(const uint8_t *p, size_t n) {
  static uint32_t table[256];
  if (!table[1])
    for (uint32_t i = 0; i < 256; i++) {
      uint32_t c = i;
      for (int k = 0; k < 8; k++) c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
      table[i] = c;
    }
  uint32_t c = 0xffffffffu;
  while (n--) c = table[(c ^ *p++) & 0xff] ^ (c >> 8);
  return c ^ 0xffffffffu;
}

void bt_put32(uint8_t *p, uint32_t v) { p[0] = v; p[1] = v >> 8; p[2] = v >> 16; p[3] = v >> 24; }
uint32_t bt_get32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }

size_t bt_encode(uint8_t *out, uint8_t type, uint8_t flags, uint32_t id, const void *data, size_t n) {
  out[0] = BT_MAGIC0; out[1] = BT_MAGIC1; out[2] = type; out[3] = flags;
  bt_put32(out + 4, id);
  bt_put32(out + 8, (uint32_t)n);
  if (n) memcpy(out + BT_HEADER, data, n);
  bt_put32(out + BT_HEADER + n, bt_crc32(out, BT_HEADER + n));
  return BT_HEADER + n + BT_TRAILER;
}

int bt_find(const uint8_t *buf, size_t len, size_t *start, size_t *flen, size_t *skip) {
  size_t off = 0;
  while (len - off >= BT_HEADER + BT_TRAILER) {
    const uint8_t *f = buf + off;
    uint32_t n = bt_get32(f + 8);
    if (f[0] != BT_MAGIC0 || f[1] != BT_MAGIC1 || n > BT_MAX_PAYLOAD) { off++; continue; }
    if (len - off < BT_HEADER + n + BT_TRAILER) break;
    if (bt_crc32(f, BT_HEADER + n) != bt_get32(f + BT_HEADER + n)) { off++; continue; }
    *start = off; *flen = BT_HEADER + n + BT_TRAILER; *skip = off;
    return 1;
  }
  *skip = off;
  return 0;
}
