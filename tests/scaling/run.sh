#!/usr/bin/env bash
# Scale-out checks against a real redis-server (installed here when missing and apt-get is
# at hand): receivers sharing Redis across replicas, and four `flowai listen` processes
# handling 10,000 calls exactly once through re-deliveries, a killed replica and a Redis
# restart. The tests start redis-server themselves on free ports and stop it.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v redis-server >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1; then
        SUDO=""
        [ "$(id -u)" = 0 ] || SUDO="sudo"
        $SUDO apt-get update -qq && $SUDO apt-get install -y -qq redis-server >/dev/null
        # The package starts a system service; the tests run their own servers.
        if command -v systemctl >/dev/null 2>&1; then $SUDO systemctl stop redis-server 2>/dev/null || true; fi
    fi
fi
command -v redis-server >/dev/null 2>&1 || { echo "redis-server is needed (apt-get install redis-server)"; exit 1; }
redis-server --version
cargo test --quiet -p flowai-core -p flowai-cli --test webhook_redis --test scaling -- --include-ignored --nocapture
