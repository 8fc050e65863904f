#!/usr/bin/env bash
# A newcomer's first hour, checked: clones this repository's committed HEAD into an empty temporary
# folder with nothing beside it, runs the commands of the README's "Try it" block (set-up, demo, test)
# exactly as the README writes them, and fails when any of them fails, or when
#   - the set-up prints a warning about bins, or a bin the READMEs use does not run right after it;
#   - the test command fails, or a test file fails or is not collected, or the run prints a warning
#     from Node or Vite;
#   - the summary's test-file count differs from the number of test files in the clone.
# Usage: scripts/fresh-clone-test.sh   (KEEP=1 keeps the clone for inspection)
set -euo pipefail

root="$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)"
head="$(git -C "$root" rev-parse HEAD)"
if [[ -n "$(git -C "$root" status --porcelain --untracked-files=no)" ]]; then
  echo "note: uncommitted changes are not tested; the clone is of $head" >&2
fi

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# The README's "Try it" block: its first line is the set-up, the `pnpm test` line the test command.
readme_block() {
  awk '/^## Try it/ { section = 1; next } /^## / { section = 0 }
       section && /^```/ { if (inblock) exit; inblock = 1; next }
       section && inblock { print }' "$1"
}
strip_comment() { sed -E 's/[[:space:]]+#.*$//; s/[[:space:]]+$//'; }
block="$(readme_block "$root/README.md")"
[[ -n "$block" ]] || fail "README.md has no code block under '## Try it'"
setup="$(printf '%s\n' "$block" | head -n 1 | strip_comment)"
test_cmd="$(printf '%s\n' "$block" | strip_comment | grep -E '^pnpm test$' | head -n 1 || true)"
[[ "$setup" == *"pnpm install"* ]] || fail "the first line of README's 'Try it' block is not the set-up: $setup"
[[ -n "$test_cmd" ]] || fail "README's 'Try it' block has no 'pnpm test' line"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/fresh-clone.XXXXXX")"
if [[ "${KEEP:-}" == 1 ]]; then
  echo "keeping $tmp"
else
  trap 'rm -rf "$tmp"' EXIT
fi
clone="$tmp/optimizely-mixpanel"
git init --quiet "$clone"
git -C "$clone" fetch --quiet --no-tags "$root" HEAD
git -C "$clone" checkout --quiet --detach FETCH_HEAD
[[ "$(ls -A "$tmp")" == "optimizely-mixpanel" ]] || fail "the temporary folder holds more than the clone"
echo "=== fresh clone of $head in $clone (nothing beside it)"
cd "$clone"
export NO_COLOR=1 FORCE_COLOR=0

echo "=== set-up, as README.md writes it: $setup"
bash -o pipefail -c "$setup" 2>&1 | tee "$tmp/setup.log"
if grep -iE 'WARN.*\bbins?\b|Failed to create bin' "$tmp/setup.log"; then
  fail "the set-up printed a warning about bins"
fi

echo "=== bins the READMEs use, right after the set-up"
pnpm exec mixpanel-local-server --help >"$tmp/help.log" 2>&1 || { cat "$tmp/help.log"; fail "pnpm exec mixpanel-local-server --help"; }
grep -q -- '--fault' "$tmp/help.log" || fail "mixpanel-local-server --help does not list --fault"

# The block's other commands (e.g. `pnpm demo`) must work as written too.
while IFS= read -r command; do
  [[ -z "$command" || "$command" == "$setup" || "$command" == "$test_cmd" ]] && continue
  echo "=== as README.md writes it: $command"
  bash -o pipefail -c "$command" </dev/null >"$tmp/other.log" 2>&1 || { cat "$tmp/other.log"; fail "'$command' failed"; }
  tail -n 3 "$tmp/other.log"
done < <(printf '%s\n' "$block" | strip_comment)

echo "=== test, as README.md writes it: $test_cmd"
set +e
bash -o pipefail -c "$test_cmd" 2>&1 | tee "$tmp/test.log"
status=$?
set -e
(( status == 0 )) || fail "'$test_cmd' exited with $status"

# A warning in the test output is one a user would meet in their own process or build too.
if sed 's/\x1b\[[0-9;]*m//g' "$tmp/test.log" | grep -E '^\(node:[0-9]+\) [A-Za-z]*Warning|^\(!\) '; then
  fail "the test run printed a warning (above)"
fi

# Every test file the repository holds, wherever it is (a file the runner's config misses counts too).
on_disk="$(git ls-files | grep -E '(^|/)[^/]+\.test\.(ts|mts|cts|js|mjs|cjs)$' | grep -vc '/node_modules/' || true)"
summary="$(sed 's/\x1b\[[0-9;]*m//g' "$tmp/test.log" | grep -E '^[[:space:]]*Test Files[[:space:]]' | tail -n 1 || true)"
[[ -n "$summary" ]] || fail "no 'Test Files' summary line in the test output"
echo "=== summary: $(echo "$summary" | xargs); test files in the clone: $on_disk"
[[ "$summary" != *failed* ]] || fail "a test file failed or was not collected: $summary"
total="$(sed -nE 's/.*\(([0-9]+)\).*/\1/p' <<<"$summary")"
passed="$(sed -nE 's/.*[[:space:]]([0-9]+) passed.*/\1/p' <<<"$summary")"
[[ "$total" == "$on_disk" ]] || fail "the summary counts $total test files, the clone holds $on_disk"
[[ "$passed" == "$on_disk" ]] || fail "$passed of $on_disk test files passed"
echo "=== fresh clone: set-up clean, $passed of $on_disk test files passed"
