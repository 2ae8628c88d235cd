/**
 * The one error type the data layer throws. Its message always names the file (or source) and what is
 * wrong with it, so callers can show it to a user as-is — never a raw stack trace from zlib or fs.
 */
export class DataError extends Error {
  /** The file or source the problem is in, when there is one. */
  readonly file: string | null;

  constructor(message: string, file: string | null = null) {
    super(message);
    this.name = 'DataError';
    this.file = file;
  }
}

/** Describes any thrown value in one line (for wrapping fs / zlib / fetch failures into a DataError). */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    const first = err.message.split('\n')[0] ?? '';
    return code && !first.includes(code) ? `${code}: ${first}` : first;
  }
  return String(err);
}
