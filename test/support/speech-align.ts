/**
 * Checks what a voice call said without trusting the server: the test renders its own reference of each digit
 * with espeak-ng (never the server's cached clips), decodes the captured G.711 with sox, and finds where each
 * reference occurs in the capture by normalised cross-correlation (computed with an FFT). The digits found, in
 * time order, are what the call said.
 *
 * pocketsphinx (digits grammar) is run as well, for information only: it misreads synthetic 8 kHz digits often.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const RATE = 8000;
const TO_PCM = ["-t", "raw", "-e", "signed-integer", "-b", "16", "-c", "1", "-r", String(RATE), "-"];

function samplesOf(bytes: Buffer): Float64Array {
  const out = new Float64Array(bytes.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = bytes.readInt16LE(i * 2);
  return out;
}

function run(command: string, args: string[], input?: Buffer): Buffer {
  const result = spawnSync(command, args, { input, maxBuffer: 256 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} failed: ${result.stderr?.toString()}`);
  return result.stdout;
}

/** espeak-ng's rendering of each digit 0-9 in `voice` at 8 kHz, as the test makes it. */
export function renderDigitReferences(voice: string, wordsPerMinute = 150): Float64Array[] {
  const refs: Float64Array[] = [];
  for (let d = 0; d <= 9; d++) {
    const wav = run("espeak-ng", ["-v", voice, "-s", String(wordsPerMinute), "--stdout", String(d)]);
    refs.push(trimQuiet(samplesOf(run("sox", ["-t", "wav", "-", ...TO_PCM], wav))));
  }
  return refs;
}

/** espeak-ng's rendering of a phrase in `voice` at 8 kHz, as the test makes it (the server renders its own). */
export function renderPhraseReference(voice: string, text: string, wordsPerMinute = 150): Float64Array {
  const wav = run("espeak-ng", ["-v", voice, "-s", String(wordsPerMinute), "--stdout", text]);
  return trimQuiet(samplesOf(run("sox", ["-t", "wav", "-", ...TO_PCM], wav)));
}

/** Decodes raw G.711 bytes (µ-law for PCMU, A-law for PCMA) with sox. */
export function decodeG711WithSox(bytes: Buffer, codec: "PCMU" | "PCMA"): Float64Array {
  return samplesOf(
    run("sox", ["-t", codec === "PCMU" ? "ul" : "al", "-r", String(RATE), "-c", "1", "-", ...TO_PCM], bytes),
  );
}

/** Decodes a WAV file (any format sox reads) to 8 kHz samples with sox. */
export function decodeWavWithSox(wav: Buffer): Float64Array {
  return samplesOf(run("sox", ["-t", "wav", "-", ...TO_PCM], wav));
}

function trimQuiet(x: Float64Array): Float64Array {
  let start = 0;
  while (start < x.length && Math.abs(x[start] as number) < 100) start++;
  let end = x.length;
  while (end > start && Math.abs(x[end - 1] as number) < 100) end--;
  return x.slice(start, end);
}

export interface FoundDigit {
  digit: string;
  /** seconds into the capture */
  at: number;
  /** normalised cross-correlation, 0..1 */
  score: number;
}

/**
 * Where each digit reference occurs in `capture`: every peak of normalised cross-correlation at or above
 * `threshold`; where two references peak within half a reference of each other, the higher wins.
 */
export function findDigits(capture: Float64Array, refs: Float64Array[], threshold = 0.7): FoundDigit[] {
  const candidates: FoundDigit[] = [];
  const energy = prefixEnergy(capture);
  refs.forEach((ref, digit) => {
    const corr = crossCorrelate(capture, ref);
    const refNorm = Math.sqrt(ref.reduce((s, v) => s + v * v, 0));
    const scores = new Float64Array(capture.length - ref.length + 1);
    for (let lag = 0; lag < scores.length; lag++) {
      const windowEnergy = (energy[lag + ref.length] as number) - (energy[lag] as number);
      scores[lag] = windowEnergy > 0 ? (corr[lag] as number) / (refNorm * Math.sqrt(windowEnergy)) : 0;
    }
    const half = ref.length >> 1;
    for (let lag = 0; lag < scores.length; lag++) {
      const s = scores[lag] as number;
      if (s < threshold) continue;
      let isPeak = true;
      for (let k = Math.max(0, lag - half); k < Math.min(scores.length, lag + half) && isPeak; k++) {
        if ((scores[k] as number) > s) isPeak = false;
      }
      if (isPeak) candidates.push({ digit: String(digit), at: lag / RATE, score: s });
    }
  });
  candidates.sort((a, b) => b.score - a.score);
  const kept: FoundDigit[] = [];
  for (const c of candidates) {
    const clash = kept.some((k) => Math.abs(k.at - c.at) < 0.25);
    if (!clash) kept.push(c);
  }
  return kept.sort((a, b) => a.at - b.at);
}

