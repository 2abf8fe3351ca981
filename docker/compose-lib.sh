# What docker/demo.sh and docker/fleet.sh share; sourced by them, not run.
# The caller sets HERE, ROOT, PROJECT, IMAGE and WORK (a scratch directory)
# before calling the functions below.

say() { printf '== %s\n' "$*"; }
die() { printf '== FAILED: %s\n' "$*" >&2; exit 1; }

# The base image: mpudp-base:local if docker/build-base.sh made it, else
# node:20-slim; MPUDP_BASE overrides both.
if [[ -z "${MPUDP_BASE:-}" ]]; then
  if docker image inspect mpudp-base:local >/dev/null 2>&1; then MPUDP_BASE=mpudp-base:local; else MPUDP_BASE=node:20-slim; fi
fi
export MPUDP_BASE

# compose_init FILE: COMPOSE becomes the compose command for FILE under
# PROJECT (docker-compose v1 or the docker compose plugin).
compose_init() {
  if command -v docker-compose >/dev/null 2>&1; then
    COMPOSE=(docker-compose)
  elif docker compose version >/dev/null 2>&1; then
    COMPOSE=(docker compose)
  else
    die "neither docker-compose nor 'docker compose' is installed"
  fi
  COMPOSE+=(-p "$PROJECT" -f "$HERE/$1")
}

# compose_down SECONDS: the project's containers and networks go, unless
# MPUDP_DEMO_KEEP=1 asks to leave them up for inspection.
compose_down() {
  if [[ "${MPUDP_DEMO_KEEP:-0}" == 1 ]]; then
    say "left running (MPUDP_DEMO_KEEP=1): ${COMPOSE[*]} down -v"
  else
    "${COMPOSE[@]}" down -v --remove-orphans -t "$1" >/dev/null 2>&1 || true
  fi
}

# build_image: the image from only what the Dockerfile copies (no
# node_modules, no .git); `npm ci` needs the registry, so host network.
# Docker's layer cache makes a rebuild of unchanged sources quick.
build_image() {
  local start=$SECONDS
  say "building $IMAGE on $MPUDP_BASE"
  (cd "$ROOT" && tar -c package.json package-lock.json tsconfig.json src docker/Dockerfile docker/roles) |
    DOCKER_BUILDKIT=0 docker build -q --network host -f docker/Dockerfile --build-arg "BASE=$MPUDP_BASE" -t "$IMAGE" - >"$WORK/build.log" 2>&1 ||
    { cat "$WORK/build.log" >&2; die "docker build failed"; }
  say "built in $((SECONDS - start)) s"
}

# teardown_on_exit SECONDS: on exit, INT or TERM, the caller's
# before_teardown (if it defines one) runs, then compose_down SECONDS, and
# WORK goes; the exit status is kept.
teardown_on_exit() {
  TEARDOWN_WAIT=$1
  trap _teardown EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}
_teardown() {
  local status=$?
  trap - EXIT INT TERM
  if declare -F before_teardown >/dev/null; then before_teardown; fi
  compose_down "$TEARDOWN_WAIT"
  rm -rf "$WORK"
  exit "$status"
}
