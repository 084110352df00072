/**
 * How the streamer moves data through CRIU's image pipes (both ways). Measured with
 * 1 GiB on a 2-core VM: pipes bigger than 1 MiB were slower (2-4 MiB: +50-100% dump
 * time), and moving a chunk in pieces lets CRIU and the streamer copy at the same time
 * instead of taking turns on the pipe's lock (native/pipeio.c).
 */
/** CRIU's pipes are made this big (the kernel's default limit for unprivileged users; we are root). */
export const PIPE_SIZE = 1 << 20;
/** Bytes per read or write call on a pipe. */
export const PIPE_PIECE = 256 << 10;