function prefixEnergy(x: Float64Array): Float64Array {
  const out = new Float64Array(x.length + 1);
  for (let i = 0; i < x.length; i++) out[i + 1] = (out[i] as number) + (x[i] as number) * (x[i] as number);
  return out;
}

/** c[lag] = sum_i x[lag + i] * y[i], for every lag where y fits in x. */
function crossCorrelate(x: Float64Array, y: Float64Array): Float64Array {
  let n = 1;
  while (n < x.length + y.length) n <<= 1;
  const xr = new Float64Array(n);
  const xi = new Float64Array(n);
  const yr = new Float64Array(n);
  const yi = new Float64Array(n);
  xr.set(x);
  yr.set(y);
  fft(xr, xi, false);
  fft(yr, yi, false);
  for (let k = 0; k < n; k++) {
    // X * conj(Y)
    const a = xr[k] as number;
    const b = xi[k] as number;
    const c = yr[k] as number;
    const d = yi[k] as number;
    xr[k] = a * c + b * d;
    xi[k] = b * c - a * d;
  }
  fft(xr, xi, true);
  return xr.subarray(0, x.length - y.length + 1);
}

/** In-place iterative radix-2 FFT; the inverse is scaled by 1/n. */
function fft(re: Float64Array, im: Float64Array, inverse: boolean): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j] as number, re[i] as number];
      [im[i], im[j]] = [im[j] as number, im[i] as number];
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const angle = ((inverse ? 2 : -2) * Math.PI) / len;
    const wr = Math.cos(angle);
    const wi = Math.sin(angle);
    for (let i = 0; i < n; i += len) {
      let cr = 1;
      let ci = 0;
      for (let k = 0; k < len / 2; k++) {
        const a = i + k;
        const b = a + len / 2;
        const tr = (re[b] as number) * cr - (im[b] as number) * ci;
        const ti = (re[b] as number) * ci + (im[b] as number) * cr;
        re[b] = (re[a] as number) - tr;
        im[b] = (im[a] as number) - ti;
        re[a] = (re[a] as number) + tr;
        im[a] = (im[a] as number) + ti;
        const ncr = cr * wr - ci * wi;
        ci = cr * wi + ci * wr;
        cr = ncr;
      }
    }
  }
  if (inverse) {
    for (let i = 0; i < n; i++) {
      re[i] = (re[i] as number) / n;
      im[i] = (im[i] as number) / n;
    }
  }
}

/** What Debian's pocketsphinx (en-us model, a digits-only JSGF grammar) hears in 8 kHz samples; information only. */
export function pocketsphinxDigits(samples: Float64Array): string {
  const dir = mkdtempSync(join(tmpdir(), "flashverify-sphinx-"));
  try {
    const pcm = Buffer.alloc(samples.length * 2);
    samples.forEach((v, i) => {
      pcm.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(v))), i * 2);
    });
    // pocketsphinx 0.8's en-us model is 16 kHz: sox upsamples.
    const wav16 = run(
      "sox",
      [
        "-t",
        "raw",
        "-e",
        "signed-integer",
        "-b",
        "16",
        "-c",
        "1",
        "-r",
        String(RATE),
        "-",
        "-t",
        "wav",
        "-r",
        "16000",
        "-",
      ],
      pcm,
    );
    writeFileSync(join(dir, "in.wav"), wav16);
    const words = "zero | oh | one | two | three | four | five | six | seven | eight | nine";
    writeFileSync(join(dir, "digits.gram"), `#JSGF V1.0;\ngrammar digits;\npublic <digits> = ( ${words} )+ ;\n`);
    const result = spawnSync(
      "pocketsphinx_continuous",
      ["-infile", join(dir, "in.wav"), "-jsgf", join(dir, "digits.gram"), "-logfn", "/dev/null"],
      { encoding: "utf8", timeout: 60_000 },
    );
    return (result.stdout ?? "").trim().replace(/\s+/g, " ");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
