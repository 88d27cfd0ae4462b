# Remit: a static-enough binary on a small Debian base (cgo for SQLite).
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=1 go build -trimpath -ldflags "-s -w" -o /out/remit ./cmd/remit

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /data remit && mkdir -p /data && chown remit /data
COPY --from=build /out/remit /usr/local/bin/remit
USER remit
WORKDIR /data
ENV REMIT_ADDR=:8080 DATABASE_URL=/data/remit.db
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/remit"]
CMD ["serve"]
