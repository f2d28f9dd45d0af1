#!/usr/bin/env bash
# Schemathesis against a real `refline serve`: checks that the server answers what its own
# OpenAPI document (/api/v1/openapi.json) says, for every operation: no 5xx, responses that
# match their schemas, only documented status codes and content types.
#
#   scripts/install-schemathesis.sh     # once: Schemathesis into target/schemathesis-venv
#   scripts/schemathesis.sh             # build, serve on SQLite in a temp dir, run
#   scripts/schemathesis.sh --phases fuzzing --include-operation-id createConversion
#                                       # more arguments go to `schemathesis run`
#
# Settings (environment): SCHEMATHESIS_MAX_EXAMPLES (default 20 per operation and phase),
# SCHEMATHESIS_SEED (default fixed, so CI runs are reproducible; `random` for a new one),
# SCHEMATHESIS_WORKERS (default 1: with several, CPython 3.11's `ast` module can fail inside
# Hypothesis with "AST constructor recursion depth mismatch", an error of the tool, not a
# finding), REFLINE_BIN (a built binary; otherwise `cargo build -p refline`),
# REFLINE_SCHEMATHESIS_VENV.
#
# The server and Schemathesis run in a network namespace of their own with only loopback
# (`unshare -n`, as root), so nothing generated (a webhook URL, a processor's API base) can
# reach outside this machine. Without it the operations that send requests out are left out.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${REFLINE_SCHEMATHESIS_VENV:-$root/target/schemathesis-venv}"
if [ ! -x "$venv/bin/schemathesis" ]; then
  echo "NOTICE: Schemathesis is not installed (run scripts/install-schemathesis.sh); skipped." >&2
  exit 0
fi

if [ -z "${REFLINE_BIN:-}" ]; then
  (cd "$root" && cargo build --quiet --locked -p refline --bin refline)
  REFLINE_BIN="${CARGO_TARGET_DIR:-$root/target}/debug/refline"
fi
export REFLINE_BIN

# Into a namespace with only loopback, once.
if [ -z "${REFLINE_SCHEMATHESIS_NETNS:-}" ]; then
  if command -v unshare >/dev/null 2>&1 && command -v ip >/dev/null 2>&1 && unshare -n true 2>/dev/null; then
    exec unshare -n env REFLINE_SCHEMATHESIS_NETNS=1 bash -c 'ip link set lo up && exec "$0" "$@"' "$0" "$@"
  fi
  echo "NOTICE: no network namespace (unshare -n needs root); leaving out the operations that send requests out." >&2
  REFLINE_SCHEMATHESIS_NETNS=none
fi
offline=()
if [ "$REFLINE_SCHEMATHESIS_NETNS" = none ]; then
  offline=(--exclude-operation-id createWebhook --exclude-operation-id updateWebhook
    --exclude-operation-id testWebhook --exclude-operation-id sendPayouts)
fi

work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
export REFLINE_DATABASE_URL="sqlite://$work/refline.db"

# A merchant on the plan without a monthly cap, and its live key.
created="$("$REFLINE_BIN" merchant create --name "Schemathesis" --plan scale --json)"
key="$(printf '%s' "$created" | python3 -c 'import json, sys; print(json.load(sys.stdin)["apiKey"])')"

# No rate limit in the way of the run; mails to a directory; Stripe at a closed loopback port.
"$REFLINE_BIN" serve --listen "127.0.0.1:$port" --public-url "$base" \
  --rate-limit-scale 100000000 --mail-dir "$work/mail" --stripe-api-base "http://127.0.0.1:9" \
  >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  curl -fsS "$base/readyz" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fsS "$base/readyz" >/dev/null

