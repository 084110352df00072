/*
 * Streaming LZ4 frames (lz4/lz4:doc/lz4_Frame_format.md) with liblz4's frame API, the
 * code behind the `lz4` CLI: the archive path's codec (packages/daemon/src/checkpoint/
 * lz4-stream.ts). An encoder or decoder is an external value owning one LZ4F context,
 * freed when it is collected. Every call is synchronous and writes into a buffer the
 * caller owns, so memory stays at the caller's buffers and liblz4's one block per context:
 *   encoderCreate(level, blockSizeId, contentChecksum) -> encoder
 *   encoderBound(encoder, srcLength) -> bytes    room encoderUpdate/End need in dst
 *   encoderBegin(encoder, dst) -> bytes          the frame header
 *   encoderUpdate(encoder, src, dst) -> bytes    compressed bytes of src, as blocks of their own (autoFlush)
 *   encoderEnd(encoder, dst) -> bytes            the last block, end mark and content checksum
 *   decoderCreate() -> decoder
 *   decode(decoder, src, dst) -> [consumed, produced, hint]
 *     hint 0: a frame just ended (frames may follow: concatenations and skippable frames
 *     are read as the CLI reads them). A damaged stream throws, code 'LZ4F', the message
 *     liblz4's error name (ERROR_contentChecksum_invalid, ERROR_frameType_unknown...).
 */
#include <lz4frame.h>
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "napi-args.h"

typedef struct {
  LZ4F_cctx *ctx;
  LZ4F_preferences_t prefs;
} encoder_t;



/* The external at argv[0], and up to `want - 1` Uint8Array arguments after it. */
static void *args(napi_env env, napi_callback_info info, size_t want, const char *usage, uint8_t **a, size_t *a_len,
                  uint8_t **b, size_t *b_len) {
  size_t argc = 3;
  napi_value argv[3];
  void *data = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < want ||
      napi_get_value_external(env, argv[0], &data) != napi_ok || data == NULL ||
      (want > 1 && bytes_arg(env, argv[1], a, a_len) < 0) || (want > 2 && bytes_arg(env, argv[2], b, b_len) < 0)) {
    napi_throw_type_error(env, NULL, usage);
    return NULL;
  }
  return data;
}

static napi_value lz4f_error(napi_env env, size_t code) {
  napi_throw_error(env, "LZ4F", LZ4F_getErrorName(code));
  return NULL;
}

static void encoder_free(napi_env env, void *data, void *hint) {
  encoder_t *e = data;
  LZ4F_freeCompressionContext(e->ctx);
  free(e);
}

static napi_value do_encoder_create(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  int32_t level, block_id;
  bool checksum;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3 ||
      napi_get_value_int32(env, argv[0], &level) != napi_ok || napi_get_value_int32(env, argv[1], &block_id) != napi_ok ||
      napi_get_value_bool(env, argv[2], &checksum) != napi_ok || block_id < 4 || block_id > 7) {
    napi_throw_type_error(env, NULL, "encoderCreate(level, blockSizeId 4-7, contentChecksum)");
    return NULL;
  }
  encoder_t *e = calloc(1, sizeof *e);
  if (e == NULL) {
    napi_throw_error(env, NULL, "encoderCreate: out of memory");
    return NULL;
  }
  size_t rc = LZ4F_createCompressionContext(&e->ctx, LZ4F_VERSION);
  if (LZ4F_isError(rc)) {
    free(e);
    return lz4f_error(env, rc);
  }
  e->prefs.compressionLevel = level;
  e->prefs.frameInfo.blockSizeID = (LZ4F_blockSizeID_t)block_id;
  e->prefs.frameInfo.blockMode = LZ4F_blockIndependent;
  e->prefs.frameInfo.contentChecksumFlag = checksum ? LZ4F_contentChecksumEnabled : LZ4F_noContentChecksum;
  /* Each update's input becomes whole blocks at once, compressed from where it is: no copy
     into liblz4's block buffer (a caller feeds it block-sized pieces). */
  e->prefs.autoFlush = 1;
  napi_value out;
  if (napi_create_external(env, e, encoder_free, NULL, &out) != napi_ok) {
    encoder_free(env, e, NULL);
    napi_throw_error(env, NULL, "encoderCreate: cannot wrap the context");
    return NULL;
  }
  return out;
}

