// Types of processes.mjs for TypeScript callers (test/e2e).
export interface RunningServer {
  name: string;
  url: string;
  port: number;
  /** 0 when no DevTools inspector is attached (runtime "api"). */
  inspectorPort: number;
  logFile: string;
  pid: number;
  stop(): Promise<void>;
}

export interface StartWranglerOptions {
  name: string;
  root: string;
  config: string;
  port: number;
  persistTo: string;
  logFile: string;
  vars?: Record<string, string>;
  readyPath?: string;
  timeoutMs?: number;
  noBundle?: boolean;
  runtime?: "cli" | "api";
}

export const LOCAL_ONLY_ENV: Record<string, string>;
export function freePort(): Promise<number>;
export function startWrangler(options: StartWranglerOptions): Promise<RunningServer>;
export function stopAll(): Promise<void>;
export function tail(file: string, lines?: number): string;
