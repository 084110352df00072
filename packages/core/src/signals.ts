/** Signal names and numbers as Node knows them (os.constants.signals). */
import { constants } from 'node:os';

/** SIGTERM, term or 15 -> 15; undefined when unknown. */
export function signalNumber(signal: string): number | undefined {
  if (/^\d+$/.test(signal)) return Number(signal);
  const name = signal.toUpperCase().startsWith('SIG') ? signal.toUpperCase() : `SIG${signal.toUpperCase()}`;
  return (constants.signals as Record<string, number>)[name];
}

/** 9 -> SIGKILL; SIG<n> for a number Node does not know. */
export function signalName(n: number): string {
  return Object.entries(constants.signals).find(([, v]) => v === n)?.[0] ?? `SIG${n}`;
}
