#!/usr/bin/env bash
# Fetch ECharts and htmx from the npm registry into the package's static folder.
set -euo pipefail
ECHARTS=6.1.0
HTMX=2.0.11
dest="$(cd "$(dirname "$0")/.." && pwd)/src/lianfang/web/static/vendor"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack --silent "echarts@$ECHARTS" "htmx.org@$HTMX" >/dev/null
mkdir e h
tar xzf "echarts-$ECHARTS.tgz" -C e
tar xzf "htmx.org-$HTMX.tgz" -C h
mkdir -p "$dest/echarts-$ECHARTS" "$dest/htmx-$HTMX"
cp e/package/dist/echarts.min.js e/package/LICENSE e/package/NOTICE "$dest/echarts-$ECHARTS/"
cp h/package/dist/htmx.min.js h/package/LICENSE "$dest/htmx-$HTMX/"
echo "vendored echarts $ECHARTS and htmx $HTMX into $dest"
