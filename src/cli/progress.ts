/**
 * Progress of long commands on stderr: a bar on a terminal, a line every few seconds otherwise
 * (CI logs, files), and always a last line at 100%.
 */
import cliProgress from 'cli-progress';

export interface ProgressView {
  /** `fraction` 0..1; `fields` fill the bar's format (`{name}`) or the plain line. */
  update(fraction: number, fields: Record<string, string | number>): void;
  stop(): void;
}

/** `format` names the fields shown after the percentage, e.g. `{accounts} accounts | {phase}`. */
export function progressBar(label: string, format: string, initial: Record<string, string | number>, stream: NodeJS.WriteStream = process.stderr): ProgressView {
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar({ format: `${label} [{bar}] {percentage}% | ${format}`, hideCursor: true, stream }, cliProgress.Presets.shades_classic);
    bar.start(100, 0, initial);
    return {
      update: (f, fields) => bar.update(Math.round(f * 100), fields),
      stop: () => bar.stop(),
    };
  }
  let last = 0;
  return {
    update: (f, fields) => {
      if (Date.now() - last < 5000 && f < 1) return;
      last = Date.now();
      stream.write(`${label}: ${Math.round(f * 100)}% (${format.replace(/\{(\w+)\}/g, (_, k: string) => String(fields[k] ?? ''))})\n`);
    },
    stop: () => undefined,
  };
}
