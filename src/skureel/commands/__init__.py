"""Sub-commands of `skureel` that live outside cli.py (one module each), registered at the end of cli.py."""
