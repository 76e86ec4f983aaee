#!/usr/bin/env bash
# Fetch ECharts, htmx and Swagger UI from the npm registry into the package's static folder.
set -euo pipefail
ECHARTS=6.1.0
HTMX=2.0.11
SWAGGER_UI=5.35.0
dest="$(cd "$(dirname "$0")/.." && pwd)/src/lianfang/web/static/vendor"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack --silent "echarts@$ECHARTS" "htmx.org@$HTMX" "swagger-ui-dist@$SWAGGER_UI" >/dev/null
mkdir e h s
tar xzf "echarts-$ECHARTS.tgz" -C e
tar xzf "htmx.org-$HTMX.tgz" -C h
tar xzf "swagger-ui-dist-$SWAGGER_UI.tgz" -C s
mkdir -p "$dest/echarts-$ECHARTS" "$dest/htmx-$HTMX" "$dest/swagger-ui-$SWAGGER_UI"
cp e/package/dist/echarts.min.js e/package/LICENSE e/package/NOTICE "$dest/echarts-$ECHARTS/"
cp h/package/dist/htmx.min.js h/package/LICENSE "$dest/htmx-$HTMX/"
cp s/package/swagger-ui-bundle.js s/package/swagger-ui-bundle.js.LICENSE.txt s/package/swagger-ui.css \
  s/package/LICENSE s/package/NOTICE "$dest/swagger-ui-$SWAGGER_UI/"
echo "vendored echarts $ECHARTS, htmx $HTMX and swagger-ui-dist $SWAGGER_UI into $dest"
