/**
 * User callbacks run inside our socket's message handler. An exception escaping from there would be an uncaught
 * exception (taking every call in the process down) for one misbehaving listener, so callbacks run through here:
 * the error becomes a process warning and the state machine that called it carries on.
 */

/**
 * Calls `fn(arg)` if given; an exception is reported with `process.emitWarning`, never thrown.
 * @example invokeCallback(options.onRinging, at, "onRinging");
 */
export function invokeCallback<A>(fn: ((arg: A) => void) | undefined, arg: A, name: string): void {
  if (!fn) return;
  try {
    fn(arg);
  } catch (error) {
    process.emitWarning(`${name} callback threw: ${error instanceof Error ? error.message : String(error)}`, {
      type: "FlashverifyCallbackWarning",
      detail: error instanceof Error ? error.stack : undefined,
    });
  }
}
