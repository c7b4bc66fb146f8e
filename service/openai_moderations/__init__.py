"""`POST /v1/moderations`: OpenAI's moderation API, so OpenAI clients need only a base URL."""
