// User-facing errors: one message that says what went wrong and what to do instead.

/** An error whose message is meant for the user; the CLI prints it without a stack trace. */
export class UserError extends Error {
  readonly userFacing = true;
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}
