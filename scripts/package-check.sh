#!/usr/bin/env bash
# SPDX-License-Identifier: EUPL-1.2
# Builds the Debian package from a build folder and checks it as an operator
# would meet it (CTest: package_deb; docs/operations.md):
#   - carrefour_<version>_amd64.deb, with Depends on the runtime libraries;
#   - its contents: the binary, units, sysusers file, /etc/carrefour/hub.toml
#     (a conffile), docs with api.md and openapi.yaml, man pages, completion;
#   - `systemd-analyze verify` on both units;
#   - unpacked into a temporary root, the binary runs --version and
#     `network check` on the packaged example network.
#
#   scripts/package-check.sh BUILD_DIR
set -euo pipefail

build=${1:?usage: scripts/package-check.sh BUILD_DIR}
build=$(cd "$build" && pwd)
work=$(mktemp -d /tmp/carrefour-package.XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "package-check: $*" >&2; exit 1; }

version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")
[[ -n "$version" ]] || fail "no project version in $build/CMakeCache.txt"
(cd "$work" && cpack --config "$build/CPackConfig.cmake" -B "$work/out" >"$work/cpack.log" 2>&1) ||
  { cat "$work/cpack.log" >&2; fail "cpack failed"; }
deb="$work/out/carrefour_${version}_amd64.deb"
[[ -f "$deb" ]] || { ls "$work/out" >&2; fail "no $(basename "$deb")"; }
echo "package-check: built $(basename "$deb") ($(du -h "$deb" | cut -f1))"

depends=$(dpkg-deb -f "$deb" Depends)
for library in libssl3 libsqlite3-0 libpq5 libpqxx libboost-json libfmt libspdlog systemd; do
  [[ "$depends" == *"$library"* ]] || fail "Depends lacks $library: $depends"
done
echo "package-check: Depends: $depends"

dpkg-deb -c "$deb" | awk '{print $NF}' | sed 's|^\./|/|' >"$work/contents"
for path in /usr/bin/carrefour /usr/lib/systemd/system/carrefour-hub.service \
            /usr/lib/systemd/system/carrefour-connector@.service /usr/lib/sysusers.d/carrefour.conf \
            /etc/carrefour/hub.toml /usr/share/doc/carrefour/api.md /usr/share/doc/carrefour/openapi.yaml \
            /usr/share/doc/carrefour/operations.md /usr/share/doc/carrefour/LICENSE \
            /usr/share/doc/carrefour/examples/network.toml /usr/share/man/man1/carrefour.1 \
            /usr/share/man/man1/carrefour-hub.1 /usr/share/man/man1/carrefour-connector.1 \
            /usr/share/bash-completion/completions/carrefour; do
  grep -qx -- "$path" "$work/contents" || fail "the package lacks $path"
done
dpkg-deb -I "$deb" conffiles | grep -qx /etc/carrefour/hub.toml || fail "hub.toml is not a conffile"
echo "package-check: contents and conffiles as expected"

mkdir "$work/root"
dpkg-deb -x "$deb" "$work/root"
binary="$work/root/usr/bin/carrefour"
line=$("$binary" --version)
[[ "$line" =~ ^carrefour\ ${version//./\\.}\ \(([0-9a-f]{7,40}|unknown)\)$ ]] || fail "--version said: $line"
"$binary" network check "$work/root/usr/share/doc/carrefour/examples/network.toml" >"$work/check.out" ||
  { cat "$work/check.out" >&2; fail "network check failed on the packaged example"; }
echo "package-check: unpacked binary: $line; network check passed"

# systemd-analyze verify needs the units' programs at their paths: verify
# copies whose /usr/bin/carrefour points into the unpacked root.
mkdir "$work/units"
for unit in carrefour-hub.service carrefour-connector@.service; do
  sed "s|/usr/bin/carrefour|$binary|g" "$work/root/usr/lib/systemd/system/$unit" >"$work/units/$unit"
done
cp "$work/units/carrefour-connector@.service" "$work/units/carrefour-connector@mut-100.service"
(cd "$work/units" && SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no \
   ./carrefour-hub.service ./carrefour-connector@mut-100.service) >"$work/verify.log" 2>&1 || true
# Lines about the units themselves are errors; systemd's complaints about the
# host (no running manager in a container) are not the package's.
if grep -E 'carrefour-(hub|connector)' "$work/verify.log" | grep -v -e 'Failed to ' -e 'System has not been booted'; then
  fail "systemd-analyze verify found problems in the units"
fi
echo "package-check: systemd-analyze verify found nothing in the units"
echo "package-check: ok"
