// User-facing errors, at the bottom of every layer: one message that says what went wrong and what
// to do instead. Portable code throws them; only the CLI formats them (one line, exit 2).

/** What a user error is about: their input (files, records, paths), their configuration, or the device. */
export type UserErrorKind = 'input' | 'config' | 'device';

/** An error whose message is meant for the user; the CLI prints it without a stack trace. */
export class UserError extends Error {
  readonly userFacing = true;
  readonly kind: UserErrorKind;
  constructor(message: string, kind: UserErrorKind = 'input') {
    super(message);
    this.name = 'UserError';
    this.kind = kind;
  }
}

/** True for errors meant for the user (a `UserError`, or any error marked `userFacing`). */
export function isUserFacing(e: unknown): e is Error {
  return typeof e === 'object' && e !== null && (e as { userFacing?: boolean }).userFacing === true;
}
