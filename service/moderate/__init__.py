"""`POST /moderate` and `POST /moderate/batch`."""
