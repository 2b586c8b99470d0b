#!/usr/bin/env bash
# The git side of a release, shared by the release workflow and its rehearsal on pull requests
# (.github/workflows/release.yml, release-rehearsal.yml). Nothing here pushes: the release
# workflow pushes the tags this makes; the rehearsal throws them away.
#
#   .ci/release.sh check VERSION
#       VERSION is X.Y.Z, has no tag yet and is above every vX.Y.Z tag
#   .ci/release.sh commit VERSION IMAGE@sha256:DIGEST
#       the release commit on top of HEAD (HEAD's tree, action.yml's runs.image pinned to the
#       image by scripts/release_action_yml.py; the working tree and index are not touched),
#       the annotated tag vX.Y.Z on it and the major tag vX moved to it (local tags);
#       prints `commit=SHA`, `tag=vX.Y.Z` and `major=vX` (for $GITHUB_OUTPUT)
#   .ci/release.sh notes VERSION IMAGE@sha256:DIGEST
#       the release notes (Markdown) of tag vX.Y.Z made by `commit`
#
# Needs git with the tags fetched (fetch-depth: 0) and python3 >= 3.11. `commit` takes the
# author and committer from GIT_AUTHOR_* / GIT_COMMITTER_* or the git configuration.
# REPOSITORY (owner/name), SERVER_URL and RUN_URL, when set, go into the commit message and notes.
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "release: $*" >&2; exit 1; }

semver='^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$'

release_tags() { git tag --list 'v*.*.*' | grep -E '^v[0-9]+\.[0-9]+\.[0-9]+$' || true; }

newest_release() { release_tags | sort -V | tail -n 1; }

check() {
  local version=$1 newest
  [[ "${version}" =~ ${semver} ]] \
    || die "version '${version}' is not X.Y.Z (digits only, no leading v, no leading zeros)"
  if git rev-parse -q --verify "refs/tags/v${version}" >/dev/null; then
    die "tag v${version} exists already"
  fi
  newest=$(newest_release)
  if [[ -n "${newest}" && "$(printf '%s\n%s\n' "${newest#v}" "${version}" | sort -V | tail -n 1)" != "${version}" ]]; then
    die "version ${version} is not above the newest release ${newest}"
  fi
  echo "release: v${version} can be released (newest so far: ${newest:-none})" >&2
}

commit() {
  local version=$1 image=$2 major released blob tree sha changed index
  check "${version}"
  major="v${version%%.*}"
  released=$(mktemp)
  index=$(mktemp -u)
  trap 'rm -f "${released}" "${index}"' RETURN
  python3 scripts/release_action_yml.py "${image}" >"${released}"
  blob=$(git hash-object -w "${released}")
  GIT_INDEX_FILE=${index} git read-tree HEAD
  GIT_INDEX_FILE=${index} git update-index --cacheinfo "100644,${blob},action.yml"
  tree=$(GIT_INDEX_FILE=${index} git write-tree)
  sha=$(git commit-tree "${tree}" -p HEAD -F - <<EOF
Release v${version}

action.yml runs the prebuilt image instead of building the Dockerfile in every job:
  docker://${image}
built from $(git rev-parse HEAD)${REPOSITORY:+ of ${REPOSITORY}}${RUN_URL:+ by ${RUN_URL}}.
This commit is not on main: main keeps \`image: Dockerfile\`.
EOF
)
  changed=$(git diff --numstat HEAD "${sha}")
  [[ "${changed}" == $'1\t1\taction.yml' ]] \
    || die "the release commit must change one line of action.yml, not: ${changed}"
  git tag --annotate "v${version}" "${sha}" --message "capwrapper-action v${version}" \
    --message "Image: ${image}"
  git tag --force "${major}" "${sha}" >/dev/null
  echo "release: ${sha} tagged v${version} and ${major}" >&2
  printf 'commit=%s\ntag=v%s\nmajor=%s\n' "${sha}" "${version}" "${major}"
}

notes() {
  local version=$1 image=$2 sha source repo previous
  sha=$(git rev-parse "v${version}^{commit}")
  source=$(git rev-parse "${sha}^")
  repo=${REPOSITORY:-OWNER/capwrapper-action}
  previous=$(release_tags | grep -vxF "v${version}" | sort -V | tail -n 1 || true)
  cat <<EOF
## capwrapper-action v${version}

Use it pinned to the release commit (its action.yml names the image by digest, so the
commit fixes every byte the job runs):

\`\`\`yaml
- uses: ${repo}@${sha} # v${version}
\`\`\`

\`@v${version}\` and \`@v${version%%.*}\` (moved to this release) work too, but a tag can be moved.

### Image

- \`${image}\` (linux/amd64, linux/arm64), pulled by the runner instead of built in every job
- built from ${source}${RUN_URL:+ by ${RUN_URL}}
- provenance: \`gh attestation verify oci://${image} --repo ${repo}\`

EOF
  if [[ -n "${previous}" ]]; then
    echo "### Changes since ${previous}"
    echo
    git log --no-merges --format='- %s (%h)' "${previous}..${source}"
  else
    echo "### Changes"
    echo
    echo "First release."
  fi
}

usage() { sed -n '2,20p' "$0" >&2; exit 2; }

case "${1:-}" in
  check) [[ $# -eq 2 ]] || usage; check "$2" ;;
  commit) [[ $# -eq 3 ]] || usage; commit "$2" "$3" ;;
  notes) [[ $# -eq 3 ]] || usage; notes "$2" "$3" ;;
  *) usage ;;
esac
