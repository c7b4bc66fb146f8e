"""Load tests: the moderation service against a Llama-Guard-protocol teacher and serving peers.

`python -m loadtest compare` starts each target, drives the same Locust profile against each
and writes a Markdown + PNG report (see loadtest/README.md).
"""
