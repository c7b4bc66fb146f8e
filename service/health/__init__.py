"""`GET /healthz`, `GET /readyz`, `GET /metrics`."""
