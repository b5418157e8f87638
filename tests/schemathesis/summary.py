"""Prints scripts/fuzz's summary line from schemathesis's NDJSON event report:
operations tested, requests sent, failed checks and errors."""

import glob
import json
import sys

operations, requests, failures, errors = set(), 0, 0, 0
for path in glob.glob(f"{sys.argv[1]}/*.ndjson"):
    with open(path) as events:
        for line in events:
            event = json.loads(line)
            if "NonFatalError" in event:
                errors += 1
            finished = event.get("ScenarioFinished")
            if not finished:
                continue
            recorder = finished.get("recorder") or {}
            if recorder.get("interactions"):
                operations.add(recorder.get("label"))
            requests += len(recorder.get("interactions") or {})
            for checks in (recorder.get("checks") or {}).values():
                failures += sum(1 for check in checks if check.get("status") == "failure")
print(f"schemathesis: {len(operations)} operations, {requests} requests, "
      f"{failures} failures, {errors} errors")
