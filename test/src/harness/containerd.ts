/**
 * A real containerd for end-to-end tests, started by the test itself: Debian's containerd
 * with its root, state and sockets under a temp dir (the CRI plugin off), and a busybox
 * image built on the spot as an OCI layout (Debian's busybox-static, no registry) and
 * imported with `ctr` (setup only: the plugin never runs ctr). Each test uses its own
 * namespace: the runc shim keeps its state under /run/containerd whatever `state` says.
 * `stop()` removes every container, stops containerd and its shims, unmounts what is
 * left under the temp dir and removes it, also after a failed test; a watchdog does the
 * same if the test process dies without calling it (killed, or its output pipe closed).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { appendFile, copyFile, mkdir, mkdtemp, readFile, rm, rmdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sleep } from './daemon.js';

export const BUSYBOX = '/bin/busybox';
export const IMAGE = 'cedana.test/busybox:1';

export class TestContainerd {
  private proc?: ChildProcess;
  private readonly namespaces = new Set<string>();

  private constructor(
    readonly dir: string,
    /** Programs put into the image's /bin besides busybox (host path -> name). */
    private readonly extraBins: Record<string, string> = {},
  ) {}

  get socket(): string {
    return join(this.dir, 'containerd.sock');
  }

  /** `extraBins`: programs to put into the image's /bin (host path -> name), e.g. a static test binary. */
  static async start(opts: { extraBins?: Record<string, string> } = {}): Promise<TestContainerd> {
    const dir = await mkdtemp('/tmp/cedana-containerd-');
    const c = new TestContainerd(dir, opts.extraBins);
    await writeFile(
      join(dir, 'config.toml'),
      [
        'version = 2',
        `root = "${dir}/root"`,
        `state = "${dir}/state"`,
        'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
        '[grpc]',
        `  address = "${dir}/containerd.sock"`,
        '[ttrpc]',
        `  address = "${dir}/containerd.sock.ttrpc"`,
        '[debug]',
        `  address = "${dir}/debug.sock"`,
        '',
      ].join('\n'),
    );
    const log = openSync(join(dir, 'containerd.log'), 'a');
    c.proc = spawn('containerd', ['--config', join(dir, 'config.toml')], { stdio: ['ignore', log, log] });
    spawn('sh', ['-c', WATCHDOG, 'watchdog', String(process.pid), dir, String(c.proc.pid)], { detached: true, stdio: 'ignore' }).unref();
    const deadline = Date.now() + 15_000;
    while (!existsSync(c.socket) || !c.answers()) {
      if (c.proc.exitCode !== null)
        throw new Error(`containerd exited ${c.proc.exitCode}: ${readFileSync(join(dir, 'containerd.log'), 'utf8')}`);
      if (Date.now() > deadline) throw new Error('containerd did not start in 15 s');
      await sleep(100);
    }
    return c;
  }

  private answers(): boolean {
    try {
      this.ctr('default', ['version']);
      return true;
    } catch {
      return false;
    }
  }

  /** `ctr` against this containerd in `namespace` (setup and checks only). */
  ctr(namespace: string, args: string[]): string {
    return execFileSync('ctr', ['--address', this.socket, '--namespace', namespace, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    }).toString();
  }

  /** A fresh namespace with the busybox image imported. */
  async namespace(prefix = 't'): Promise<string> {
    const ns = `${prefix}-${randomBytes(4).toString('hex')}`;
    this.namespaces.add(ns);
    await appendFile(join(this.dir, 'namespaces'), `${ns}\n`);
    this.ctr(ns, ['image', 'import', await this.imageTar()]);
    return ns;
  }

  private tar?: Promise<string>;
  /** The busybox image as a tar of an OCI layout, made once. */
  imageTar(): Promise<string> {
    this.tar ??= buildImage(join(this.dir, 'image'), this.extraBins);
    return this.tar;
  }

  /** The task of container `id`: PID and status, or undefined. */
  task(namespace: string, id: string): { pid: number; status: string } | undefined {
    const line = this.ctr(namespace, ['task', 'ls'])
      .split('\n')
      .slice(1)
      .map((l) => l.trim().split(/\s+/))
      .find((cols) => cols[0] === id);
    return line ? { pid: Number(line[1]), status: (line[2] ?? '').toLowerCase() } : undefined;
  }

  containers(namespace: string): string[] {
    return this.ctr(namespace, ['container', 'ls', '-q']).split('\n').filter(Boolean);
  }

  /** Removes every task and container of the namespaces it made. */
  cleanNamespaces(): void {
    for (const ns of this.namespaces) {
      let ids: string[] = [];
      try {
        ids = this.containers(ns);
      } catch {}
      for (const id of ids) {
        try {
          this.ctr(ns, ['task', 'rm', '-f', id]);
        } catch {}
        try {
          this.ctr(ns, ['container', 'rm', id]);
        } catch {}
      }
    }
  }

  async stop(): Promise<void> {
    if (this.proc && this.proc.exitCode === null) {
      this.cleanNamespaces();
      const exited = new Promise((r) => this.proc?.once('exit', r));
      this.proc.kill('SIGTERM');
      await Promise.race([exited, sleep(5000)]);
      if (this.proc.exitCode === null) this.proc.kill('SIGKILL');
    }
    for (const pid of shimsOf(this.socket)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
    }
    for (const mp of mountsUnder(this.dir).reverse()) {
      try {
        execFileSync('umount', ['-l', mp], { stdio: 'ignore' });
      } catch {}
    }
    for (const ns of this.namespaces) {
      await rm(join('/run/containerd/runc', ns), { recursive: true, force: true }).catch(() => {});
      for (const cg of cgroupsOf(ns)) await rmdir(cg).catch(() => {});
    }
    await rm(this.dir, { recursive: true, force: true }).catch(() => {});
  }
}

