# donthu: one image with every service binary (and the donthu CLI when it is
# built), the data files, curl for health checks and mdb_copy for backups.
#
#   docker-compose build            (uses network: host; see docker-compose.yml)
#   docker build --network host -t donthu:latest --build-arg BASE=debian:bookworm-slim .
#
# BASE is a Debian 12 (bookworm) image. The default, donthu/bookworm, is made
# locally by scripts/compose-test with debootstrap when there is no registry to
# pull debian:bookworm-slim from; where there is one, pass
# --build-arg BASE=debian:bookworm-slim (or DONTHU_BASE_IMAGE for compose).
# Both stages install packages with apt, so the build needs the network: on a
# daemon without a bridge (dockerd --bridge=none) build with --network host.
# Classic builder only (no BuildKit features are used).
ARG BASE=donthu/bookworm

# ------------------------------------------------------------------ build ---
FROM ${BASE} AS build
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      build-essential cmake pkg-config protobuf-c-compiler \
      libzmq3-dev libprotobuf-c-dev liblmdb-dev libuv1-dev libsodium-dev \
      libmicrohttpd-dev libjansson-dev libutf8proc-dev libxlsxwriter-dev zlib1g-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# The whole source tree (.dockerignore keeps build trees, keys and run
# folders out): CMake configures every directory, benchmarks and tests
# included, even when only the binaries are built.
COPY . .
# Release build of the service binaries and the CLI only (no tests, no
# benchmarks): whatever services/<svc>/main.c and tools/donthu exist.
RUN set -e; targets=""; \
    for s in intake routing deadline report; do \
      [ -f services/$s/main.c ] && targets="$targets donthu-$s"; \
    done; \
    [ -f tools/donthu/CMakeLists.txt ] && targets="$targets donthu"; \
    cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null; \
    cmake --build build -j"$(nproc)" --target $targets; \
    mkdir -p /out; \
    for t in $targets; do \
      find build -type f -name "$t" -perm -u+x -exec install -m 0755 {} /out/ \; ; \
    done; \
    ls -l /out

# ---------------------------------------------------------------- runtime ---
FROM ${BASE}
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      libzmq5 libprotobuf-c1 liblmdb0 libuv1 libsodium23 \
      libmicrohttpd12 libjansson4 libutf8proc2 libxlsxwriter4 \
      curl lmdb-utils \
 && rm -rf /var/lib/apt/lists/*
# A fixed uid/gid so keys on the host can be made readable to it
# (chgrp -R 10001 keys; chmod -R g+rX keys: docs/OPERATIONS.md).
# Each store directory, the admin socket directories and the backup
# directory exist in the image owned by that user, so a named volume mounted
# there starts with the right owner and mode.
RUN groupadd --system --gid 10001 donthu \
 && useradd --system --uid 10001 --gid donthu --no-create-home \
      --home-dir /var/lib/donthu --shell /usr/sbin/nologin donthu \
 && install -d -o donthu -g donthu -m 0700 /var/lib/donthu \
      /var/lib/donthu/intake /var/lib/donthu/routing \
      /var/lib/donthu/deadline /var/lib/donthu/report /var/backups/donthu \
      /run/donthu-admin /run/donthu-admin/intake /run/donthu-admin/routing \
      /run/donthu-admin/deadline /run/donthu-admin/report \
 && install -d -m 0755 /etc/donthu /usr/share/donthu
COPY --from=build /out/ /usr/local/bin/
COPY data/ /usr/share/donthu/data/
COPY deploy/*.conf /etc/donthu/
USER donthu
WORKDIR /var/lib/donthu
# Each container runs one service; docker-compose.yml gives the command.
CMD ["donthu-intake", "-c", "/etc/donthu/intake.conf"]
