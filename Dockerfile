# The MST Care-Plan Adapter on Debian 12, built from this repository.
# Used by docker-compose.yml (service `adapter`); the same packages as a
# developer machine or CI come from scripts/install-deps.
FROM debian:12

ENV DEBIAN_FRONTEND=noninteractive
WORKDIR /src

# Packages first (own layer, rebuilt only when the list changes).
COPY scripts/install-deps scripts/install-deps
RUN scripts/install-deps && rm -rf /var/lib/apt/lists/*

COPY . .
# Only the adapter binary is built (no tests, no benchmarks, no Java launcher).
RUN cmake -S . -B /tmp/build -G Ninja -DCMAKE_BUILD_TYPE=Release \
          -DMST_BUILD_BENCH=OFF -DMST_INTEGRATION_TESTS=OFF \
 && cmake --build /tmp/build --target mst-adapter \
 && (cmake --install /tmp/build --prefix /opt/mst >/dev/null 2>&1 || true) \
 && { test -x /opt/mst/bin/mst-adapter \
      || install -D -m 0755 /tmp/build/adapter/mst-adapter /opt/mst/bin/mst-adapter; } \
 && rm -rf /tmp/build \
 && /opt/mst/bin/mst-adapter --version

# A fixed numeric uid: Kubernetes' runAsNonRoot can check only a number
# (deploy/k8s).
RUN useradd --system --uid 10001 --home-dir /var/lib/mst --create-home mst
USER 10001
WORKDIR /var/lib/mst
ENTRYPOINT ["/opt/mst/bin/mst-adapter"]
CMD ["sync", "--server", "http://hapi:8080/fhir"]
