/*
 * Streaming zstd frames (RFC 8878) with libzstd's streaming API, the code behind the `zstd`
 * CLI: the archive path's zstd codec (packages/daemon/src/checkpoint/zstd-stream.ts). An
 * encoder or decoder is an external value owning one ZSTD_CCtx or ZSTD_DCtx, freed when it
 * is collected. A call runs on libuv's thread pool (zstd at level 3 is ~10x slower than
 * lz4: on the daemon's thread it would hold up every gRPC answer) and resolves when done;
 * the caller makes one call at a time per context and keeps src and dst alive until then.
 * Each call writes into a buffer the caller owns, so memory stays at the caller's buffers and
 * libzstd's window (2 MiB at level 3, or a job per worker thread with workers > 0):
 *   zstdEncoderCreate(level, workers, contentChecksum) -> encoder
 *   zstdEncode(encoder, src, dst, end) -> Promise<[consumed, produced, remaining]>
 *     compresses src until it is consumed or dst is full; with end, also closes the frame:
 *     remaining is what is still to flush (call again with the rest of src and end), 0 done.
 *   zstdDecoderCreate() -> decoder
 *   zstdDecode(decoder, src, dst) -> Promise<[consumed, produced, hint]>
 *     decodes src until it is consumed or dst is full; hint 0: a frame just ended and all of
 *     it is in dst (frames may follow: concatenations and skippable frames are read as the
 *     CLI reads them). A damaged stream rejects, code 'ZSTD', with libzstd's error name.
 */
#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <zstd.h>

#include "napi-args.h"

typedef struct {
  bool encoder;
  void *ctx; /* ZSTD_CCtx or ZSTD_DCtx */
} zstd_ctx_t;

typedef struct {
  zstd_ctx_t *z;
  napi_async_work work;
  napi_deferred deferred;
  napi_ref refs[3]; /* the context, src, dst: alive until the work is done */
  const uint8_t *src;
  size_t src_len;
  uint8_t *dst;
  size_t dst_len;
  bool end;
  size_t consumed, produced, rc;
} zstd_call_t;

static void ctx_free(napi_env env, void *data, void *hint) {
  zstd_ctx_t *z = data;
  if (z->encoder) ZSTD_freeCCtx(z->ctx);
  else ZSTD_freeDCtx(z->ctx);
  free(z);
}

static napi_value wrap(napi_env env, zstd_ctx_t *z, const char *what) {
  napi_value out;
  if (napi_create_external(env, z, ctx_free, NULL, &out) != napi_ok) {
    ctx_free(env, z, NULL);
    napi_throw_error(env, NULL, what);
    return NULL;
  }
  return out;
}

static napi_value zstd_error(napi_env env, size_t code) {
  napi_throw_error(env, "ZSTD", ZSTD_getErrorName(code));
  return NULL;
}

static napi_value do_encoder_create(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  int32_t level, workers;
  bool checksum;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3 ||
      napi_get_value_int32(env, argv[0], &level) != napi_ok || napi_get_value_int32(env, argv[1], &workers) != napi_ok ||
      napi_get_value_bool(env, argv[2], &checksum) != napi_ok || workers < 0) {
    napi_throw_type_error(env, NULL, "zstdEncoderCreate(level, workers >= 0, contentChecksum)");
    return NULL;
  }
  zstd_ctx_t *z = calloc(1, sizeof *z);
  ZSTD_CCtx *ctx = ZSTD_createCCtx();
  if (z == NULL || ctx == NULL) {
    free(z);
    ZSTD_freeCCtx(ctx);
    napi_throw_error(env, NULL, "zstdEncoderCreate: out of memory");
    return NULL;
  }
  z->encoder = true;
  z->ctx = ctx;
  size_t rc = ZSTD_CCtx_setParameter(ctx, ZSTD_c_compressionLevel, level);
  if (!ZSTD_isError(rc)) rc = ZSTD_CCtx_setParameter(ctx, ZSTD_c_checksumFlag, checksum ? 1 : 0);
  /* A libzstd built without threads refuses workers > 0. */
  if (!ZSTD_isError(rc) && workers > 0) rc = ZSTD_CCtx_setParameter(ctx, ZSTD_c_nbWorkers, workers);
  if (ZSTD_isError(rc)) {
    ctx_free(env, z, NULL);
    return zstd_error(env, rc);
  }
  return wrap(env, z, "zstdEncoderCreate: cannot wrap the context");
}

static napi_value do_decoder_create(napi_env env, napi_callback_info info) {
  zstd_ctx_t *z = calloc(1, sizeof *z);
  ZSTD_DCtx *ctx = ZSTD_createDCtx();
  if (z == NULL || ctx == NULL) {
    free(z);
    ZSTD_freeDCtx(ctx);
    napi_throw_error(env, NULL, "zstdDecoderCreate: out of memory");
    return NULL;
  }
  z->ctx = ctx;
  return wrap(env, z, "zstdDecoderCreate: cannot wrap the context");
}

