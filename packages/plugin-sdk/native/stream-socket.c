/* fdpass.c on its own: the addon of a host that serves CRIU's --stream mode without the streamer's codecs. */
#include <node_api.h>

napi_value fdpass_init(napi_env env, napi_value exports);

NAPI_MODULE_INIT() { return fdpass_init(env, exports); }
