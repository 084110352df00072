/**
 * Open files: fdinfo-FILES_ID.img maps each fd of a process to a file ID; files.img
 * (CRIU >= 3.x puts every kind there) describes each ID with the message of its type.
 */

import { fdinfoEntry, fdTypes, fileEntry, type inetSkEntry, type unixSkEntry } from '@cedana/core/criu';
import type { CheckpointFile, CheckpointSocket } from '@cedana/core/proto';
import type { ImageSet } from './image-set.js';
import { familyName, fdTypeName, formatAddress, protocolName, sockTypeName, stateName, unixName } from './names.js';

/** files.img by file ID; empty when the checkpoint has none (no process had an fd). */
export function readFileTable(images: ImageSet): Map<number, fileEntry> {
  return new Map((images.entries('files.img', 'files', fileEntry) ?? []).map((f) => [f.id, f]));
}

/** The fds of process `pid` (from fdinfo-`filesId`.img) and its sockets. */
export function readFds(
  images: ImageSet,
  table: ReadonlyMap<number, fileEntry>,
  pid: number,
  filesId: number | undefined,
): { files: CheckpointFile[]; sockets: CheckpointSocket[] } {
  const fds = filesId === undefined ? undefined : images.entries(`fdinfo-${filesId}.img`, 'fdinfo', fdinfoEntry);
  const files: CheckpointFile[] = [];
  const sockets: CheckpointSocket[] = [];
  for (const fd of (fds ?? []).sort((a, b) => a.fd - b.fd)) {
    const entry = table.get(fd.id);
    const file: CheckpointFile = { pid, fd: fd.fd, type: fdTypeName(entry?.type ?? fd.type), path: '', id: fd.id, flags: 0, pos: 0 };
    if (entry?.reg) {
      file.path = entry.reg.name;
      file.flags = entry.reg.flags;
      file.pos = Number(entry.reg.pos);
    } else if (entry?.pipe) {
      file.path = `pipe:[${entry.pipe.pipeId}]`;
      file.flags = entry.pipe.flags;
    } else if (entry?.fifo) {
      // the FIFO's path and open flags are those of its reg_file_entry
      const reg = entry.fifo.regfId === undefined ? undefined : table.get(entry.fifo.regfId)?.reg;
      file.path = reg?.name ?? `pipe:[${entry.fifo.pipeId}]`;
      file.flags = reg?.flags ?? 0;
    } else if (entry?.isk) {
      file.path = `socket:[${entry.isk.ino}]`;
      sockets.push(inetSocket(pid, fd.fd, entry.isk));
    } else if (entry?.usk) {
      file.path = `socket:[${entry.usk.ino}]`;
      sockets.push(unixSocket(pid, fd.fd, entry.usk));
    } else if (entry === undefined && fd.type !== fdTypes.UND) {
      file.path = '(not in files.img)';
    }
    files.push(file);
  }
  return { files, sockets };
}

function inetSocket(pid: number, fd: number, s: inetSkEntry): CheckpointSocket {
  return {
    pid,
    fd,
    family: familyName(s.family),
    type: sockTypeName(s.type),
    proto: protocolName(s.proto),
    state: stateName(s.state),
    srcAddr: formatAddress(s.srcAddr, s.family),
    srcPort: s.srcPort,
    dstAddr: formatAddress(s.dstAddr, s.family),
    dstPort: s.dstPort,
    name: '',
    ino: s.ino,
    peer: 0,
    backlog: s.backlog,
  };
}

function unixSocket(pid: number, fd: number, s: unixSkEntry): CheckpointSocket {
  return {
    pid,
    fd,
    family: 'unix',
    type: sockTypeName(s.type),
    proto: '',
    state: stateName(s.state),
    srcAddr: '',
    srcPort: 0,
    dstAddr: '',
    dstPort: 0,
    name: unixName(s.name, s.nameDir),
    ino: s.ino,
    peer: s.peer,
    backlog: s.backlog,
  };
}
