/* Argument and result helpers the SDK's addons share (lz4block.c, lz4frame.c). */
#ifndef CEDANA_NAPI_ARGS_H
#define CEDANA_NAPI_ARGS_H

#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>

/* The bytes of a Uint8Array (or Buffer) argument; -1 for anything else. */
static inline int bytes_arg(napi_env env, napi_value value, uint8_t **data, size_t *length) {
  bool is_typed;
  napi_typedarray_type type;
  size_t elements;
  void *ptr;
  napi_value buffer;
  size_t offset;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed) return -1;
  if (napi_get_typedarray_info(env, value, &type, &elements, &ptr, &buffer, &offset) != napi_ok) return -1;
  if (type != napi_uint8_array) return -1;
  *data = ptr;
  *length = elements;
  return 0;
}

static inline napi_value number(napi_env env, double value) {
  napi_value out;
  napi_create_double(env, value, &out);
  return out;
}

#endif
