"""Contract-faithful fake provider servers (FastAPI), with fault injection, for tests, demos and soak runs."""
