#!/usr/bin/env bash
# Pipeline smoke test after each environment's deploy: the health path must answer 200 within a
# bounded retry. Usage: smoke_test.sh URL [ATTEMPTS] [PAUSE_SECONDS]
set -uo pipefail
url=${1:?usage: smoke_test.sh URL [ATTEMPTS] [PAUSE_SECONDS]}
attempts=${2:-30}
pause=${3:-10}

for ((attempt = 1; attempt <= attempts; attempt++)); do
  # --insecure: the certificate names the public host name, not the load balancer's DNS name
  # this URL uses; the check is that the route and the service answer, not the certificate.
  code=$(curl --silent --insecure --output /dev/null --max-time 5 --write-out '%{http_code}' "$url")
  if [ "$code" = 200 ]; then
    echo "smoke test: $url answered 200 (attempt $attempt)"
    exit 0
  fi
  echo "smoke test: $url answered ${code:-nothing} (attempt $attempt of $attempts)"
  [ "$attempt" -lt "$attempts" ] && sleep "$pause"
done
echo "smoke test: $url did not answer 200 after $attempts attempts" >&2
exit 1
