# flashverify in a container: the README's commands (npm ci, npm run build, serve), built once. The sandbox is off
# here; configure a trunk, a database and the channels through the environment (README "Configuration",
# docs/deploy.md).
FROM node:20-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 builds its native module when no prebuilt one matches.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
# The voice channel renders its prompts with espeak-ng and sox.
RUN apt-get update && apt-get install -y --no-install-recommends espeak-ng sox && rm -rf /var/lib/apt/lists/*
# SIP on the port EXPOSE publishes (SIP_LOCAL_PORT's default, 0, would pick any).
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8080 SANDBOX=off DATABASE_URL=sqlite:/data/flashverify.db \
    SIP_LOCAL_PORT=5060
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/package.json ./
# The server runs as `node`: the database directory (a volume) must be its own.
RUN mkdir /data && chown node:node /data
VOLUME /data
# RTP of voice calls: VOICE_RTP_PORTS' default range.
EXPOSE 8080 5060/udp 20000-29999/udp
USER node
# SIGTERM drains and exits 0 (docs/deploy.md): give it `docker run --stop-timeout 30`, more than Docker's 10 s.
STOPSIGNAL SIGTERM
# Liveness, not readiness: /healthz stays 200 while the database is away (a restart would not bring it back), and
# fails when the process stops answering. Docker restarts a node that exits with `docker run --restart unless-stopped`
# (or `restart: unless-stopped` in Compose): the image cannot set the policy itself.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT}/healthz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "--max-semi-space-size=4", "dist/src/cli/main.js", "serve"]
