"""The big kill campaign: SIGKILL `flowtui convert` and a UI-style save at random points.

    python scripts/kill_saves.py [--flows 6000] [--kills 40]

Generates a capture of tens of MB (tests/capture_gen.py), then for each mode kills the
save ``--kills`` times and checks the target by sha256. Prints one JSON line per mode.
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
from kill_saves import kill_campaign  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--flows", type=int, default=6000)
    p.add_argument("--size", type=int, default=1200, help="max payload bytes per message")
    p.add_argument("--kills", type=int, default=40)
    args = p.parse_args()
    bad = False
    with tempfile.TemporaryDirectory(prefix="flowtui-kills-") as tmp:
        src = Path(tmp, "big.flows")
        size = write_capture(src, args.flows, size=args.size)
        for mode, fmt in (("convert", "flowtui"), ("save", "mitmproxy")):
            work = Path(tmp, mode)
            work.mkdir()
            start = time.monotonic()
            report = kill_campaign(mode, src, work, kills=args.kills, fmt=fmt)
            figures = {
                "capture_bytes": size,
                "flows": args.flows,
                "format": fmt,
                **asdict(report),
                "campaign_seconds": round(time.monotonic() - start, 1),
            }
            print(json.dumps(figures), flush=True)
            bad |= bool(report.bad) or report.temps_after_clean_save != 0
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
