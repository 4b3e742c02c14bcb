#!/bin/sh
# with-packages.sh "PACKAGES" COMMAND ARGS...
#
# Run in a matrix root (go run ./tests/matrix --pg N -- sh
# tests/matrix/with-packages.sh ...): install PACKAGES from the root's own
# suites into the run's overlay (the cached root is never changed; the
# packages are gone when the run ends), then run COMMAND. The roots leave
# out what only recording and PostgreSQL's own suites need: the JIT
# (postgresql-N-jit, which a default Debian install of 18 and 19 gets as a
# Recommends; 17 ships llvmjit.so in postgresql-17 itself) and gpgv,
# xz-utils and bzip2 for tests/pgsuite's download and unpacking.
set -eu
packages=$1
shift
if [ -n "$packages" ]; then
	# sid's and experimental's Release files may be past their
	# Valid-Until on the mirror.
	apt-get -q -o Acquire::Check-Valid-Until=false update >/dev/null
	DEBIAN_FRONTEND=noninteractive apt-get -q -y -o Dpkg::Use-Pty=0 --no-install-recommends install $packages >/dev/null
	dpkg-query -W -f '${Package} ${Version}\n' $packages
fi
exec "$@"
