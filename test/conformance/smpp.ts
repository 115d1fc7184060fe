/**
 * The SMPP channel's conformance suite: the same tests run against every SMSC the channel must work with (the
 * sandbox's own, and an independent implementation), so its behaviour rests on the protocol, not on one peer.
 * A peer reports what it received, decoded, and follows the sandbox's test numbers (0499 refused, 0498 receipt
 * UNDELIV, 0497 link dropped without a response).
 *
 * @example
 * runSmppConformance("sandbox SMSC", async () => sandboxPeer());
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MessageOutcome, MessageSender } from "../../src/channels/message-channel.js";
import { createSmppSmsSender } from "../../src/channels/sms-smpp/index.js";
import type { SmscPeer } from "../../src/channels/sms-smpp/smsc-peer.js";

interface Sent {
  accepted: string[] | null;
  outcome: MessageOutcome;
}

export function runSmppConformance(name: string, startPeer: () => Promise<SmscPeer>): void {
  describe(`SMS over SMPP against ${name}`, () => {
    let peer: SmscPeer;
    let sms: MessageSender;
    let attempt = 0;

    beforeAll(async () => {
      peer = await startPeer();
      sms = createSmppSmsSender({
        bind: {
          host: peer.host,
          port: peer.port,
          systemId: peer.systemId,
          password: peer.password,
          reconnectMinMs: 50,
        },
        sender: "Acme",
      });
    });
    afterAll(async () => {
      await sms?.close();
      await peer?.close();
    });

    const send = (to: string, text: string, via: MessageSender = sms) =>
      new Promise<Sent>((resolve) => {
        let accepted: string[] | null = null;
        via.send(
          { attemptId: `att_${++attempt}`, to, code: "", text },
          {
            accepted: (_at, ids) => {
              accepted = ids;
            },
            ended: (outcome) => resolve({ accepted, outcome }),
          },
        );
      });
    const submitsTo = (to: string) => peer.submits().filter((s) => s.to === to);

    it("sends a GSM-7 OTP with the sender's TON/NPI and follows it to its DELIVRD receipt", async () => {
      const to = "+447400120001";
      const sent = await send(to, "Your Acme code is 123456. Never share it.");
      expect(sent.outcome).toMatchObject({ delivered: true, reason: "delivered" });
      expect(sent.accepted).toHaveLength(1);
      const [seen] = submitsTo(to);
      expect(seen).toMatchObject({
        sourceAddr: "Acme",
        sourceTon: 5,
        sourceNpi: 0,
        destTon: 1,
        destNpi: 1,
        dataCoding: 0,
        text: "Your Acme code is 123456. Never share it.",
        concat: null,
      });
    });

    it("switches to UCS-2 for text outside the GSM alphabet", async () => {
      const to = "+447400120002";
      const text = "Код подтверждения: 123456 ✓";
      const sent = await send(to, text);
      expect(sent.outcome.reason).toBe("delivered");
      expect(submitsTo(to)).toMatchObject([{ dataCoding: 8, text }]);
    });

    it("splits a long text into concatenated parts that reassemble, never splitting an escape sequence", async () => {
      const to = "+447400120003";
      // 152 septets, then "€" (ESC + 0x65) would straddle the 153-septet part boundary.
      const text = `${"a".repeat(152)}€${"b".repeat(40)}`;
      const sent = await send(to, text);
      expect(sent.outcome.reason).toBe("delivered");
      expect(sent.accepted).toHaveLength(2);
      const parts = submitsTo(to);
      expect(parts).toHaveLength(2);
      expect(parts.map((p) => p.esmClass & 0x40)).toEqual([0x40, 0x40]);
      expect(parts.map((p) => p.concat?.index)).toEqual([1, 2]);
      expect(new Set(parts.map((p) => `${p.concat?.reference}/${p.concat?.total}`)).size).toBe(1);
      expect(parts[0]?.text).toBe("a".repeat(152));
      expect(parts.map((p) => p.text).join("")).toBe(text);
    });

    it("reports a refused destination as rejected, without an accepted step", async () => {
      const sent = await send("+447400120499", "Your code is 123456");
      expect(sent.accepted).toBeNull();
      expect(sent.outcome).toMatchObject({ delivered: false, reason: "rejected", detail: "command_status 0xb" });
    });

    it("reports an UNDELIV receipt as undeliverable", async () => {
      const sent = await send("+447400120498", "Your code is 123456");
      expect(sent.accepted).toHaveLength(1);
      expect(sent.outcome).toMatchObject({ delivered: false, reason: "undeliverable" });
    });

    it("never sends an OTP twice when the link drops mid-submit, and carries on after reconnecting", async () => {
      const dropped = "+447400120497";
      const lost = await send(dropped, "Your code is 654321");
      expect(lost.outcome).toMatchObject({ delivered: false, reason: "submit_unknown" });
      const after = await send("+447400120004", "Your code is 111222");
      expect(after.outcome.reason).toBe("delivered");
      expect(submitsTo(dropped)).toHaveLength(1);
    });

    it("throttles submits to the bind's rate", async () => {
      const throttled = createSmppSmsSender({
        bind: {
          host: peer.host,
          port: peer.port,
          systemId: peer.systemId,
          password: peer.password,
          maxPerSecond: 20,
        },
        sender: "+447700900123",
      });
      try {
        const started = Date.now();
        const sent = await Promise.all(
          Array.from({ length: 10 }, (_, i) => send(`+4474001201${String(i).padStart(2, "0")}`, "code 1", throttled)),
        );
        // Ten submits at 20/s leave at least nine 50 ms gaps between them: a lower bound, safe on a busy machine.
        expect(Date.now() - started).toBeGreaterThanOrEqual(440);
        expect(sent.every((s) => s.outcome.reason === "delivered")).toBe(true);
        expect(submitsTo("+447400120100")[0]).toMatchObject({ sourceAddr: "447700900123", sourceTon: 1, sourceNpi: 1 });
      } finally {
        await throttled.close();
      }
    });

    it("sends nothing with a wrong password and says why", async () => {
      const refused = createSmppSmsSender({
        bind: {
          host: peer.host,
          port: peer.port,
          systemId: peer.systemId,
          password: "wrong",
          queueTimeoutMs: 1000,
          reconnectMinMs: 100,
        },
        sender: "Acme",
      });
      try {
        const to = "+447400120005";
        const sent = await send(to, "Your code is 123456", refused);
        expect(sent.outcome).toMatchObject({ delivered: false, reason: "network_error" });
        expect(sent.outcome.detail).toMatch(/no bound link.*bind refused \(command_status 0xe\)/);
        expect(submitsTo(to)).toHaveLength(0);
      } finally {
        await refused.close();
      }
    });
  });
}
