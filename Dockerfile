# Remit: a static-enough binary on a small Debian base (cgo for SQLite).
# Pinned images (cmd/remit/compose_test.go checks): the Go of go.mod, a dated Debian.
FROM golang:1.26.8-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=1 go build -trimpath -ldflags "-s -w" -o /out/remit ./cmd/remit

FROM debian:bookworm-20260824-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /data remit && mkdir -p /data && chown remit /data
COPY --from=build /out/remit /usr/local/bin/remit
USER remit
WORKDIR /data
ENV REMIT_ADDR=:8080 DATABASE_URL=/data/remit.db
EXPOSE 8080
# The slim image has no curl: the binary asks its own /healthz (REMIT_ADDR).
HEALTHCHECK --interval=10s --timeout=5s --start-period=15s --retries=3 CMD ["/usr/local/bin/remit", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/remit"]
CMD ["serve"]
