# syntax=docker/dockerfile:1
# FlowATS server image: built with the Rust toolchain, run on slim Debian as a non-root user.
#
#   docker build -t flowats .
#   docker run -p 8787:8787 -v flowats-data:/var/lib/flowats --stop-timeout 35 flowats
#
# With no environment it serves SQLite at /var/lib/flowats/flowats.db (mount a volume there:
# one instance only). For several instances set DATABASE_URL=postgres://…, JWT_SECRET, REDIS_URL.
# Guide and what was and was not tried: docs/DEPLOY.md.

ARG RUST_VERSION=1.95
# Both stages on the same Debian release, so the binary's glibc matches the runtime's.
ARG DEBIAN_RELEASE=bookworm

# ---- build ------------------------------------------------------------------------------
FROM rust:${RUST_VERSION}-slim-${DEBIAN_RELEASE} AS build
WORKDIR /src
# Nothing else to install: ring and the bundled SQLite need only the C compiler the image has;
# TLS is rustls (no OpenSSL); the web assets and migrations are compiled into the binary.
COPY . .
# Cache mounts keep the crate downloads and the target directory between builds (BuildKit);
# the binary is copied out in the same step because the cache mount is not part of the layer.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p flowats-server --bin flowats \
    && install -D -m 0755 target/release/flowats /out/flowats

# ---- runtime ----------------------------------------------------------------------------
FROM debian:${DEBIAN_RELEASE}-slim AS runtime
# A fixed numeric id, so Kubernetes' runAsNonRoot can check it; its home is the data folder.
RUN groupadd --system --gid 10001 flowats \
    && useradd --system --uid 10001 --gid flowats --home-dir /var/lib/flowats \
       --create-home --shell /usr/sbin/nologin flowats
# CA roots for outbound HTTPS (AI_PROVIDER=openai reads the system store), taken from the
# build stage instead of installing ca-certificates (which drags in openssl).
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/flowats /usr/local/bin/flowats

# HOST must be 0.0.0.0 in a container (127.0.0.1 is unreachable from outside it). Platforms
# that set PORT themselves (Railway, Render) override it; the health check follows it.
ENV HOST=0.0.0.0 \
    PORT=8787 \
    DATABASE_URL=sqlite:///var/lib/flowats/flowats.db \
    LOG_FORMAT=json
WORKDIR /var/lib/flowats
USER 10001:10001
EXPOSE 8787

# Liveness, not readiness: a database outage is not cured by restarting this container.
# Slim Debian has no curl or wget; bash's /dev/tcp sends one HTTP/1.0 request and the status
# line must say 200. No extra package, nothing else to keep patched.
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${PORT:-8787} && printf 'GET /api/health/live HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && read -r -t 2 line <&3 && [[ $line == HTTP/1.?' 200'* ]]"]

# SIGTERM (Docker's default stop signal) stops accepting, then lets requests in flight finish
# for up to SHUTDOWN_TIMEOUT_MS (30 s): give `docker stop` more than that (--stop-timeout 35).
ENTRYPOINT ["flowats"]
CMD ["serve"]
