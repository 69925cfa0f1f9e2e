#!/usr/bin/env bash
# Runs threeway's whole test suite. On a fresh machine, as root, it first
# installs the peers the interop tests talk to (iproute2, tshark, curl, ...);
# without root those tests skip and say why.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for tool in ip:iproute2 nft:nftables tcpdump:tcpdump tshark:tshark curl:curl ping:iputils-ping nc:netcat-openbsd hping3:hping3 ethtool:ethtool; do
  command -v "${tool%%:*}" >/dev/null 2>&1 || need+=("${tool#*:}")
done
if [ "${#need[@]}" -gt 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "== installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  # tshark asks whether non-root users may capture; answer no.
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# google/packetdrill's scripts (GPL test data) beside the clone: conform's
# TestCorpus runs them on both backends against conform/testdata/corpus-expect.txt.
if [ -d ../shared/packetdrill/tcp ]; then
  THREEWAY_PACKETDRILL="$(cd ../shared/packetdrill && pwd)"
  export THREEWAY_PACKETDRILL
  echo "== packetdrill corpus: $THREEWAY_PACKETDRILL"
fi

echo "== go vet"
go vet ./...
echo "== staticcheck"
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
echo "== go test -race (main module)"
# One package at a time: the kernel interop tests and the packetdrill
# scripts' Linux backend run in real time and keep their timing margins
# when they do not share the two CPUs with each other.
go test -race -count=1 -p 1 ./...
for mod in xcheck bench wireguard; do
  if [ -f "$mod/go.mod" ]; then
    echo "== go test ($mod module)"
    (cd "$mod" && go vet ./... && go test -count=1 ./...)
  fi
done
