#!/bin/sh
# Entry point of Dockerfile.dagger-runner: run the pipeline of the repository at /repo
# (or $HPP_REPO) with the arguments given to `docker run`.
set -eu
repo="${HPP_REPO:-/repo}"
if [ ! -f "$repo/deployment/dagger/main.py" ]; then
    echo "error: no repository at $repo; mount it with -v \"\$PWD:/repo:ro\"" >&2
    exit 2
fi
if ! docker version >/dev/null 2>&1; then
    echo "error: cannot reach Docker at ${DOCKER_HOST:-the default socket}; mount the host's" \
        "socket (-v /var/run/docker.sock:/var/run/docker.sock) and build with" \
        "--build-arg DOCKER_GID=\"\$(stat -c %g /var/run/docker.sock)\"" >&2
    exit 2
fi
exec python3 "$repo/deployment/dagger/main.py" --repo "$repo" "$@"
