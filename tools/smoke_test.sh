#!/usr/bin/env bash
# Pipeline smoke test after each environment's deploy: the health path must answer 200 within a
# bounded retry. Usage: smoke_test.sh URL [ATTEMPTS] [PAUSE_SECONDS]
#
# TLS is verified: on an environment's own name (domainName) the certificate must be valid for
# that name, so an expired, wrong or not yet issued certificate fails the stage. Only the load
# balancer's generated hostname (*.elb.amazonaws.com: an environment with certificateArn but no
# domainName) is checked without verification, since no certificate can name it.
set -uo pipefail
url=${1:?usage: smoke_test.sh URL [ATTEMPTS] [PAUSE_SECONDS]}
attempts=${2:-30}
pause=${3:-10}

host=${url#*://}
host=${host%%/*}
host=${host%%:*}
err=$(mktemp)
trap 'rm -f "$err"' EXIT
tls=()
if [[ $url == https://* && $host == *.elb.amazonaws.com ]]; then
  tls=(--insecure)
  echo "smoke test: $host is the load balancer's generated hostname; TLS not verified"
fi

for ((attempt = 1; attempt <= attempts; attempt++)); do
  code=$(curl --silent --show-error ${tls[@]+"${tls[@]}"} --output /dev/null --max-time 5 \
    --write-out '%{http_code}' "$url" 2>"$err")
  if [ "$code" = 200 ]; then
    echo "smoke test: $url answered 200 (attempt $attempt)"
    exit 0
  fi
  echo "smoke test: $url answered ${code:-nothing} (attempt $attempt of $attempts)" \
    "$(head -c 300 "$err")"
  [ "$attempt" -lt "$attempts" ] && sleep "$pause"
done
echo "smoke test: $url did not answer 200 after $attempts attempts" >&2
exit 1
