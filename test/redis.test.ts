/**
 * Redis between server processes: rate limits counted once for all of them, live events fanned out to all of them,
 * and when Redis goes away, sends and checks fail closed (503) until it returns, by themselves. Skipped with a
 * notice where Redis is missing, unless CI requires it (FLASHVERIFY_REQUIRE_PEERS=redis).
 */
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { RedisEventHub } from "../src/events/redis-event-hub.js";
import { FlexibleLimiter, redisBackend } from "../src/fraud/limiter.js";
import { RedisLimiter } from "../src/fraud/redis-limiter.js";
import { openRedis } from "../src/storage/redis.js";
import { runLimiterConformance } from "./conformance/limiter.js";
import { REDIS_URL, redisAvailable, startPrivateRedis } from "./support/redis.js";
import { auth, createTestApp, eventually } from "./support/test-app.js";

const available = redisAvailable();
const clients: Redis[] = [];
const client = () => {
  const redis = new Redis(REDIS_URL, { enableOfflineQueue: true, lazyConnect: false });
  clients.push(redis);
  return redis;
};
afterAll(() => {
  for (const redis of clients) redis.disconnect();
});

describe.skipIf(!available)("Redis", () => {
  runLimiterConformance("redis", async () => new RedisLimiter(client(), `fv_test_${randomBytes(4).toString("hex")}`));

  it("counts a limit once across processes", async () => {
    const namespace = `fv_test_${randomBytes(4).toString("hex")}`;
    const [a, b] = [
      new FlexibleLimiter(redisBackend(client(), namespace)),
      new FlexibleLimiter(redisBackend(client(), namespace)),
    ];
    const rule = { points: 3, durationSec: 60 };
    expect((await a.consume("start.destination", rule, "app|+447400180001")).consumed).toBe(1);
    expect((await b.consume("start.destination", rule, "app|+447400180001")).consumed).toBe(2);
    expect((await a.consume("start.destination", rule, "app|+447400180001")).allowed).toBe(true);
    const refused = await b.consume("start.destination", rule, "app|+447400180001");
    expect(refused.allowed).toBe(false);
    expect(refused.msBeforeNext).toBeGreaterThan(50_000);
  });

  it("tells every process's listeners about a commit on any of them, once each", async () => {
    const channel = `fv_test_events_${randomBytes(4).toString("hex")}`;
    const [a, b] = await Promise.all([
      RedisEventHub.start(client(), client(), { channel }),
      RedisEventHub.start(client(), client(), { channel }),
    ]);
    const heardOnA: string[] = [];
    const heardOnB: string[] = [];
    a.subscribe("ver_1", () => heardOnA.push("ver_1"));
    b.subscribe("ver_1", () => heardOnB.push("ver_1"));
    let anyOnB = 0;
    b.onAny(() => anyOnB++);
    // Application listeners (GET /v1/events/stream) wake for their own application's commits only.
    const appsOnB: string[] = [];
    b.subscribeApplication("app_1", () => appsOnB.push("app_1"));
    b.subscribeApplication("app_2", () => appsOnB.push("app_2"));
    a.committed("ver_1", "app_1");
    a.committed("ver_2", "app_1");
    await eventually(() => (anyOnB === 2 ? true : undefined));
    expect(heardOnA).toEqual(["ver_1"]);
    expect(heardOnB).toEqual(["ver_1"]);
    expect(appsOnB).toEqual(["app_1", "app_1"]);

    // A message without the application (a node of an earlier version) wakes every application's listeners once.
    await client().publish(channel, "elsewhere ver_3");
    await eventually(() => (anyOnB === 3 ? true : undefined));
    expect(appsOnB.slice(2).sort()).toEqual(["app_1", "app_2"]);
  });

  it("fails sends and checks closed while Redis is away, and recovers by itself when it returns", async () => {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    let redis = await startPrivateRedis("127.0.0.90", port);
    const app = await createTestApp({ REDIS_URL: redis.url });
    try {
      const start = (phone: string) =>
        app.app.inject({ method: "POST", url: "/v1/verifications", headers: auth(), payload: { phone } });
      const first = await start("+447400180002");
      expect(first.statusCode, first.body).toBe(201);

      await redis.stop();
      const refused = await eventually(async () => {
        const res = await start("+447400180003");
        return res.statusCode === 503 ? res : undefined;
      });
      expect(refused.json().error.code).toBe("FRAUD_CHECK_UNAVAILABLE");
      expect(refused.headers["retry-after"]).toBeDefined();
      expect(app.services.sandbox?.handsets.calls("+447400180003")).toEqual([]);
      const check = await app.app.inject({
        method: "POST",
        url: `/v1/verifications/${first.json().id}/check`,
        headers: auth(),
        payload: { code: "0000" },
      });
      expect(check.statusCode).toBe(503);
      const unchanged = await app.app.inject({
        method: "GET",
        url: `/v1/verifications/${first.json().id}`,
        headers: auth(),
      });
      expect(unchanged.json().attempts_remaining).toBe(3);

      redis = await startPrivateRedis("127.0.0.90", port);
      const back = await eventually(async () => {
        const res = await start("+447400180004");
        return res.statusCode === 201 ? res : undefined;
      }, 15_000);
      expect(back.json().status).toBe("pending");
    } finally {
      await app.close();
      await redis.stop();
    }
  }, 60_000);

  it("opens its connections from REDIS_URL and closes them", async () => {
    const connections = await openRedis(REDIS_URL, () => undefined);
    expect(await connections.commands.ping()).toBe("PONG");
    await connections.close();
  });
});
