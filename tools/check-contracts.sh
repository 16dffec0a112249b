#!/usr/bin/env bash
# Contract checks that need git history: generated code is current, and no change to proto/ broke the API.
set -euo pipefail
cd "$(dirname "$0")/.."
buf=node_modules/.bin/buf

echo "== generated code is current"
npx nx run contracts:generate --skip-nx-cache --outputStyle=static >/dev/null
if ! git diff --quiet -- libs/contracts/src/gen || [ -n "$(git ls-files --others --exclude-standard libs/contracts/src/gen)" ]; then
  git status --short -- libs/contracts/src/gen
  echo "libs/contracts/src/gen is stale: run 'npm run generate' and commit the result" >&2
  exit 1
fi

echo "== buf lint"
"$buf" lint

# Every commit that changed the contract is compared with the contract just before it, so a breaking change
# fails here whichever commit made it. Uncommitted changes are compared with HEAD.
echo "== buf breaking"
checked=0
for commit in $(git rev-list HEAD -- proto buf.yaml); do
  parent=$(git rev-parse -q --verify "$commit^" || true)
  if [ -z "$parent" ] || ! git cat-file -e "$parent:proto" 2>/dev/null; then
    continue # the commit that created the contract has nothing to break
  fi
  "$buf" breaking ".git#ref=$commit" --against ".git#ref=$parent"
  checked=$((checked + 1))
done
if ! git diff --quiet HEAD -- proto buf.yaml; then
  "$buf" breaking --against ".git#ref=HEAD"
  checked=$((checked + 1))
fi
echo "buf breaking: $checked contract change(s) checked, none breaking"
