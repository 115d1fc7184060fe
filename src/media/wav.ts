/**
 * WAV files of 8 kHz mono 16-bit PCM: the recordings the sandbox keeps of voice calls (a browser's <audio> plays
 * linear PCM WAV everywhere, G.711 WAV not) and the samples of prompt audio.
 */
import { SAMPLE_RATE } from "./prompt.js";

/** A RIFF/WAVE file of 16-bit mono PCM at 8 kHz. */
export function pcmWav(samples: Int16Array): Buffer {
  const data = samples.length * 2;
  const out = Buffer.alloc(44 + data);
  out.write("RIFF", 0, "ascii");
  out.writeUInt32LE(36 + data, 4);
  out.write("WAVE", 8, "ascii");
  out.write("fmt ", 12, "ascii");
  out.writeUInt32LE(16, 16);
  out.writeUInt16LE(1, 20); // PCM
  out.writeUInt16LE(1, 22); // mono
  out.writeUInt32LE(SAMPLE_RATE, 24);
  out.writeUInt32LE(SAMPLE_RATE * 2, 28);
  out.writeUInt16LE(2, 32);
  out.writeUInt16LE(16, 34);
  out.write("data", 36, "ascii");
  out.writeUInt32LE(data, 40);
  for (let i = 0; i < samples.length; i++) out.writeInt16LE(samples[i] as number, 44 + i * 2);
  return out;
}
