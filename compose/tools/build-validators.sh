#!/bin/sh
# Builds the validators the compose checks use when there is no Docker engine, from the Go module
# proxy into .cache/go-bin/ (ignored): Docker Compose v2 (`config`), Toxiproxy (server + CLI),
# Alloy's syntax parser and BuildKit's Dockerfile frontend + build checks. Needs Go 1.24+.
# Takes a few minutes the first time; reruns are cached.
# Usage: npm run compose:validator [-- --help]
set -eu
case "${1:-}" in -h | --help) sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac

COMPOSE_VERSION="${COMPOSE_VERSION:-v2.35.0}"
TOXIPROXY_VERSION="${TOXIPROXY_VERSION:-v2.12.0}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
bin="$root/.cache/go-bin"
mkdir -p "$bin"
command -v go >/dev/null || { echo "go is not installed: apt-get install golang-go (or see go.dev/dl)" >&2; exit 1; }

echo "[1/4] docker compose $COMPOSE_VERSION"
GOBIN="$bin" go install "github.com/docker/compose/v2/cmd@$COMPOSE_VERSION"
mv "$bin/cmd" "$bin/docker-compose"

echo "[2/4] toxiproxy $TOXIPROXY_VERSION"
GOBIN="$bin" go install "github.com/Shopify/toxiproxy/v2/cmd/server@$TOXIPROXY_VERSION" \
  "github.com/Shopify/toxiproxy/v2/cmd/cli@$TOXIPROXY_VERSION"
mv "$bin/server" "$bin/toxiproxy-server"
mv "$bin/cli" "$bin/toxiproxy-cli"

echo "[3/4] alloy syntax checker"
(cd "$root/compose/tools/alloy-syntax-check" && go build -o "$bin/alloy-syntax-check" .)

echo "[4/4] dockerfile checker (BuildKit frontend)"
(cd "$root/compose/tools/dockerfile-check" && go build -o "$bin/dockerfile-check" .)

echo "validators ready in .cache/go-bin: docker-compose ($("$bin/docker-compose" version --short)), toxiproxy-server, toxiproxy-cli, alloy-syntax-check, dockerfile-check"