static napi_value do_encoder_bound(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  void *data = NULL;
  int64_t length;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 ||
      napi_get_value_external(env, argv[0], &data) != napi_ok || data == NULL ||
      napi_get_value_int64(env, argv[1], &length) != napi_ok || length < 0) {
    napi_throw_type_error(env, NULL, "encoderBound(encoder, srcLength)");
    return NULL;
  }
  encoder_t *e = data;
  return number(env, (double)LZ4F_compressBound((size_t)length, &e->prefs));
}

static napi_value do_encoder_begin(napi_env env, napi_callback_info info) {
  uint8_t *dst;
  size_t dst_len;
  encoder_t *e = args(env, info, 2, "encoderBegin(encoder, dst)", &dst, &dst_len, NULL, NULL);
  if (e == NULL) return NULL;
  size_t n = LZ4F_compressBegin(e->ctx, dst, dst_len, &e->prefs);
  return LZ4F_isError(n) ? lz4f_error(env, n) : number(env, (double)n);
}

static napi_value do_encoder_update(napi_env env, napi_callback_info info) {
  uint8_t *src, *dst;
  size_t src_len, dst_len;
  encoder_t *e = args(env, info, 3, "encoderUpdate(encoder, src, dst)", &src, &src_len, &dst, &dst_len);
  if (e == NULL) return NULL;
  size_t n = LZ4F_compressUpdate(e->ctx, dst, dst_len, src, src_len, NULL);
  return LZ4F_isError(n) ? lz4f_error(env, n) : number(env, (double)n);
}

static napi_value do_encoder_end(napi_env env, napi_callback_info info) {
  uint8_t *dst;
  size_t dst_len;
  encoder_t *e = args(env, info, 2, "encoderEnd(encoder, dst)", &dst, &dst_len, NULL, NULL);
  if (e == NULL) return NULL;
  size_t n = LZ4F_compressEnd(e->ctx, dst, dst_len, NULL);
  return LZ4F_isError(n) ? lz4f_error(env, n) : number(env, (double)n);
}

static void decoder_free(napi_env env, void *data, void *hint) { LZ4F_freeDecompressionContext(data); }

static napi_value do_decoder_create(napi_env env, napi_callback_info info) {
  LZ4F_dctx *ctx;
  size_t rc = LZ4F_createDecompressionContext(&ctx, LZ4F_VERSION);
  if (LZ4F_isError(rc)) return lz4f_error(env, rc);
  napi_value out;
  if (napi_create_external(env, ctx, decoder_free, NULL, &out) != napi_ok) {
    LZ4F_freeDecompressionContext(ctx);
    napi_throw_error(env, NULL, "decoderCreate: cannot wrap the context");
    return NULL;
  }
  return out;
}

static napi_value do_decode(napi_env env, napi_callback_info info) {
  uint8_t *src, *dst;
  size_t src_len, dst_len;
  LZ4F_dctx *ctx = args(env, info, 3, "decode(decoder, src, dst)", &src, &src_len, &dst, &dst_len);
  if (ctx == NULL) return NULL;
  size_t consumed = src_len, produced = dst_len;
  size_t hint = LZ4F_decompress(ctx, dst, &produced, src, &consumed, NULL);
  if (LZ4F_isError(hint)) return lz4f_error(env, hint);
  napi_value out;
  napi_create_array_with_length(env, 3, &out);
  napi_set_element(env, out, 0, number(env, (double)consumed));
  napi_set_element(env, out, 1, number(env, (double)produced));
  napi_set_element(env, out, 2, number(env, (double)hint));
  return out;
}

napi_value lz4frame_init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"encoderCreate", NULL, do_encoder_create, NULL, NULL, NULL, napi_enumerable, NULL},
      {"encoderBound", NULL, do_encoder_bound, NULL, NULL, NULL, napi_enumerable, NULL},
      {"encoderBegin", NULL, do_encoder_begin, NULL, NULL, NULL, napi_enumerable, NULL},
      {"encoderUpdate", NULL, do_encoder_update, NULL, NULL, NULL, napi_enumerable, NULL},
      {"encoderEnd", NULL, do_encoder_end, NULL, NULL, NULL, napi_enumerable, NULL},
      {"decoderCreate", NULL, do_decoder_create, NULL, NULL, NULL, napi_enumerable, NULL},
      {"decode", NULL, do_decode, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof *props, props);
  return exports;
}
