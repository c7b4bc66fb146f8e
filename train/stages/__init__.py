"""The pipeline's stages, one module each; `train.cli` wires them to subcommands.

Each stage reads the previous stage's files under the work dir and skips itself when its
output exists, so `python -m train all` resumes after an interruption.
"""
