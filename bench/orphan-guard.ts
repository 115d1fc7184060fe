/**
 * Preloaded into the server process (`node --import .../orphan-guard.js`): the server knows nothing of the bench,
 * so if the harness dies without a chance to clean up (SIGKILL, OOM killer), this notices the re-parenting and
 * stops the server the way an operator would, with SIGTERM, and hard-exits if the graceful stop hangs.
 * It costs one unref'd timer every half second.
 */

const parent = process.ppid;
const CHECK_MS = 500;
const HARD_EXIT_MS = 10_000;

const timer = setInterval(() => {
  if (process.ppid === parent) return;
  clearInterval(timer);
  process.kill(process.pid, "SIGTERM");
  setTimeout(() => process.exit(1), HARD_EXIT_MS).unref();
}, CHECK_MS);
timer.unref();
