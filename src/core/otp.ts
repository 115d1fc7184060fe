/**
 * One-time codes for the message channels: CSPRNG digits (never Math.random), stored only as an HMAC bound to the
 * attempt (CodeHasher), and the text that carries them. The text keeps the code in a form SMS retrievers and iOS
 * autofill recognise ("... code is 123456") and names who sent it, as carriers' anti-phishing rules ask.
 */
import { randomInt } from "node:crypto";

export const MIN_OTP_LENGTH = 4;
export const MAX_OTP_LENGTH = 10;
export const DEFAULT_OTP_LENGTH = 6;

/** @throws RangeError outside 4-10 digits */
export function newOtp(length = DEFAULT_OTP_LENGTH): string {
  if (!Number.isInteger(length) || length < MIN_OTP_LENGTH || length > MAX_OTP_LENGTH) {
    throw new RangeError(`OTP length must be ${MIN_OTP_LENGTH}-${MAX_OTP_LENGTH} digits`);
  }
  let code = "";
  for (let i = 0; i < length; i++) code += String(randomInt(10));
  return code;
}

export const DEFAULT_OTP_TEMPLATE =
  "Your {app} verification code is {code}. It expires in {minutes} min. Never share it.";

/** Fills `{app}`, `{code}` and `{minutes}`; other braces are left as they are. */
export function renderOtpText(template: string, values: { app: string; code: string; ttlMs: number }): string {
  const minutes = String(Math.max(1, Math.round(values.ttlMs / 60_000)));
  return template.replace(/\{(app|code|minutes)\}/g, (_, name: string) =>
    name === "app" ? values.app : name === "code" ? values.code : minutes,
  );
}
