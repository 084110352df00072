/**
 * `cedana checkpoint inspect ID`: the checkpoint's facts, then what its CRIU images hold
 * (processes, open files, memory, sockets) as tables; --json prints the whole answer.
 */
import type { CheckpointSocket, CheckpointSummary, InspectCheckpointResp } from '@cedana/core/proto';
import { formatSize, formatTime, renderTable } from '../output/table.js';

/** The human form of an InspectCheckpoint answer. */
export function renderInspection(resp: InspectCheckpointResp): string {
  const c = resp.checkpoint;
  const parts: string[] = [];
  if (c) {
    const facts = [
      ['ID', c.id],
      ['JOB', c.jid],
      ['TYPE', c.type],
      ['TIME', formatTime(c.createdAt)],
      ['SIZE', formatSize(c.size)],
      ['COMPRESSION', c.compression],
      ['PATH', c.path],
    ];
    parts.push(facts.map(([k, v]) => `${`${k}:`.padEnd(13)}${v || '-'}`).join('\n'));
  }
  const s = resp.summary;
  if (!s) {
    parts.push('no CRIU process images in this checkpoint');
    return parts.join('\n\n');
  }
  parts.push(section('PROCESSES', processTable(s)));
  parts.push(section('OPEN FILES', s.files.length === 0 ? 'none' : filesTable(s)));
  parts.push(section(`MEMORY (mapped ${formatSize(s.mappedBytes)}, dumped ${formatSize(s.dumpedBytes)})`, memoryTable(s)));
  parts.push(section('SOCKETS', s.sockets.length === 0 ? 'none' : socketsTable(s.sockets)));
  return parts.join('\n\n');
}

function section(title: string, body: string): string {
  return `${title}\n${body}`;
}

function processTable(s: CheckpointSummary): string {
  const rows = s.processes.map((p) => [p.pid, p.ppid, p.pgid, p.sid, p.threads.length, p.state, p.comm]);
  return renderTable(['PID', 'PPID', 'PGID', 'SID', 'THREADS', 'STATE', 'COMMAND'], rows);
}

function filesTable(s: CheckpointSummary): string {
  const rows = s.files.map((f) => [f.pid, f.fd, f.type, accessMode(f.type, f.flags), f.path]);
  return renderTable(['PID', 'FD', 'TYPE', 'MODE', 'PATH'], rows);
}

/** r, w or rw from the O_ACCMODE bits, for the kinds whose flags CRIU records. */
function accessMode(type: string, flags: number): string {
  if (type !== 'reg' && type !== 'pipe' && type !== 'fifo') return '';
  return ['r', 'w', 'rw'][flags & 3] ?? '';
}

function memoryTable(s: CheckpointSummary): string {
  const rows = s.memory.map((m) => [m.pid, m.vmas, formatSize(m.mappedBytes), formatSize(m.dumpedBytes)]);
  return renderTable(['PID', 'MAPPINGS', 'MAPPED', 'DUMPED'], rows);
}

function socketsTable(sockets: readonly CheckpointSocket[]): string {
  const rows = sockets.map((k) => [
    k.pid,
    k.fd,
    k.family === 'unix' ? `unix/${k.type}` : k.proto || k.type,
    k.family,
    k.state,
    k.family === 'unix' ? k.name : endpoint(k.srcAddr, k.srcPort),
    k.family === 'unix' ? (k.peer ? `peer ${k.peer}` : '') : endpoint(k.dstAddr, k.dstPort),
  ]);
  return renderTable(['PID', 'FD', 'PROTO', 'FAMILY', 'STATE', 'LOCAL', 'REMOTE'], rows);
}

/** 127.0.0.1:80, [::1]:80; "*" for an unset address or port. */
function endpoint(addr: string, port: number): string {
  const host = addr === '' || addr === '0.0.0.0' || addr === '::' ? '*' : addr.includes(':') ? `[${addr}]` : addr;
  return `${host}:${port === 0 ? '*' : port}`;
}
