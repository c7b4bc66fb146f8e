"""Container health check: exit 0 when the service on this container answers /readyz with 200.

The images have no curl (slim bases), so Docker's HEALTHCHECK and compose run this script with
the image's own Python. It reads the port from the same variables the service does, and sends the
first API key, if any, in case the operational endpoints are protected too.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

READY_PATH = "/readyz"


def main() -> int:
    port = os.environ.get("MODERATION_PORT", "8000")
    url = f"http://127.0.0.1:{port}{READY_PATH}"
    request = urllib.request.Request(url)
    keys = [k.strip() for k in os.environ.get("MODERATION_API_KEYS", "").split(",") if k.strip()]
    if keys:
        request.add_header("Authorization", f"Bearer {keys[0]}")
    try:
        with urllib.request.urlopen(request, timeout=2.0) as response:
            status = int(response.status)
    except urllib.error.HTTPError as exc:  # 503 while loading or warming up
        print(f"{url}: HTTP {exc.code}", file=sys.stderr)
        return 1
    except (urllib.error.URLError, OSError) as exc:
        print(f"{url}: {exc}", file=sys.stderr)
        return 1
    return 0 if status == 200 else 1


if __name__ == "__main__":
    sys.exit(main())
