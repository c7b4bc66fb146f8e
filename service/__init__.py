"""The moderation server: FastAPI over a length-aware batcher, ONNX Runtime and a cache.

Entry point: `python -m service` (see `service.__main__`); app factory: `service.app.create_app`.
"""
