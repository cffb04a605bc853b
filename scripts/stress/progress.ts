/**
 * Progress of a long run: on a terminal a bar redrawn in place, elsewhere (CI logs) one line per finished path.
 * Each line carries the count, elapsed time, rate and an estimate of the time left.
 */
export class Progress {
  private done_ = 0;
  private readonly started = Date.now();
  private readonly tty = Boolean(process.stdout.isTTY);

  constructor(private readonly total: number) {}

  tick(message: string): void {
    this.done_ += 1;
    const elapsed = (Date.now() - this.started) / 1000;
    const rate = this.done_ / Math.max(elapsed, 1e-9);
    const left = (this.total - this.done_) / rate;
    const head = `[${String(this.done_).padStart(String(this.total).length)}/${this.total}] ${formatDuration(elapsed)} elapsed, ${formatDuration(left)} left`;
    if (this.tty) {
      const width = 24;
      const filled = Math.round((this.done_ / this.total) * width);
      process.stdout.write(`\r\x1b[K${"#".repeat(filled)}${".".repeat(width - filled)} ${head}  ${message}`);
    } else {
      console.log(`${head}  ${message}`);
    }
  }

  done(): void {
    if (this.tty) process.stdout.write("\n");
  }
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}
