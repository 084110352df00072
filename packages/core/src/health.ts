import type { Logger } from './adapter.js';
import type { Config } from './config.js';

export interface HealthIssue {
  message: string;
  /** What the user runs or changes to make it right. */
  fix: string;
}

export interface HealthResult {
  name: string;
  data: Record<string, string>;
  warnings: HealthIssue[];
  errors: HealthIssue[];
}

/** One check of the setup, run by `cedana daemon check`. It must not throw for a failed check: report it. */
export type HealthCheck = (ctx: { config: Config; log: Logger; signal: AbortSignal }) => Promise<HealthResult>;
