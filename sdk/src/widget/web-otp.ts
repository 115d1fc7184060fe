/**
 * WebOTP: where the browser offers it (Chrome on Android), the widget asks for the code of an SMS whose last line
 * is `@<this host> #<code>` (the server's SMS template adds it with `webotp_host`), and the browser fills it in once
 * the person agrees. Elsewhere nothing happens, and `autocomplete="one-time-code"` lets iOS suggest the code.
 */

interface OtpCredential extends Credential {
  code: string;
}

/** True where the browser can read an SMS code for this page. */
export function webOtpSupported(): boolean {
  return typeof window !== "undefined" && "OTPCredential" in window && !!navigator.credentials;
}

/** The code of the next matching SMS, or null when the browser cannot, the person declines, or `signal` aborts. */
export async function receiveSmsCode(signal: AbortSignal): Promise<string | null> {
  if (!webOtpSupported()) return null;
  try {
    const credential = (await navigator.credentials.get({
      otp: { transport: ["sms"] },
      signal,
    } as CredentialRequestOptions)) as OtpCredential | null;
    return credential?.code ?? null;
  } catch {
    return null;
  }
}
