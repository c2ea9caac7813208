#!/usr/bin/env bash
# A stand-in for python:3.11-slim and redis:7-alpine on a machine whose Docker engine cannot reach a registry
# but whose host reaches a Debian mirror (as here): Debian bookworm (Python 3.11) with pip, git and
# redis-server, made with debootstrap and `docker import`. Used by scripts/compose_smoke.py:
#   scripts/local-base-image.sh [TAG]        (default repairbot-local/bookworm-python:3.11)
set -euo pipefail

TAG="${1:-repairbot-local/bookworm-python:3.11}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"

if docker image inspect "$TAG" >/dev/null 2>&1; then
  echo "local-base-image: $TAG exists"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "local-base-image: debootstrap needs root" >&2
  exit 2
fi
command -v debootstrap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap
root="$(mktemp -d /tmp/repairbot-rootfs-XXXXXX)"
trap 'rm -rf "$root"' EXIT
echo "local-base-image: debootstrap bookworm into $root"
debootstrap --variant=minbase --include=python3,python3-pip,python-is-python3,git,ca-certificates,passwd,redis-server \
  bookworm "$root" "$MIRROR" >"$root.log" 2>&1 || { tail -n 20 "$root.log" >&2; exit 1; }
rm -f "$root.log"
# Like the official python image: pip installs into the system interpreter (no PEP 668 marker).
rm -f "$root"/usr/lib/python3*/EXTERNALLY-MANAGED
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
# The host's CA bundle: where a TLS-inspecting proxy stands between this machine and PyPI, its CA is there.
cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
tar -C "$root" -c . | docker import --change 'ENV LANG=C.UTF-8' \
  --change 'ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
  --change 'CMD ["python3"]' - "$TAG" >/dev/null
echo "local-base-image: built $TAG"
