/*
 * The one thing Node cannot do for whoever serves CRIU's --stream mode (the streamer's
 * shards, the daemon's archives): receive a file descriptor over a unix socket
 * (SCM_RIGHTS). CRIU hands every image as one end of a pipe that way
 * (criu/img-streamer.c). Three blocking calls, run by a control worker thread, never by
 * the main thread:
 *   listen(path) -> fd     a SOCK_STREAM unix socket bound at path, listening
 *   accept(fd)   -> fd     the next connection
 *   recvFd(fd)   -> fd     the descriptor sent with the next (1-byte) message, or -1 at EOF
 *   shutdown(fd)           wakes a thread blocked in accept or read on fd (so it can end)
 *   setPipeSize(fd, bytes) -> bytes   F_SETPIPE_SZ: a bigger pipe, fewer and larger reads (-1: refused)
 * Errors throw with errno's text.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <node_api.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static napi_value fail(napi_env env, const char *what) {
  char text[256];
  snprintf(text, sizeof text, "%s: %s", what, strerror(errno));
  napi_throw_error(env, NULL, text);
  return NULL;
}

static int int_arg(napi_env env, napi_callback_info info, int32_t *out) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1) return -1;
  return napi_get_value_int32(env, argv[0], out) == napi_ok ? 0 : -1;
}

static napi_value number(napi_env env, int value) {
  napi_value out;
  napi_create_int32(env, value, &out);
  return out;
}

static napi_value do_listen(napi_env env, napi_callback_info info) {
  size_t argc = 1, len = 0;
  napi_value argv[1];
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || napi_get_value_string_utf8(env, argv[0], addr.sun_path, sizeof addr.sun_path, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "listen(path): path must be a string");
    return NULL;
  }
  if (len >= sizeof addr.sun_path - 1) {
    errno = ENAMETOOLONG;
    return fail(env, "listen");
  }
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(env, "socket");
  if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(fd, 1) < 0) {
    int saved = errno;
    close(fd);
    errno = saved;
    return fail(env, "bind/listen");
  }
  return number(env, fd);
}

static napi_value do_accept(napi_env env, napi_callback_info info) {
  int32_t fd;
  if (int_arg(env, info, &fd) < 0) return NULL;
  int conn;
  do conn = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
  while (conn < 0 && errno == EINTR);
  if (conn < 0) return fail(env, "accept");
  return number(env, conn);
}

static napi_value do_recv_fd(napi_env env, napi_callback_info info) {
  int32_t sock;
  if (int_arg(env, info, &sock) < 0) return NULL;
  char byte;
  char control[CMSG_SPACE(sizeof(int))];
  struct iovec iov = {.iov_base = &byte, .iov_len = 1};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
  ssize_t n;
  do n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0) return fail(env, "recvmsg");
  if (n == 0) return number(env, -1);
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  if (c == NULL || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
    errno = EPROTO;
    return fail(env, "recvmsg: no descriptor in the message");
  }
  int fd;
  memcpy(&fd, CMSG_DATA(c), sizeof fd);
  return number(env, fd);
}

static napi_value do_shutdown(napi_env env, napi_callback_info info) {
  int32_t fd;
  if (int_arg(env, info, &fd) < 0) return NULL;
  shutdown(fd, SHUT_RDWR);
  return NULL;
}

static napi_value do_set_pipe_size(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t fd, size;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 ||
      napi_get_value_int32(env, argv[0], &fd) != napi_ok || napi_get_value_int32(env, argv[1], &size) != napi_ok) {
    napi_throw_type_error(env, NULL, "setPipeSize(fd, bytes): two integers");
    return NULL;
  }
  return number(env, fcntl(fd, F_SETPIPE_SZ, size));
}

/* Registers these on `exports`: an addon's module init calls it (streamer.c, codec.c). */
napi_value fdpass_init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"listen", NULL, do_listen, NULL, NULL, NULL, napi_enumerable, NULL},
      {"accept", NULL, do_accept, NULL, NULL, NULL, napi_enumerable, NULL},
      {"recvFd", NULL, do_recv_fd, NULL, NULL, NULL, napi_enumerable, NULL},
      {"shutdown", NULL, do_shutdown, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setPipeSize", NULL, do_set_pipe_size, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof *props, props);
  return exports;
}
