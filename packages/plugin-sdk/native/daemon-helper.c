/*
 * The daemon's own helper, no library needed: fdpass.c (serving an archive to CRIU's
 * --stream mode) and xxh64.c (the digests of page files).
 */
#include <node_api.h>

napi_value fdpass_init(napi_env env, napi_value exports);
napi_value xxh64_init(napi_env env, napi_value exports);

NAPI_MODULE_INIT() { return xxh64_init(env, fdpass_init(env, exports)); }
