# syntax=docker/dockerfile:1
#
# licensegw in a container: static binaries on a distroless base, run as a
# non-root user. docs/operations.md ("Running in a container") shows how to
# build and run it.
#
#   docker build --build-arg COMMIT=$(git rev-parse --short=12 HEAD) -t licensegw .
#   docker run -d --name licensegw -p 1648:1648 -p 1648:1648/udp \
#     -p 127.0.0.1:7648:7648 -p 127.0.0.1:4222:4222 -v licensegw-data:/var/lib/licensegw licensegw

# ---- build: every binary, statically linked, stamped by the Makefile.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
COPY sdk/go.mod sdk/go.sum ./sdk/
RUN go mod download
COPY . .
ARG VERSION=0.1.0
ARG COMMIT=
# CGO off: static binaries that need no libc in the image (os/user reads
# /etc/passwd itself). -buildvcs=false: .git is not in the build context,
# the COMMIT argument says which revision this is.
ENV CGO_ENABLED=0 GOFLAGS="-trimpath -buildvcs=false"
RUN make build BIN=/out VERSION=${VERSION} COMMIT=${COMMIT}

# ---- run: no shell, no package manager; user nonroot (65532).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/ /usr/local/bin/
COPY examples/docker/config.hcl /etc/licensegw/config.hcl
# data_dir: the JetStream stream (the journal), snapshots, signing.key.
VOLUME ["/var/lib/licensegw"]
WORKDIR /var/lib/licensegw
USER nonroot:nonroot
ENV LICENSEGW_LOG_FORMAT=json
# concurrent-lm (TCP and UDP), FlexLM-style lmgrd and vendor daemon,
# Sentinel-style (UDP), admin API, NATS: all above 1024, no capability needed.
EXPOSE 1648/tcp 1648/udp 27000/tcp 27100/tcp 5093/udp 7648/tcp 4222/tcp
ENTRYPOINT ["/usr/local/bin/licensegw"]
CMD ["serve", "/etc/licensegw/config.hcl"]