/** The cgroup folders runc made for a namespace's containers (/NS/ID under each v1 controller, or v2). */
function cgroupsOf(ns: string): string[] {
  const roots = existsSync('/sys/fs/cgroup/cgroup.controllers')
    ? ['/sys/fs/cgroup']
    : readdirSync('/sys/fs/cgroup').map((c) => join('/sys/fs/cgroup', c));
  return roots.map((r) => join(r, ns)).filter((p) => existsSync(p));
}

/**
 * Cleanup when the test process ($1) is gone before `stop()` ran: kill containerd ($3), its
 * shims and the containers' processes, unmount and remove the temp dir ($2).
 */
const WATCHDOG = `
parent=$1 dir=$2 ctd=$3
while kill -0 "$parent" 2>/dev/null; do sleep 1; done
[ -d "$dir" ] || exit 0
kill -9 "$ctd" 2>/dev/null
for p in /proc/[0-9]*; do
  case "$(tr '\\0' ' ' < "$p/cmdline" 2>/dev/null)" in
    *containerd-shim-runc-v2*"$dir/containerd.sock"*) kill -9 "\${p#/proc/}" 2>/dev/null ;;
  esac
done
for ns in $(cat "$dir/namespaces" 2>/dev/null); do
  for cg in /sys/fs/cgroup/$ns/* /sys/fs/cgroup/*/$ns/*; do
    [ -f "$cg/cgroup.procs" ] && for pid in $(cat "$cg/cgroup.procs"); do kill -9 "$pid" 2>/dev/null; done
  done
  sleep 0.5
  for cg in /sys/fs/cgroup/$ns/* /sys/fs/cgroup/*/$ns/* /sys/fs/cgroup/$ns /sys/fs/cgroup/*/$ns; do [ -d "$cg" ] && rmdir "$cg" 2>/dev/null; done
  rm -rf "/run/containerd/runc/$ns"
done
grep " $dir/" /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r -n1 umount -l
rm -rf "$dir"
`;

/** PIDs of containerd-shim-runc-v2 processes started for the containerd at `socket`. */
function shimsOf(socket: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (cmd[0]?.endsWith('containerd-shim-runc-v2') && cmd.includes(socket)) out.push(Number(entry));
    } catch {}
  }
  return out;
}

function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((mp) => mp.startsWith(`${dir}/`));
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** An OCI layout with one busybox layer, tarred; its index names it IMAGE. */
async function buildImage(dir: string, extraBins: Record<string, string>): Promise<string> {
  const rootfs = join(dir, 'rootfs');
  for (const d of ['bin', 'tmp', 'proc', 'dev', 'sys', 'etc', 'run']) await mkdir(join(rootfs, d), { recursive: true });
  await copyFile(BUSYBOX, join(rootfs, 'bin', 'busybox'));
  for (const [from, name] of Object.entries(extraBins)) await copyFile(from, join(rootfs, 'bin', name));
  for (const name of ['sh', 'sleep', 'echo', 'cat', 'true', 'ls', 'dd', 'rm']) await symlink('busybox', join(rootfs, 'bin', name));
  const layout = join(dir, 'layout');
  const blobs = join(layout, 'blobs', 'sha256');
  await mkdir(blobs, { recursive: true });
  const layerFile = join(dir, 'layer.tar');
  execFileSync('tar', ['-C', rootfs, '--numeric-owner', '-cf', layerFile, '.']);
  const layer = await readFile(layerFile);
  const put = async (b: Buffer) => {
    const hex = sha256(b);
    await writeFile(join(blobs, hex), b);
    return { digest: `sha256:${hex}`, size: b.length };
  };
  const layerDesc = await put(layer);
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Env: ['PATH=/bin'], Cmd: ['sh'], WorkingDir: '/' },
      rootfs: { type: 'layers', diff_ids: [layerDesc.digest] },
    }),
  );
  const configDesc = await put(config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...configDesc },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layerDesc }],
    }),
  );
  const manifestDesc = await put(manifest);
  await writeFile(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(
    join(layout, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          ...manifestDesc,
          annotations: { 'io.containerd.image.name': IMAGE, 'org.opencontainers.image.ref.name': '1' },
        },
      ],
    }),
  );
  const tar = join(dir, 'image.tar');
  execFileSync('tar', ['-C', layout, '-cf', tar, '.']);
  return tar;
}
