/* Wire protocol between the Berth engine and the guest agent.
 * The TypeScript twin is src/common/agent-protocol.ts: keep both in step.
 *
 * A frame: 'B' 'T' | type u8 | flags u8 | id u32 | len u32 | payload | crc32 u32
 * (little endian; the CRC covers everything before it). A frame whose magic,
 * length or CRC is wrong is dropped and the reader rescans from the next byte,
 * so a truncated or corrupt frame costs only itself. */
#ifndef BERTH_PROTOCOL_H
#define BERTH_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

#define BT_MAGIC0 'B'
#define BT_MAGIC1 'T'
#define BT_HEADER 12
#define BT_TRAILER 4
#define BT_MAX_PAYLOAD (1u << 20)
#define BT_VERSION "berth-agent 1"

/* engine -> agent */
#define BT_HELLO 0x01      /* -> READY */
#define BT_EXEC 0x02       /* strings: argv..., "", env..., "", cwd; flags: BT_F_* */
#define BT_STDIN 0x03      /* bytes for process <id>; empty = close stdin */
#define BT_SIGNAL 0x04     /* u32 signal for process <id> */
#define BT_SET_TIME 0x05   /* u64 milliseconds since the epoch */
#define BT_WRITE_FILE 0x06 /* strings: path, mode (octal) ; then raw bytes after a NUL */
#define BT_MOUNT_OVERLAY 0x07 /* strings: target, lowerdir... */
#define BT_CT_CREATE 0x08  /* strings: name, bundle, config.json text */
#define BT_CT_START 0x09   /* strings: name */
#define BT_CT_KILL 0x0a    /* strings: name, signal */
#define BT_CT_DELETE 0x0b  /* strings: name */
#define BT_RESIZE 0x0c     /* u16 rows, u16 cols for process <id> (tty only) */

/* agent -> engine */
#define BT_READY 0x81      /* payload: version string */
#define BT_STDOUT 0x82
#define BT_STDERR 0x83
#define BT_EXIT 0x84       /* i32 status: exit code, or 128 + signal */
#define BT_ERROR 0x85      /* text */
#define BT_OK 0x86
#define BT_ACK 0x87        /* u32 bytes of input consumed since the last ACK */

#define BT_F_STDIN 0x01    /* keep stdin open for BT_STDIN (else /dev/null) */
#define BT_F_TTY 0x02      /* run on a pty (stdout carries both streams) */

/* docker client <-> agent (unix socket /run/berth/docker.sock), agent <-> engine */
#define BT_CLI_START 0x10  /* strings: argc, envc, argv..., env..., cwd, tty (0/1), rows, cols */
#define BT_CLI_STDIN 0x11  /* agent -> engine: bytes for session <id>; empty = EOF */
#define BT_CLI_CLOSE 0x12  /* agent -> engine: the client went away */
#define BT_CLI_SIGNAL 0x13 /* client -> agent -> engine: u32 signal the client received (docker run --sig-proxy) */
#define BT_CLI_STDOUT 0x88 /* engine -> agent: bytes for session <id>'s stdout */
#define BT_CLI_STDERR 0x89
#define BT_CLI_EXIT 0x8a   /* i32 status; the agent closes the client */
#define BT_CLI_RAW 0x8b    /* engine -> client: put your terminal in raw mode (docker run -t) */
#define BT_CLI_SIGPROXY 0x8c /* engine -> client: catch signals and send them (BT_CLI_SIGNAL) instead of dying */
#define BT_DOCKER_SOCK "/run/berth/docker.sock"

uint32_t bt_crc32(const uint8_t *p, size_t n);
void bt_put32(uint8_t *p, uint32_t v);
uint32_t bt_get32(const uint8_t *p);
/* Encodes a frame into out (which has room for BT_HEADER + n + BT_TRAILER); returns its length. */
size_t bt_encode(uint8_t *out, uint8_t type, uint8_t flags, uint32_t id, const void *data, size_t n);
/* Finds the first whole valid frame in buf[0..len): sets *start and *flen and returns 1, or 0 when
 * none is complete yet; *skip is how many leading bytes are garbage and may be dropped. */
int bt_find(const uint8_t *buf, size_t len, size_t *start, size_t *flen, size_t *skip);

#endif
