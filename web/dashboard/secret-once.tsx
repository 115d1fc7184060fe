/** A secret the API shows once (a new API key, a webhook signing secret), with a way to copy it. */
import { useEffect, useRef } from "preact/hooks";

export function SecretOnce({ label, secret, onDone }: { label: string; secret: string; onDone: () => void }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => box.current?.focus(), []);
  return (
    <div class="fv-secret" role="status" tabIndex={-1} ref={box}>
      <p>
        <strong>{label}</strong>: shown this once, copy it now.
      </p>
      <p>
        <code data-secret>{secret}</code>{" "}
        <button type="button" onClick={() => void navigator.clipboard?.writeText(secret)}>
          Copy
        </button>{" "}
        <button type="button" onClick={onDone}>
          Done
        </button>
      </p>
    </div>
  );
}
