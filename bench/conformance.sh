#!/usr/bin/env bash
# Run the ETSI NGSI-LD conformance suite (Robot Framework) against a fresh local Saola.
#
#   bench/conformance.sh /path/to/ngsi-ld-test-suite [FOLDER ...]
#
# FOLDER is relative to TP/NGSI-LD (default: the core folders of issue 3). The suite is used
# from its own checkout (never copied here); its Python requirements go to a venv inside that
# checkout. Saola runs on 127.0.0.1 with a new SQLite database, anonymous NGSI-LD access (the
# run is on loopback only), and the suite's @contexts served from an offline mirror built from
# the suite's own resources/jsonld-contexts (its data files name GitHub/ETSI URLs). Pass counts
# per folder are printed and appended to bench/RESULTS.md (not with SAOLA_CONFORMANCE_RECORD=0, for
# trial runs). Robot's own ROBOT_OPTIONS variable narrows a run, e.g. ROBOT_OPTIONS="--test 018_01*".
set -euo pipefail

SUITE=$(realpath "${1:?usage: bench/conformance.sh /path/to/ngsi-ld-test-suite [FOLDER ...]}")
shift
if [ "$#" -gt 0 ]; then FOLDERS=("$@"); else FOLDERS=(
  CommonBehaviours
  ContextInformation/Provision/Entities
  ContextInformation/Provision/EntityAttributes
  ContextInformation/Provision/BatchEntities
  ContextInformation/Consumption/Entity
  ContextInformation/Consumption/Discovery
  ContextInformation/Subscription
  ContextInformation/Provision/TemporalEntity
  ContextInformation/Provision/TemporalEntityAttributes
  ContextInformation/Consumption/TemporalEntity
); fi

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PORT=${SAOLA_CONFORMANCE_PORT:-8090}
NOTIFY_PORT=${SAOLA_CONFORMANCE_NOTIFY_PORT:-8095}
WORK=$(mktemp -d /tmp/saola-conformance.XXXXXX)
SAOLA="$ROOT/.venv/bin/saola"
[ -x "$SAOLA" ] || { echo "run 'make install' first" >&2; exit 2; }

# 1. The suite's own virtual environment (inside its checkout).
if [ ! -x "$SUITE/.venv/bin/robot" ]; then
  python3 -m venv "$SUITE/.venv"
  (cd "$SUITE" && .venv/bin/pip install --quiet -r requirements.txt)
fi

