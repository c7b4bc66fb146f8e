"""The HarmAug training pipeline that produces the student artifact served by `service/`."""
