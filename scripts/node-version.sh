# Sourced by scripts/bootstrap.sh and bin/kefu: which Node this repository needs, and
# whether a given Node binary is new enough. Works with any Node, however old.

# The lowest Node version the root package.json's engines.node (">=X.Y.Z") allows.
kefu_minimum_node() {
  sed -n 's/.*"node": *">= *v\{0,1\}\([0-9.]*\)".*/\1/p' "$1/package.json" | head -n 1
}

# True when the Node binary $1 runs and is at least version $2.
kefu_node_satisfies() {
  "$1" -e '
    const parts = (version) => version.split(".").map((part) => Number.parseInt(part, 10) || 0);
    const have = parts(process.versions.node);
    const need = parts(process.argv[1]);
    for (let index = 0; index < 3; index += 1) {
      const difference = (have[index] || 0) - (need[index] || 0);
      if (difference !== 0) process.exit(difference > 0 ? 0 : 1);
    }' "$2" >/dev/null 2>&1
}
