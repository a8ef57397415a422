"""Video providers behind one small protocol (submit, poll, download, cancel)."""
