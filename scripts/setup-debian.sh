#!/usr/bin/env bash
# Installs the Debian packages reqset and its tests use. Idempotent: installs
# only what is missing and says what that is. Not root: prints the command.
# The target interpreters the tests run the runtime helper with (Python 3.6,
# 3.9, 3.13) come from pyenv, which these machines have; test/helpers/env.ts
# finds them and fails a test that needs one that is missing.
set -euo pipefail

packages=(
  rpm            # rpmbuild, rpm, rpmsign: RPM packages
  createrepo-c   # createrepo_c: yum/dnf repository metadata
  deltarpm       # makedeltarpm, applydeltarpm: delta RPMs
  dnf            # installs RPMs into a test root (dnf --installroot)
  dpkg-dev       # dpkg-scanpackages: apt repositories
  fakeroot       # root-owned files in DEBs without being root
  debootstrap    # Debian roots for install tests
  python3-venv   # Debian's Python with venv (the debian12 target's interpreter)
  python3-wheel-whl  # the `wheel` build requirement, offline (examples/dist, test builds)
  python3-pyflakes  # lints the runtime helper (python3 -m pyflakes)
  zip            # Info-ZIP archives in the runtime helper's tests
  python3-apt    # apt_pkg.version_compare: the version-order tests check apt's order
  podman         # builder containers
  runc           # the container runtime that works in this sandbox
  zstd           # benchmark baseline (tar | zstd)
  gnupg          # signing repositories and packages
  gcc            # compiling C extensions
  libc6-dev
  busybox-static # a /bin/sh inside throwaway rpm roots (scriptlet tests)
  libyaml-dev    # PyYAML's C extension in the webapp example (its build hook)
  rpmlint        # lints every RPM of the example reqsets (test/integration/lint.test.ts)
  lintian        # lints every .deb of the example reqsets (test/integration/lint.test.ts)
  # fpm's Ruby and its Debian-packaged gems (../shared/vendor/README.md): the fpm backend's tests
  ruby ruby-cabin ruby-backports ruby-clamp ruby-stud ruby-mustache ruby-insist ruby-dotenv
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup-debian: all ${#packages[@]} Debian packages are installed"
  exit 0
fi

echo "setup-debian: installing ${missing[*]}"
command=(apt-get install -y --no-install-recommends "${missing[@]}")
if [ "$(id -u)" -ne 0 ]; then
  echo "setup-debian: not root; run this as root:" >&2
  echo "  apt-get update && ${command[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
"${command[@]}" -qq >/dev/null
echo "setup-debian: done"
