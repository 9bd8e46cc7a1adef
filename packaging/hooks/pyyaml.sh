# PyYAML's build hook (reqsets/webapp.txt): its C extension compiled from
# the sdist's Cython source against the system's libyaml. Without these,
# PyYAML quietly builds a pure-Python wheel when libyaml's headers are
# missing; forced, a missing libyaml fails the build instead.
BUILD_PACKAGES_DEB="libyaml-dev"
BUILD_PACKAGES_RPM="libyaml-devel"

pre_build() {
  export PYYAML_FORCE_CYTHON=1
  export PYYAML_FORCE_LIBYAML=1
}
