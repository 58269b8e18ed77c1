// Exit codes of every `lacuna-fs` subcommand (documented in docs/CLI.md).
// Scripts branch on these, so they never change meaning.
export const EXIT = {
  OK: 0,
  /** The command ran and the answer is "no": verification found a break, a policy test failed, a decision denied. */
  FAILED: 1,
  /** Bad usage or bad input: unknown flag, invalid config, a policy that does not compile. */
  USAGE: 2,
  /** No daemon answers on the control socket. */
  NO_DAEMON: 3,
  /** The control socket refused the caller (not root / not in the admin group). */
  FORBIDDEN: 4,
  /** An unexpected internal error; the message and the log say more. */
  INTERNAL: 5,
} as const;

/** Error a command throws to end with a given exit code and a one-line message on stderr. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.FAILED,
  ) {
    super(message);
  }
}
