#!/usr/bin/env bash
# Proves that a build runs with runtime dependencies only: copies package*.json and dist/
# (nothing else: no sources, no tsx, no esbuild) into a temporary folder, runs
# `npm ci --omit=dev` there, starts `npm start`, and checks both sites answer. Fails loudly.
set -euo pipefail
cd "$(dirname "$0")/.."

[ -f dist/build-manifest.json ] || { echo "runtime-only: no dist/ (run npm run build first)" >&2; exit 1; }
work="$(mktemp -d)"
pid=""
cleanup() {
  # npm start runs in its own process group: stop npm, its shell and node together.
  [ -n "$pid" ] && kill -TERM -- "-$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/app" "$work/app/api/build"
cp package.json package-lock.json "$work/app/"
cp api/build/start.mjs api/build/source-hash.mjs "$work/app/api/build/"
cp -R dist "$work/app/dist"
(cd "$work/app" && npm ci --omit=dev --no-audit --no-fund --ignore-scripts >/dev/null)
for tool in tsx esbuild typescript vitest; do
  if [ -e "$work/app/node_modules/$tool" ]; then echo "runtime-only: $tool was installed with --omit=dev" >&2; exit 1; fi
done

(cd "$work/app" && HAVEN_DATA_DIR="$work/data" HAVEN_REQUESTER_PORT=0 HAVEN_TRIAGE_PORT=0 exec setsid npm start --silent >"$work/out" 2>"$work/err") &
pid=$!
for _ in $(seq 1 120); do
  grep -q 'Triage dashboard:' "$work/out" 2>/dev/null && break
  if ! kill -0 "$pid" 2>/dev/null; then echo "runtime-only: the server exited:" >&2; cat "$work/out" "$work/err" >&2; exit 1; fi
  sleep 1
done
requester="$(sed -n 's/.*Requester site: *\(\S*\).*/\1/p' "$work/out")"
triage="$(sed -n 's/.*Triage dashboard: *\(\S*\).*/\1/p' "$work/out")"
[ -n "$requester" ] && [ -n "$triage" ] || { echo "runtime-only: the server did not start:" >&2; cat "$work/out" "$work/err" >&2; exit 1; }
# Each answer is read whole before it is searched: `curl | grep -q` fails under pipefail when
# grep stops reading at its match while curl is still writing (curl exits 23).
for url in "$requester" "$triage"; do
  health="$(curl -fsS "${url}api/v1/health")" && grep -q '"status":"ok"' <<<"$health" || { echo "runtime-only: ${url}api/v1/health failed" >&2; exit 1; }
  page="$(curl -fsS "$url")" && grep -q '<script type="module" src="/assets/main-' <<<"$page" || { echo "runtime-only: $url served no page" >&2; exit 1; }
done
echo "runtime-only: npm ci --omit=dev + dist/ starts and serves both sites."
