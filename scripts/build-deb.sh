#!/usr/bin/env bash
# Build dist/virthost_VERSION_ARCH.deb with dpkg-deb.
#
#   scripts/build-deb.sh            # release build, man pages, completions, package
#
# The binaries are release builds linked with the Swift runtime statically
# (--static-swift-stdlib), so the package depends only on Debian packages;
# dpkg-shlibdeps computes which from the binaries. Man pages come from the
# argument parsers (swift-argument-parser's generate-manual plugin),
# completions from `--generate-completion-script`. Set SWIFT to choose the
# toolchain, SOURCE_DATE_EPOCH to pin timestamps (default: the changelog's).
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "build-deb: $*" >&2; exit 1; }
SWIFT=${SWIFT:-swift}
for tool in dpkg-deb dpkg-shlibdeps dpkg-parsechangelog strip readelf gzip; do
    command -v "$tool" >/dev/null || die "$tool not found (scripts/host-deps.sh installs it)"
done
started=$(date +%s)

# One version everywhere: the agent, the CLI and the changelog.
version=$(sed -n 's/.*static let current = "\(.*\)".*/\1/p' Sources/VirtHostServer/Daemon/DaemonVersion.swift)
client_version=$(sed -n 's/.*static let current = "\(.*\)".*/\1/p' Sources/VirtHostCLI/VirtHostCommand.swift)
changelog_version=$(dpkg-parsechangelog -l packaging/debian/changelog -S Version)
[[ -n "$version" ]] || die "no version in Sources/VirtHostServer/Daemon/DaemonVersion.swift"
[[ "$version" == "$client_version" ]] || die "agent $version and CLI $client_version versions differ"
[[ "$version" == "$changelog_version" ]] || die "packaging/debian/changelog is at $changelog_version, the agent at $version"
arch=$(dpkg --print-architecture)
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(dpkg-parsechangelog -l packaging/debian/changelog -S Timestamp)}
manual_date=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%d)

stage=$(mktemp -d /tmp/virthost-deb.XXXXXX)
trap 'rm -rf "$stage"' EXIT
root=$stage/root

# 1. Release binaries with the Swift runtime inside. One product per
#    invocation: `--product a --product b` builds only the last.
for product in virthostd virthost; do
    echo "build-deb: building $product (release, static Swift runtime; a first build takes about 9 minutes)"
    # The full log only when it fails: warnings of a release build are many.
    if ! $SWIFT build -c release --static-swift-stdlib --product "$product" >"$stage/build-$product.log" 2>&1; then
        grep -E 'error:' "$stage/build-$product.log" | head -n 40 >&2 || true
        tail -n 20 "$stage/build-$product.log" >&2
        die "swift build of $product failed"
    fi
done
bin=$($SWIFT build -c release --static-swift-stdlib --show-bin-path)
built=$(date +%s)
install -d "$root/usr/bin"
for product in virthostd virthost; do
    install -m 0755 "$bin/$product" "$root/usr/bin/$product"
    strip --strip-all "$root/usr/bin/$product"
    if readelf -d "$root/usr/bin/$product" | grep NEEDED | grep -qi swift; then
        die "$product still needs a shared Swift library: $(readelf -d "$root/usr/bin/$product" | grep NEEDED | grep -i swift)"
    fi
done
# The binaries must run here before they are packaged.
"$root/usr/bin/virthost" --version >/dev/null
"$root/usr/bin/virthostd" --version >/dev/null

# 2. Man pages from the argument parsers. The help text does not depend on
#    the build configuration; the debug build is the one `make test` has.
echo "build-deb: man pages"
$SWIFT package plugin generate-manual --configuration debug --date "$manual_date" \
    --authors "virthost maintainers<maintainers@virthost.invalid>" >"$stage/manual.log" 2>&1 \
    || { tail -n 30 "$stage/manual.log" >&2; die "generate-manual failed"; }
manuals=.build/plugins/GenerateManual/outputs
# virthostd is a daemon: section 8. generate-manual lists a subcommand
# placeholder even for a command without subcommands: drop it there.
install -d "$root/usr/share/man/man1" "$root/usr/share/man/man8"
add_sections() {  # page files-snippet see-also-snippet [exit-status-snippet] > out
    awk -v files="$2" -v seealso="$3" -v exits="${4:-}" '
        /^\.Sh "EXIT STATUS"/ { while ((getline line < files) > 0) print line }
        /^\.Ex -std/ && exits != "" { while ((getline line < exits) > 0) print line; next }
        { print }
        END { while ((getline line < seealso) > 0) print line }' "$1"
}
sed -e 's/^\.Dt VIRTHOSTD 1$/.Dt VIRTHOSTD 8/' -e '/^\.Sh SYNOPSIS$/,/^\.Sh DESCRIPTION$/{/^\.Ar subcommand$/d}' \
    "$manuals/virthostd/virthostd.1" >"$stage/virthostd.8"
add_sections "$stage/virthostd.8" packaging/man/virthostd.files.mdoc packaging/man/virthostd.seealso.mdoc \
    packaging/man/virthostd.exit.mdoc \
    | gzip -9n >"$root/usr/share/man/man8/virthostd.8.gz"
add_sections "$manuals/virthost/virthost.1" packaging/man/virthost.files.mdoc packaging/man/virthost.seealso.mdoc \
    | gzip -9n >"$root/usr/share/man/man1/virthost.1.gz"