# Something to read and to refer to: one object of each kind, whose ids the operations that
# read or change one object are given (random ids only ever reach the 404s).
api() { curl -sS -X "$1" "$base/api/v1$2" -H "Authorization: Bearer $key" -H "Content-Type: application/json" ${3:+-d "$3"}; }
id_of() { python3 -c 'import json, sys; d = json.load(sys.stdin)["data"]; print((d[0] if isinstance(d, list) else d)["id"])'; }
campaign="$(api POST /campaigns '{"name":"Seed","commissionType":"percentage","commissionValue":20,"targetUrl":"https://shop.example/"}' | id_of)"
affiliate="$(api POST /affiliates "{\"email\":\"seed@example.com\",\"campaignId\":\"$campaign\"}" | id_of)"
api PATCH "/affiliates/$affiliate" "{\"campaignId\":\"$campaign\",\"status\":\"approved\"}" >/dev/null
conversion="$(api POST /conversions "{\"campaignId\":\"$campaign\",\"affiliateId\":\"$affiliate\",\"amount\":49,\"orderId\":\"seed-1\"}" | id_of)"
paid="$(api POST /conversions "{\"campaignId\":\"$campaign\",\"affiliateId\":\"$affiliate\",\"amount\":99,\"orderId\":\"seed-2\"}" | id_of)"
invitation="$(api POST /affiliates/invite "{\"email\":\"invited@example.com\",\"campaignId\":\"$campaign\"}" | id_of)"
link="$(api POST /links "{\"campaignId\":\"$campaign\",\"affiliateId\":\"$affiliate\"}" | id_of)"
coupon="$(api POST /coupons "{\"code\":\"SEED10\",\"campaignId\":\"$campaign\",\"affiliateId\":\"$affiliate\",\"percentOff\":10}" | id_of)"
integration="$(api POST /integrations '{"provider":"stripe","webhookSecret":"whsec_c2VlZHNlZWRzZWVkc2VlZA=="}' | id_of)"
# A payout: the second sale approved and payable at once, paid by hand.
api PATCH /settings '{"payoutHoldDays":0,"minimumPayout":"1.00"}' >/dev/null
api PATCH "/conversions/$paid" '{"status":"approved"}' >/dev/null
api PATCH "/affiliates/$affiliate" '{"payoutMethod":{"type":"manual"}}' >/dev/null
payout="$(api POST /payouts '{}' | id_of)"
# A click, once the click writer has stored it.
curl -sS -o /dev/null "$base/redirect?tc=$(api GET "/campaigns/$campaign" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["data"]["trackingCode"])')&aff=$affiliate"
click=""
for _ in $(seq 1 50); do
  click="$(api GET /clicks | python3 -c 'import json, sys; d = json.load(sys.stdin)["data"]; print(d[0]["id"] if d else "")')"
  [ -n "$click" ] && break
  sleep 0.2
done

config="$work/schemathesis.toml"
fixed() { # operation ids, then "name = value" pairs
  local ids="$1"; shift
  for id in $ids; do
    printf '[[operations]]\ninclude-operation-id = "%s"\nparameters = { %s }\n\n' "$id" "$(IFS=,; echo "$*")"
  done
}
{
  fixed "getCampaign updateCampaign" "\"path.id\" = \"$campaign\""
  fixed "getAffiliate updateAffiliate" "\"path.id\" = \"$affiliate\""
  fixed "removeAffiliateFromCampaign" "\"path.id\" = \"$affiliate\"" "\"path.campaign_id\" = \"$campaign\""
  fixed "getConversion updateConversion" "\"path.id\" = \"$conversion\""
  fixed "getInvitation revokeInvitation" "\"path.id\" = \"$invitation\""
  fixed "getLink deleteLink" "\"path.id\" = \"$link\""
  fixed "getCoupon deleteCoupon" "\"path.id\" = \"$coupon\""
  fixed "getIntegration updateIntegration deleteIntegration listIntegrationDeliveries" "\"path.id\" = \"$integration\""
  fixed "getPayout completePayout failPayout cancelPayout" "\"path.id\" = \"$payout\""
  [ -z "$click" ] || fixed "getClick" "\"path.id\" = \"$click\""
} >"$config"

seed="${SCHEMATHESIS_SEED:-20261203}"
seed_args=()
[ "$seed" = random ] || seed_args=(--seed "$seed")

status=0
"$venv/bin/schemathesis" --config-file "$config" run "$base/api/v1/openapi.json" \
  --url "$base" \
  --header "Authorization: Bearer $key" \
  --checks not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance \
  --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-20}" \
  --workers "${SCHEMATHESIS_WORKERS:-1}" \
  --no-shrink \
  --suppress-health-check all \
  "${seed_args[@]}" "${offline[@]}" "$@" || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- server log (last 50 lines) ---" >&2
  tail -n 50 "$work/server.log" >&2
fi
exit "$status"
