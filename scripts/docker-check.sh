#!/usr/bin/env bash
# The deploy recipes for real (issue 17): builds deploy/Dockerfile, checks the image runs its
# binary as the unprivileged user, then starts deploy/compose.yaml (PostgreSQL, two Refline nodes,
# Caddy) under a throwaway project and waits until both nodes answer /readyz, directly and through
# the proxy. Everything it started is removed at the end.
#
# Needs a Docker daemon and the compose plugin; without them it prints a NOTICE and exits 0, and
# the manual step in docs/DEPLOY.md ("Checking the recipes") stands in for it. The compose file
# publishes ports 80 and 443: run it where they are free.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v docker >/dev/null 2>&1 || ! docker info >/dev/null 2>&1; then
  echo "NOTICE: no Docker daemon; deploy/Dockerfile and deploy/compose.yaml were not built or started" \
    "(manual step: docs/DEPLOY.md, \"Checking the recipes\")."
  exit 0
fi
if ! docker compose version >/dev/null 2>&1; then
  echo "NOTICE: the docker compose plugin is missing; deploy/compose.yaml was not started" \
    "(manual step: docs/DEPLOY.md, \"Checking the recipes\")."
  exit 0
fi

# The name compose.yaml gives the image, so `up` uses this build instead of building again.
image=refline:local
docker build -f deploy/Dockerfile -t "$image" .
user=$(docker image inspect -f '{{.Config.User}}' "$image")
if [ "$user" != "nonroot:nonroot" ]; then
  echo "FAIL: the image runs as '$user', not nonroot" >&2
  exit 1
fi
docker run --rm "$image" --version
echo "image size: $(( $(docker image inspect -f '{{.Size}}' "$image") / 1024 / 1024 )) MiB"

project="refline-ci-$$"
env_file=$(mktemp)
cat >"$env_file" <<EOF
REFLINE_DOMAIN=localhost
REFLINE_SECRET_KEY=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
POSTGRES_PASSWORD=ci$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')
EOF
compose=(docker compose -p "$project" --env-file "$env_file" -f deploy/compose.yaml)
cleanup() {
  "${compose[@]}" down -v --remove-orphans >/dev/null 2>&1 || true
  rm -f "$env_file"
}
trap cleanup EXIT

"${compose[@]}" up -d --no-build --wait postgres
"${compose[@]}" up -d --no-build

# distroless has no shell or HTTP client: ask from the Caddy container (busybox wget).
ready() { "${compose[@]}" exec -T caddy wget -qO- --no-check-certificate "$1" 2>/dev/null | grep -q '"ready"'; }
for target in http://refline-1:8080/readyz http://refline-2:8080/readyz https://localhost/readyz; do
  for _ in $(seq 1 120); do
    ready "$target" && break
    sleep 1
  done
  if ! ready "$target"; then
    echo "FAIL: $target never answered ready" >&2
    "${compose[@]}" ps >&2
    "${compose[@]}" logs --tail 50 >&2
    exit 1
  fi
  echo "ready: $target"
done
running=$("${compose[@]}" ps --status running --services | sort | tr '\n' ' ')
if [ "$running" != "caddy postgres refline-1 refline-2 " ]; then
  echo "FAIL: running services: $running" >&2
  exit 1
fi
echo "deploy recipes: image built, compose services started and ready"
