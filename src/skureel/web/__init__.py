"""The studio: the web app for marketing teams (FastAPI + Jinja2 + htmx + SSE) over the same pipeline as the CLI."""