# 3. Completions, from the binaries being packaged.
install -d "$root/usr/share/bash-completion/completions" "$root/usr/share/zsh/vendor-completions" \
    "$root/usr/share/fish/vendor_completions.d"
for product in virthost virthostd; do
    "$root/usr/bin/$product" --generate-completion-script bash >"$root/usr/share/bash-completion/completions/$product"
    "$root/usr/bin/$product" --generate-completion-script zsh >"$root/usr/share/zsh/vendor-completions/_$product"
    "$root/usr/bin/$product" --generate-completion-script fish >"$root/usr/share/fish/vendor_completions.d/$product.fish"
done

# 4. systemd units, tmpfiles.d, sysusers.d, the configuration (a conffile).
install -D -m 0644 packaging/systemd/virthostd.service "$root/lib/systemd/system/virthostd.service"
install -D -m 0644 packaging/systemd/virthostd.socket "$root/lib/systemd/system/virthostd.socket"
install -D -m 0644 packaging/systemd/virthost.tmpfiles "$root/usr/lib/tmpfiles.d/virthost.conf"
install -D -m 0644 packaging/systemd/virthost.sysusers "$root/usr/lib/sysusers.d/virthost.conf"
install -D -m 0644 packaging/virthostd.toml "$root/etc/virthost/virthostd.toml"

# 5. Documentation: README, changelog, copyright (with every Swift package
#    linked in), the Kubernetes manifests as examples.
doc=$root/usr/share/doc/virthost
install -d "$doc/examples/kubernetes"
gzip -9n <README.md >"$doc/README.md.gz"
gzip -9n <packaging/debian/changelog >"$doc/changelog.gz"
cp packaging/kubernetes/* "$doc/examples/kubernetes/"
chmod 0644 "$doc/examples/kubernetes/"*
swift_version=$($SWIFT --version 2>&1 | sed -n 's/.*Swift version \([^ ]*\).*/\1/p' | head -n 1)
{
    sed "s/@SWIFT_VERSION@/$swift_version/" packaging/debian/copyright.in
    python3 - <<'EOF'
import json, pathlib
state = json.loads(pathlib.Path(".build/workspace-state.json").read_text())
for dependency in sorted(state["object"]["dependencies"], key=lambda d: d["packageRef"]["identity"]):
    name = dependency["packageRef"]["identity"]
    version = dependency["state"].get("checkoutState", {}).get("version") or "unversioned"
    folder = pathlib.Path(".build/checkouts") / name
    licenses = sorted(p for p in folder.glob("LICENSE*")) + sorted(folder.glob("Sources/*/LICENSE"))
    kinds = []
    for path in licenses:
        head = path.read_text(errors="replace")[:3000]
        kinds.append("Apache-2.0" if "Apache License" in head else f"see {path.relative_to(folder)} in {name}")
    print(f"\nFiles: Swift package {name} {version} (linked statically)")
    print(f"License: {', '.join(dict.fromkeys(kinds)) or 'unknown'}")
    # Licenses other than Apache-2.0 in full, and Apache-2.0's NOTICE files (its section 4(d)).
    notices = sorted(folder.glob("NOTICE*"))
    for path in [p for p in licenses if "Apache License" not in p.read_text(errors="replace")[:3000]] + notices:
        print(" " + f"{name}/{path.relative_to(folder)}:")
        for line in path.read_text(errors="replace").splitlines():
            print(" " + (line.rstrip() if line.strip() else "."))
EOF
} >"$doc/copyright"
chmod 0644 "$doc/copyright" "$doc/README.md.gz" "$doc/changelog.gz"

# 6. Control files. Depends computed from the binaries by dpkg-shlibdeps.
install -d "$stage/debian" "$root/DEBIAN"
printf 'Source: virthost\n\nPackage: virthost\nArchitecture: any\n' >"$stage/debian/control"
depends=$(cd "$stage" && dpkg-shlibdeps -O -e root/usr/bin/virthostd -e root/usr/bin/virthost 2>"$stage/shlibdeps.log" \
    | sed -n 's/^shlibs:Depends=//p') || { cat "$stage/shlibdeps.log" >&2; die "dpkg-shlibdeps failed"; }
[[ -n "$depends" ]] || { cat "$stage/shlibdeps.log" >&2; die "dpkg-shlibdeps found no dependencies"; }
installed_size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@INSTALLED_SIZE@/$installed_size/" \
    -e "s/@DEPENDS@/$depends/" packaging/debian/control.in >"$root/DEBIAN/control"
install -m 0644 packaging/debian/conffiles "$root/DEBIAN/conffiles"
for script in postinst prerm postrm; do install -m 0755 "packaging/debian/$script" "$root/DEBIAN/$script"; done
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum) \
    >"$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/md5sums"

# 7. The package.
mkdir -p dist
deb=dist/virthost_${version}_${arch}.deb
# xz -3: 14 s instead of 51 s for xz's default -6 here, for a package ~10% larger.
dpkg-deb --root-owner-group -Zxz -z3 --build "$root" "$deb" >/dev/null
finished=$(date +%s)
size() { du -h "$1" | cut -f1; }
echo "build-deb: $deb ($(size "$deb"); installed $((installed_size / 1024)) MiB)"
echo "build-deb:   virthostd $(size "$root/usr/bin/virthostd"), virthost $(size "$root/usr/bin/virthost") stripped"
echo "build-deb:   Depends: $depends"
echo "build-deb:   $((built - started)) s to build the binaries, $((finished - started)) s in all"
