# syntax=docker/dockerfile:1
# Switchyard's container image. Two runtime targets share one build stage:
#   docker build -t switchyard .                       # default: Debian slim + ssh client (SSH and HTTPS remotes)
#   docker build -t switchyard:minimal --target minimal .   # distroless, no shell, no ssh (HTTPS remotes only)
# Both run as a non-root user with a read-only root filesystem: the only writable paths are
# TMPDIR=/tmp (the memory backend's repository and inline SSH keys; mount a tmpfs or emptyDir)
# and /var/lib/switchyard (the `local` backend's repository; mount a volume).
# The build stage's commands are deploy/docker/build.sh, which scripts/test-deploy.sh also runs.

ARG RUST_IMAGE=rust:1.95-bookworm

FROM ${RUST_IMAGE} AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    deploy/docker/build.sh /out && mkdir -m 0750 /out/data

# HTTPS-only variant: glibc, libgcc, CA certificates and a nonroot user (65532), nothing else.
FROM gcr.io/distroless/cc-debian12:nonroot AS minimal
COPY --from=build /out/switchyard /usr/local/bin/switchyard
# the `local` backend's directory (no shell here to create it)
COPY --from=build --chown=65532:65532 /out/data /var/lib/switchyard
ENV TMPDIR=/tmp \
    SWITCHYARD_LISTEN=0.0.0.0:8080 \
    SWITCHYARD_CONFIG=/etc/switchyard/switchyard.yml
USER 65532:65532
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
    CMD ["/usr/local/bin/switchyard", "health", "--timeout", "3s"]
ENTRYPOINT ["/usr/local/bin/switchyard"]
CMD ["serve"]

# Default: adds the OpenSSH client (SSH remotes run the system `ssh`) and a `switchyard` user
# in /etc/passwd (ssh refuses to run for a uid without one).
FROM debian:bookworm-slim AS runtime
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates openssh-client \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 switchyard \
    && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/switchyard \
       --shell /usr/sbin/nologin switchyard \
    && install -d -o 10001 -g 10001 -m 0750 /var/lib/switchyard \
    && install -d -m 0755 /etc/switchyard
COPY --from=build /out/switchyard /usr/local/bin/switchyard
ENV TMPDIR=/tmp \
    SWITCHYARD_LISTEN=0.0.0.0:8080 \
    SWITCHYARD_CONFIG=/etc/switchyard/switchyard.yml
USER 10001:10001
WORKDIR /var/lib/switchyard
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
    CMD ["/usr/local/bin/switchyard", "health", "--timeout", "3s"]
ENTRYPOINT ["/usr/local/bin/switchyard"]
CMD ["serve"]
