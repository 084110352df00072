/** Where containerd listens and which namespace is used when a command names none (no gRPC code: commands.ts and details.ts need these at every start). */
export const DEFAULT_ADDRESS = '/run/containerd/containerd.sock';
/** The daemon's default socket: $CONTAINERD_ADDRESS (as for ctr), else containerd's own default. */
export const defaultAddress = () => process.env.CONTAINERD_ADDRESS || DEFAULT_ADDRESS;
export const DEFAULT_NAMESPACE = 'default';
