/* The codec addon on its own (lz4block.c and lz4frame.c), for a host or plugin that needs no other native code. */
#include <node_api.h>

napi_value lz4block_init(napi_env env, napi_value exports);
napi_value lz4frame_init(napi_env env, napi_value exports);

NAPI_MODULE_INIT() { return lz4frame_init(env, lz4block_init(env, exports)); }