# 2. The offline @context mirror.
mkdir -p "$WORK/mirror"
CTX="$SUITE/resources/jsonld-contexts"
cp "$CTX"/*.jsonld "$WORK/mirror/"
python3 - "$WORK/mirror" <<'PY'
import json, os, sys
mirror = sys.argv[1]
names = [n for n in os.listdir(mirror) if n.endswith(".jsonld")]
bases = [
    "https://raw.githubusercontent.com/marek-mraz/ngsi-ld-test-suite/main/resources/jsonld-contexts/",
    "https://forge.etsi.org/rep/cim/ngsi-ld-test-suite/-/raw/develop/resources/jsonld-contexts/",
]
manifest = {base + n: n for base in bases for n in names}
# Nine data files (orderBy buildings, country-simple-attributes, pick/omit subscriptions, a
# multi-attribute temporal vehicle) name the suite's compound @context by its older published
# address. Every term they use is either defined by the suite's own compound @context
# (Building, Vehicle, name, speed, fuelLevel, ...) or is a core term / falls to the core
# @vocab (Country, description), which is what the published one gives, and the tests read
# back with the suite's compound @context. So that address is served from the same file
# instead of answering LdContextNotAvailable (not fetchable on loopback).
manifest["https://easy-global-market.github.io/ngsild-api-data-models/ngsildTestSuite/"
         "ngsildTestSuiteV1.8-compound.jsonld"] = "ngsi-ld-test-suite-compound.jsonld"
json.dump(manifest, open(os.path.join(mirror, "contexts.json"), "w"), indent=1)
PY

# 3. Saola on loopback: a fresh database and server for each folder, so no folder sees
#    another's leftovers.
export SAOLA_NGSI_LD_ANONYMOUS=write SAOLA_NGSI_LD_CONTEXT_MIRROR="$WORK/mirror" SAOLA_NGSI_LD_FETCH_CONTEXTS=false
# The suite's README asks for a temporal page size under which 2 attributes x 20 instances paginate
# (206 with Content-Range) and 2 x 5 do not; Saola's default page is 1000 instances.
export SAOLA_NGSI_LD_TEMPORAL_MAX_INSTANCES=10
export SAOLA_LOG_LEVEL=WARNING
SERVER=""
trap 'if [ -n "$SERVER" ]; then kill $SERVER 2>/dev/null || true; fi' EXIT
start_saola() {
  export SAOLA_DATA_DIR="$WORK/var/$1" SAOLA_DATABASE_URL="sqlite:///$WORK/var/$1/saola.db"
  "$SAOLA" migrate >/dev/null
  "$SAOLA" serve --host 127.0.0.1 --port "$PORT" >"$WORK/saola-$1.log" 2>&1 &
  SERVER=$!
  # up to 30 s: a loaded machine (tests running beside) starts Saola slowly
  for _ in $(seq 1 150); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && return; sleep 0.2; done
  echo "Saola did not start: see $WORK/saola-$1.log" >&2; exit 1
}
stop_saola() { kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; SERVER=""; }

# 4. The suite, folder by folder.
BASE="http://127.0.0.1:$PORT/ngsi-ld/v1"
for folder in "${FOLDERS[@]}"; do
  name="${folder//\//_}"
  out="$WORK/results/$name"
  mkdir -p "$out"
  start_saola "$name"
  (cd "$SUITE" && .venv/bin/robot --console dotted --outputdir "$out" --exclude since_v1.9.1 \
     --variable "url:$BASE" --variable "temporal_api_url:$BASE" \
     --variable "ngsild_test_suite_context:https://raw.githubusercontent.com/marek-mraz/ngsi-ld-test-suite/main/resources/jsonld-contexts/ngsi-ld-test-suite-compound.jsonld" \
     --variable "core_context:https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld" \
     --variable notification_server_host:127.0.0.1 --variable "notification_server_port:$NOTIFY_PORT" \
     --variable mqtt_broker_host:127.0.0.1 --variable context_source_host:127.0.0.1 \
     --variable context_server_host:127.0.0.1 \
     "TP/NGSI-LD/$folder" >"$out.log" 2>&1) || true
  stop_saola
done

# 5. Pass counts per folder.
"$SUITE/.venv/bin/python" - "$WORK/results" "$ROOT/bench/RESULTS.md" "$SUITE" "${FOLDERS[@]}" <<'PY'
import datetime, os, platform, subprocess, sys
from robot.api import ExecutionResult
results, report, suite, folders = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
commit = subprocess.run(["git", "-C", suite, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
rows, total_p, total_n = [], 0, 0
for folder in folders:
    path = os.path.join(results, folder.replace("/", "_"), "output.xml")
    if not os.path.exists(path):
        rows.append(f"| {folder} | – | – | no output |"); continue
    stats = ExecutionResult(path).statistics.total
    total_p += stats.passed; total_n += stats.passed + stats.failed
    rows.append(f"| {folder} | {stats.passed} | {stats.passed + stats.failed} | {100 * stats.passed / max(1, stats.passed + stats.failed):.0f}% |")
table = "\n".join(["| folder | passed | run | rate |", "|---|---|---|---|", *rows,
                   f"| **all** | **{total_p}** | **{total_n}** | **{100 * total_p / max(1, total_n):.0f}%** |"])
print(table)
if os.environ.get("SAOLA_CONFORMANCE_RECORD", "1") == "0":
    sys.exit(0)
stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
with open(report, "a", encoding="utf-8") as fh:
    fh.write(f"\n## NGSI-LD conformance — {stamp}\n\n`bench/conformance.sh` against suite commit {commit} "
             f"(--exclude since_v1.9.1), SQLite, {platform.node()} ({os.cpu_count()} cores).\n\n{table}\n")
PY
echo "logs and robot reports: $WORK/results"
