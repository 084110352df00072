/* The streamer's helper: the SDK's fdpass.c and lz4block.c, and native/pipeio.c, in one addon. */
#include <node_api.h>

napi_value fdpass_init(napi_env env, napi_value exports);
napi_value lz4block_init(napi_env env, napi_value exports);
napi_value pipeio_init(napi_env env, napi_value exports);

NAPI_MODULE_INIT() { return pipeio_init(env, lz4block_init(env, fdpass_init(env, exports))); }
