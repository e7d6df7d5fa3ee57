# LabelFlow's image for people with Docker (or BuildKit, Podman, Kaniko):
#   docker build -t labelflow:dev .
# The build machine of this repository has no container engine and pulls no base image, so this
# file is not built in `make test`; `make image` builds the equivalent image there with the Go
# toolchain alone (deploy/image: same binary flags, user, entrypoint and labels), and its tests run
# in `make test`.
ARG GO_VERSION=1.26.8

FROM golang:${GO_VERSION} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG TARGETARCH
RUN CGO_ENABLED=0 GOOS=linux GOARCH=${TARGETARCH} \
    go build -trimpath -buildvcs=false -ldflags="-s -w -buildid=" -o /out/labelflow ./cmd/labelflow

# Static binary, CA certificates, a nonroot user (65532) and nothing else: no shell, no package manager.
FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION=dev
ARG REVISION=
LABEL org.opencontainers.image.source="https://github.com/labelflow/labelflow" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.title="labelflow"
COPY --from=build /out/labelflow /usr/local/bin/labelflow
USER 65532:65532
WORKDIR /home/nonroot
ENTRYPOINT ["/usr/local/bin/labelflow"]
