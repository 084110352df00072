/** Linux numbers in CRIU's images, as the words `ss`, `lsof` and `ps` use. */
import { fdTypes } from '@cedana/core/criu';

/** Address families (linux/socket.h). */
const FAMILIES: Record<number, string> = { 1: 'unix', 2: 'inet', 10: 'inet6', 16: 'netlink', 17: 'packet' };
/** Socket types (linux/net.h). */
const SOCK_TYPES: Record<number, string> = { 1: 'stream', 2: 'dgram', 3: 'raw', 4: 'rdm', 5: 'seqpacket', 6: 'dccp', 10: 'packet' };
/** IP protocols (linux/in.h). */
const PROTOCOLS: Record<number, string> = { 0: 'ip', 1: 'icmp', 6: 'tcp', 17: 'udp', 58: 'icmpv6', 132: 'sctp', 136: 'udplite' };
/** TCP states (include/net/tcp_states.h); unix sockets use the same numbers (listen, established, close). */
const STATES: Record<number, string> = {
  1: 'established',
  2: 'syn-sent',
  3: 'syn-recv',
  4: 'fin-wait1',
  5: 'fin-wait2',
  6: 'time-wait',
  7: 'close',
  8: 'close-wait',
  9: 'last-ack',
  10: 'listen',
  11: 'closing',
  12: 'new-syn-recv',
};
/** CRIU's task states (compel/include/uapi/task-state.h). */
const TASK_STATES: Record<number, string> = { 1: 'alive', 2: 'dead', 3: 'stopped', 6: 'zombie' };

export const familyName = (n: number): string => FAMILIES[n] ?? String(n);
export const sockTypeName = (n: number): string => SOCK_TYPES[n] ?? String(n);
export const protocolName = (n: number): string => PROTOCOLS[n] ?? String(n);
export const stateName = (n: number): string => STATES[n] ?? String(n);
export const taskStateName = (n: number): string => TASK_STATES[n] ?? String(n);

/** CRIU's fd type as a short lower-case word: reg, pipe, inet, unix, ... */
export function fdTypeName(type: number): string {
  const word = fdTypes[type];
  if (word === undefined || type === fdTypes.UNRECOGNIZED) return `type ${type}`;
  return FD_WORDS[word] ?? word.toLowerCase();
}

const FD_WORDS: Record<string, string> = {
  INETSK: 'inet',
  UNIXSK: 'unix',
  PACKETSK: 'packet',
  NETLINKSK: 'netlink',
  TUNF: 'tun',
  UND: 'unknown',
};

/**
 * An address from CRIU's u32 words (one for IPv4, four for IPv6): each word is the
 * kernel's memory, in host byte order (little-endian on the machines CRIU runs on).
 */
export function formatAddress(words: readonly number[], family: number): string {
  const bytes = Buffer.alloc(words.length * 4);
  words.forEach((w, i) => {
    bytes.writeUInt32LE(w >>> 0, i * 4);
  });
  if (family === 2 && bytes.length >= 4) return [...bytes.subarray(0, 4)].join('.');
  if (family === 10 && bytes.length >= 16) return ipv6(bytes);
  return words.length === 0 ? '' : bytes.toString('hex');
}

function ipv6(b: Buffer): string {
  // ::ffff:a.b.c.d, as ss shows a v4-mapped address
  if (b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) return `::ffff:${[...b.subarray(12, 16)].join('.')}`;
  const groups = Array.from({ length: 8 }, (_, i) => b.readUInt16BE(i * 2));
  // the longest run of two or more zero groups becomes "::" (RFC 5952)
  let best = { at: -1, len: 0 };
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.len && j - i >= 2) best = { at: i, len: j - i };
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best.at < 0) return hex.join(':');
  return `${hex.slice(0, best.at).join(':')}::${hex.slice(best.at + best.len).join(':')}`;
}

/** A unix socket's name: its path, "@name" when abstract (a leading \0), empty when unnamed. */
export function unixName(name: Uint8Array, dir?: string): string {
  if (name.length === 0) return '';
  const b = Buffer.from(name);
  if (b[0] === 0) return `@${b.subarray(1).toString('utf8').replace(/\0/g, '@')}`;
  const path = b.toString('utf8').replace(/\0+$/, '');
  return dir && !path.startsWith('/') ? `${dir}/${path}` : path;
}
