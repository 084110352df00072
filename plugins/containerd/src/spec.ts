/**
 * The OCI runtime spec of a new container, as containerd's own client makes it by default
 * (oci.WithDefaultSpec + WithImageConfig): the image's command, environment and working
 * folder, the usual mounts and namespaces, a writable root, no terminal.
 */
import type { ImageConfig } from './image.js';

export type OciSpec = Record<string, unknown> & {
  process?: Record<string, unknown> & { args?: string[]; env?: string[]; cwd?: string; terminal?: boolean };
  linux?: Record<string, unknown> & { cgroupsPath?: string };
  root?: { path: string; readonly?: boolean };
};

/** The Any type URL containerd registers for specs.Spec (typeurl: types.containerd.io + package path + major + name). */
export const SPEC_TYPE_URL = 'types.containerd.io/opencontainers/runtime-spec/1/Spec';
const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const CAPS = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

export interface SpecInput {
  namespace: string;
  id: string;
  image: ImageConfig;
  /** The command to run instead of the image's entrypoint and command. */
  args?: string[];
  env?: string[];
  cwd?: string;
}

/** The command a container of the image runs: `args`, else the image's Entrypoint + Cmd. */
export function commandOf(image: ImageConfig, args?: string[]): string[] {
  if (args && args.length > 0) return args;
  return [...(image.config?.Entrypoint ?? []), ...(image.config?.Cmd ?? [])];
}

export function makeSpec(s: SpecInput): OciSpec {
  const env = [...(s.image.config?.Env ?? [DEFAULT_PATH]), ...(s.env ?? [])];
  return {
    ociVersion: '1.0.2-dev',
    root: { path: 'rootfs', readonly: false },
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args: commandOf(s.image, s.args),
      env,
      cwd: s.cwd || s.image.config?.WorkingDir || '/',
      capabilities: { bounding: CAPS, effective: CAPS, permitted: CAPS },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      {
        destination: '/dev/pts',
        type: 'devpts',
        source: 'devpts',
        options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
      },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
    ],
    linux: {
      cgroupsPath: cgroupsPathOf(s.namespace, s.id),
      resources: { devices: [{ allow: false, access: 'rwm' }] },
      namespaces: [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'network' }],
      maskedPaths: [
        '/proc/acpi',
        '/proc/asound',
        '/proc/kcore',
        '/proc/keys',
        '/proc/latency_stats',
        '/proc/timer_list',
        '/proc/timer_stats',
        '/proc/sched_debug',
        '/sys/firmware',
        '/proc/scsi',
      ],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
}

/** containerd's default cgroup of a container: /NAMESPACE/ID (cgroupfs driver). */
export function cgroupsPathOf(namespace: string, id: string): string {
  return `/${namespace}/${id}`;
}

/** The dumped container's spec for a restore as `id` in `namespace`: its own cgroup. */
export function specForRestore(spec: OciSpec, namespace: string, id: string): OciSpec {
  return { ...spec, linux: { ...spec.linux, cgroupsPath: cgroupsPathOf(namespace, id) } };
}

/** The annotation whose value runc passes to CRIU as its config file (runc's handleCriuConfigurationFile). */
export const CRIU_CONFIG_ANNOTATION = 'org.criu.config';

/**
 * `spec` naming `configFile` in its `org.criu.config` annotation, or without that annotation
 * when there is none (an earlier restore's file, gone since: CRIU would ignore it anyway).
 */
export function withCriuConfig(spec: OciSpec, configFile: string | undefined): OciSpec {
  const { [CRIU_CONFIG_ANNOTATION]: _earlier, ...rest } = (spec.annotations ?? {}) as Record<string, string>;
  const annotations = configFile ? { ...rest, [CRIU_CONFIG_ANNOTATION]: configFile } : rest;
  return { ...spec, annotations };
}
