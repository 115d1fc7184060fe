/**
 * The nice value of a thread whose 20 ms clock sends RTP (VOICE_RTP_PRIORITY). Linux schedules threads by their own
 * nice value, so this raises only the calling thread.
 *
 * Unset, the thread goes to DEFAULT_RTP_PRIORITY where the host allows it (root, CAP_SYS_NICE, or an RLIMIT_NICE of
 * 30 or more) and stays as it is where it does not: at the same priority as the server's other threads and V8's
 * helper threads, a packet waits whenever they hold both cores of a small host (README, "Voice calls"). A thread
 * already above it is left alone. Set, the value is applied as given, and a refusal is a warning.
 */
import { getPriority, setPriority } from "node:os";

export const DEFAULT_RTP_PRIORITY = -10;

/** Applies `priority` (or the default) to the calling thread; `who` names the thread in a warning. */
export function raiseRtpThread(priority: number | undefined, who: string): void {
  if (priority !== undefined) {
    try {
      setPriority(priority);
    } catch (error) {
      process.emitWarning(`${who}: RTP thread priority ${priority} not set: ${String(error)}`);
    }
    return;
  }
  if (getPriority() <= DEFAULT_RTP_PRIORITY) return;
  try {
    setPriority(DEFAULT_RTP_PRIORITY);
  } catch {
    // Not permitted: the thread keeps the process's nice value.
  }
}
