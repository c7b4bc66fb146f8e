"""`POST /beta/litellm_basic_guardrail_api`: LiteLLM's Generic Guardrail API.

A LiteLLM proxy configured with `guardrail: generic_guardrail_api` and this server's base URL
sends the texts of each request (pre_call) and each response (post_call) here and blocks the
call when the answer is `BLOCKED`.
"""
