# Sourced by scripts/localdb.sh and scripts/localredis.sh: the user a project-local server runs
# as, and its private folder under instance/.
#   server_user NAME   as root: run the server as the system user NAME (never as root);
#                      otherwise as the calling user. Sets $owner and the function as_owner.
#   own_folder DIR     create DIR for $owner, closed to everyone else (mode 700), and let
#                      $owner reach it through every parent folder.
# Needs $root (the project folder) to be set.

server_user() {
  if [ "$(id -u)" = 0 ]; then
    owner=$1
    as_owner() { runuser -u "$owner" -- "$@"; }
  else
    owner=$(id -un)
    as_owner() { "$@"; }
  fi
}

grant_traverse() {
  # The server user must be able to reach the project through every parent folder (a clone
  # in a folder from `mktemp -d` is closed to others). Grant only "search" (x).
  [ "$owner" = "$(id -un)" ] && return 0
  local dir="$root"
  while [ "$dir" != "/" ]; do
    if ! runuser -u "$owner" -- test -x "$dir"; then
      setfacl -m "u:$owner:x" "$dir" 2>/dev/null || chmod o+x "$dir"
    fi
    dir=$(dirname "$dir")
  done
}

own_folder() {
  mkdir -p "$1"
  if [ "$owner" != "$(id -un)" ]; then
    grant_traverse
    chown "$owner" "$1"
  fi
  chmod 700 "$1"
}
