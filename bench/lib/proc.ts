/**
 * Measuring and running the benchmark's processes: CPU time and peak memory read from /proc
 * (Linux), free ports, and child processes started and stopped by pid.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';

let ticksPerSecond: number | undefined;
/** Clock ticks per second of utime/stime in /proc/<pid>/stat (CLK_TCK, almost always 100). */
export function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** User + system CPU time a process has used so far, in microseconds. */
export function cpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name (which may contain spaces): state is field 3.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  return ((utime + stime) * 1e6) / clockTicks();
}

function statusField(pid: number, field: string): number | undefined {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : undefined;
}

/**
 * This process's peak (VmHWM) and current (VmRSS) resident set in bytes; where /proc is missing,
 * `maxRSS` and the current RSS from Node.
 */
export function ownRss(): { hwm: number; now: number } {
  try {
    const s = readFileSync('/proc/self/status', 'utf8');
    const kb = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN) * 1024;
    return { hwm: kb('VmHWM'), now: kb('VmRSS') };
  } catch {
    return { hwm: process.resourceUsage().maxRSS * 1024, now: process.memoryUsage().rss };
  }
}

/** Peak resident memory (VmHWM) since start or the last `resetPeakRss`, in KiB. */
export function peakRssKb(pid: number): number | undefined {
  return statusField(pid, 'VmHWM');
}

/** Resets VmHWM to the current RSS (Linux ≥ 4.0); false when the kernel refuses. */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/**
 * Waits until a process is idle (≤ `idleTicks` clock ticks over a `windowMs` window), so work
 * a run left behind (a durable-event backlog) is charged to that run and not the next.
 * Returns the milliseconds waited.
 */
export async function waitQuiet(pid: number, opts: { windowMs?: number; idleTicks?: number; maxMs?: number } = {}): Promise<number> {
  const windowMs = opts.windowMs ?? 150;
  const idleUs = ((opts.idleTicks ?? 1) * 1e6) / clockTicks();
  const maxMs = opts.maxMs ?? 15_000;
  const t0 = performance.now();
  let last = cpuMicros(pid);
  for (;;) {
    await sleep(windowMs);
    const now = cpuMicros(pid);
    if (now - last <= idleUs || performance.now() - t0 > maxMs) return performance.now() - t0;
    last = now;
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export interface Managed {
  name: string;
  pid: number;
  child: ChildProcess;
  /** The process's output so far (stdout and stderr), also written to `logFile`. */
  output(): string;
  logFile: string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it has exited. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Starts a process and waits until its output matches `ready` (or fails with its output when
 * it exits or `timeoutMs` passes first).
 */
export async function startProcess(name: string, cmd: string, args: string[], opts: { cwd: string; ready: RegExp; logFile: string; timeoutMs?: number; env?: NodeJS.ProcessEnv }): Promise<Managed> {
  const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const log = createWriteStream(opts.logFile);
  let out = '';
  const onData = (b: Buffer) => {
    const s = b.toString('utf8');
    if (out.length < 200_000) out += s;
    log.write(s);
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const managed: Managed = {
    name,
    pid: child.pid!,
    child,
    logFile: opts.logFile,
    output: () => out,
    async stop(graceMs = 5000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(t);
      log.end();
    },
  };
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const t0 = Date.now();
  while (!opts.ready.test(out)) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${name} exited (${child.exitCode ?? child.signalCode}) before it was ready. Its output:\n${out.slice(-4000)}\nCommand: ${cmd} ${args.join(' ')}`);
    }
    if (Date.now() - t0 > timeoutMs) {
      await managed.stop(1000);
      throw new Error(`${name} was not ready after ${timeoutMs} ms (waiting for ${opts.ready}). Its output:\n${out.slice(-4000)}\nCommand: ${cmd} ${args.join(' ')}`);
    }
    await sleep(25);
  }
  return managed;
}

/** CPU time the whole machine has spent busy (all cores, not idle or iowait), in microseconds. */
export function machineBusyMicros(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already in user)
  const busy = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
  return (busy * 1e6) / clockTicks();
}
