/* The zstd codec addon (zstdframe.c), apart from the lz4 one: a machine without libzstd still has lz4. */
#include <node_api.h>

napi_value zstdframe_init(napi_env env, napi_value exports);

NAPI_MODULE_INIT() { return zstdframe_init(env, exports); }
