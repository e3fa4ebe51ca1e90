/**
 * One structured JSON line per event on stdout: CloudWatch Logs ingests it as-is in Lambda, and
 * the local server prints the same lines. Callers pass fields, never secrets: no password, token,
 * client secret or hash is ever given to a logger.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  log(level: LogLevel, message: string, fields?: Readonly<Record<string, unknown>>): void;
}

export const jsonLogger = (write: (line: string) => void = (line) => process.stdout.write(line)): Logger => ({
  log(level, message, fields = {}) {
    write(`${JSON.stringify({ time: new Date().toISOString(), level, message, ...fields })}\n`);
  },
});

export const silentLogger: Logger = { log() {} };
