// Portable input errors: a bad file or option, reported to the user with what to do about it.

/**
 * An error about the user's input (a file, a path, an option). Its message says what went wrong
 * and what to do; the CLI prints it without a stack trace because `userFacing` is set.
 */
export class InputError extends Error {
  readonly userFacing = true;
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}