/* On the thread pool: no N-API calls here. */
static void call_execute(napi_env env, void *data) {
  zstd_call_t *c = data;
  ZSTD_inBuffer in = {c->src, c->src_len, 0};
  ZSTD_outBuffer out = {c->dst, c->dst_len, 0};
  size_t rc = 0;
  if (c->z->encoder) {
    ZSTD_EndDirective mode = c->end ? ZSTD_e_end : ZSTD_e_continue;
    do {
      rc = ZSTD_compressStream2(c->z->ctx, &out, &in, mode);
    } while (!ZSTD_isError(rc) && out.pos < out.size && (in.pos < in.size || (c->end && rc != 0)));
  } else {
    do {
      rc = ZSTD_decompressStream(c->z->ctx, &out, &in);
      /* A frame's end is reported once: stop there, so the caller sees hint 0. */
    } while (!ZSTD_isError(rc) && rc != 0 && in.pos < in.size && out.pos < out.size);
  }
  c->consumed = in.pos;
  c->produced = out.pos;
  c->rc = rc;
}

static void call_complete(napi_env env, napi_status status, void *data) {
  zstd_call_t *c = data;
  napi_value result;
  if (status != napi_ok) {
    napi_value msg;
    napi_create_string_utf8(env, "the zstd call was cancelled", NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &result);
    napi_reject_deferred(env, c->deferred, result);
  } else if (ZSTD_isError(c->rc)) {
    napi_value code, msg;
    napi_create_string_utf8(env, "ZSTD", NAPI_AUTO_LENGTH, &code);
    napi_create_string_utf8(env, ZSTD_getErrorName(c->rc), NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, code, msg, &result);
    napi_reject_deferred(env, c->deferred, result);
  } else {
    napi_create_array_with_length(env, 3, &result);
    napi_set_element(env, result, 0, number(env, (double)c->consumed));
    napi_set_element(env, result, 1, number(env, (double)c->produced));
    napi_set_element(env, result, 2, number(env, (double)c->rc));
    napi_resolve_deferred(env, c->deferred, result);
  }
  for (int i = 0; i < 3; i++) napi_delete_reference(env, c->refs[i]);
  napi_delete_async_work(env, c->work);
  free(c);
}

/* zstdEncode(encoder, src, dst, end) and zstdDecode(decoder, src, dst). */
static napi_value start_call(napi_env env, napi_callback_info info, bool encoder, const char *usage) {
  size_t argc = 4;
  napi_value argv[4];
  void *data = NULL;
  uint8_t *src, *dst;
  size_t src_len, dst_len;
  bool end = false;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < (encoder ? 4 : 3) ||
      napi_get_value_external(env, argv[0], &data) != napi_ok || data == NULL || ((zstd_ctx_t *)data)->encoder != encoder ||
      bytes_arg(env, argv[1], &src, &src_len) < 0 || bytes_arg(env, argv[2], &dst, &dst_len) < 0 || dst_len == 0 ||
      (encoder && napi_get_value_bool(env, argv[3], &end) != napi_ok)) {
    napi_throw_type_error(env, NULL, usage);
    return NULL;
  }
  zstd_call_t *c = calloc(1, sizeof *c);
  if (c == NULL) {
    napi_throw_error(env, NULL, "zstd: out of memory");
    return NULL;
  }
  *c = (zstd_call_t){.z = data, .src = src, .src_len = src_len, .dst = dst, .dst_len = dst_len, .end = end};
  napi_value promise, name;
  napi_create_string_utf8(env, encoder ? "zstdEncode" : "zstdDecode", NAPI_AUTO_LENGTH, &name);
  for (int i = 0; i < 3; i++) napi_create_reference(env, argv[i], 1, &c->refs[i]);
  napi_create_promise(env, &c->deferred, &promise);
  if (napi_create_async_work(env, NULL, name, call_execute, call_complete, c, &c->work) != napi_ok) {
    for (int i = 0; i < 3; i++) napi_delete_reference(env, c->refs[i]);
    free(c);
    napi_throw_error(env, NULL, "zstd: cannot queue the call");
    return NULL;
  }
  if (napi_queue_async_work(env, c->work) != napi_ok) call_complete(env, napi_generic_failure, c);
  return promise;
}

static napi_value do_encode(napi_env env, napi_callback_info info) {
  return start_call(env, info, true, "zstdEncode(encoder, src, dst (not empty), end)");
}

static napi_value do_decode(napi_env env, napi_callback_info info) {
  return start_call(env, info, false, "zstdDecode(decoder, src, dst (not empty))");
}

napi_value zstdframe_init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"zstdEncoderCreate", NULL, do_encoder_create, NULL, NULL, NULL, napi_enumerable, NULL},
      {"zstdEncode", NULL, do_encode, NULL, NULL, NULL, napi_enumerable, NULL},
      {"zstdDecoderCreate", NULL, do_decoder_create, NULL, NULL, NULL, napi_enumerable, NULL},
      {"zstdDecode", NULL, do_decode, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof *props, props);
  return exports;
}
