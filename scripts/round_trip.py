"""Round-trip a generated capture of 100,000 flows through both formats (JSON figures).

    python scripts/round_trip.py [--flows 100000] [--no-oracle]

The oracle is mitmproxy's own reader (tests/round_trip.py says what is compared).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(_ROOT / "tests"), str(_ROOT)]  # the test helpers, this checkout

from capture_gen import write_capture  # noqa: E402
from round_trip import round_trip  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--flows", type=int, default=100_000)
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--no-oracle", action="store_true", help="skip mitmproxy's reader")
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="flowtui-roundtrip-") as tmp:
        path = Path(tmp, "gen.flows")
        start = time.monotonic()
        size = write_capture(path, args.flows, size=args.size)
        generated = time.monotonic() - start
        result = round_trip(path, oracle=not args.no_oracle)
        figures = {
            "capture_bytes": size,
            "generate_seconds": round(generated, 1),
            "round_trip_seconds": round(time.monotonic() - start - generated, 1),
            **{k: (len(v) if isinstance(v, list) else v) for k, v in asdict(result).items()},
        }
    print(json.dumps(figures))
    ok = not (result.mitmproxy_mismatch or result.native_mismatch or result.unknown_bytes_mismatch)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
