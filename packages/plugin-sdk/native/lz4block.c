/*
 * The streamer's codec: lz4 blocks with liblz4, the reference C library. lz4-napi (the
 * Rust lz4_flex port) compresses the benchmark's half-random pages at ~350 MiB/s per
 * core, liblz4 at ~3 GiB/s, which is the difference between the codec being the
 * bottleneck of a streamed dump and not (docs/streams.md). The layout is lz4-napi's
 * `compress`: the raw length (4 bytes, little endian), then one lz4 block, so either
 * library reads what the other wrote. Synchronous calls on 1 MiB chunks, made by the
 * streamer's codec worker threads (and by inspect), into buffers the caller owns:
 *   compressBound(rawLength) -> bytes   room compress needs in dst
 *   compress(src, dst)       -> bytes   written to dst
 *   decompress(src, dst)     -> bytes   written to dst, or -1 when src is not one whole
 *                                       block of the length it says, or dst is too small
 */
#include <lz4.h>
#include <node_api.h>
#include <stdint.h>
#include <string.h>

#include "napi-args.h"

#define PREFIX 4


static int two_buffers(napi_env env, napi_callback_info info, const char *usage, uint8_t **src, size_t *src_len,
                       uint8_t **dst, size_t *dst_len) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 ||
      bytes_arg(env, argv[0], src, src_len) < 0 || bytes_arg(env, argv[1], dst, dst_len) < 0) {
    napi_throw_type_error(env, NULL, usage);
    return -1;
  }
  return 0;
}


static napi_value do_compress_bound(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t raw;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_int32(env, argv[0], &raw) != napi_ok || raw < 0 || raw > LZ4_MAX_INPUT_SIZE) {
    napi_throw_range_error(env, NULL, "compressBound(rawLength): an integer from 0 to LZ4_MAX_INPUT_SIZE");
    return NULL;
  }
  return number(env, PREFIX + LZ4_compressBound(raw));
}

static napi_value do_compress(napi_env env, napi_callback_info info) {
  uint8_t *src, *dst;
  size_t src_len, dst_len;
  if (two_buffers(env, info, "compress(src, dst): two Uint8Arrays", &src, &src_len, &dst, &dst_len) < 0) return NULL;
  if (src_len > LZ4_MAX_INPUT_SIZE || dst_len < (size_t)(PREFIX + LZ4_compressBound((int)src_len))) {
    napi_throw_range_error(env, NULL, "compress(src, dst): dst is smaller than compressBound(src.length)");
    return NULL;
  }
  uint32_t raw = (uint32_t)src_len;
  uint8_t prefix[PREFIX] = {raw & 0xff, (raw >> 8) & 0xff, (raw >> 16) & 0xff, raw >> 24};
  memcpy(dst, prefix, PREFIX);
  int n = LZ4_compress_default((const char *)src, (char *)dst + PREFIX, (int)src_len, (int)(dst_len - PREFIX));
  if (n <= 0 && src_len > 0) {
    napi_throw_error(env, NULL, "compress: liblz4 failed");
    return NULL;
  }
  return number(env, PREFIX + n);
}

static napi_value do_decompress(napi_env env, napi_callback_info info) {
  uint8_t *src, *dst;
  size_t src_len, dst_len;
  if (two_buffers(env, info, "decompress(src, dst): two Uint8Arrays", &src, &src_len, &dst, &dst_len) < 0) return NULL;
  if (src_len < PREFIX) return number(env, -1);
  uint32_t raw = src[0] | (src[1] << 8) | (src[2] << 16) | ((uint32_t)src[3] << 24);
  if (raw > dst_len || src_len - PREFIX > INT32_MAX) return number(env, -1);
  if (raw == 0) return number(env, src_len == PREFIX + 1 || src_len == PREFIX ? 0 : -1);
  int n = LZ4_decompress_safe((const char *)src + PREFIX, (char *)dst, (int)(src_len - PREFIX), (int)raw);
  return number(env, n == (int)raw ? n : -1);
}

napi_value lz4block_init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"compressBound", NULL, do_compress_bound, NULL, NULL, NULL, napi_enumerable, NULL},
      {"compress", NULL, do_compress, NULL, NULL, NULL, napi_enumerable, NULL},
      {"decompress", NULL, do_decompress, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof *props, props);
  return exports;
}
