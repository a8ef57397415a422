"""Publishing a run to S3-compatible object storage (moto's server on loopback) through s3fs."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.conftest import AURORA, free_port, sample_rows, wait_http, write_catalog


@pytest.fixture(scope="module")
def s3_endpoint():  # noqa: ANN201
    """`.ci/run` starts one and exports SKUREEL_TEST_S3_ENDPOINT; otherwise start moto's server here."""
    existing = os.environ.get("SKUREEL_TEST_S3_ENDPOINT")
    if existing:
        yield existing
        return
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(url, 60)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def test_run_publishes_to_s3_and_every_object_matches_the_manifest(prefect_server: dict[str, str], s3_endpoint: str,
                                                                    tmp_path: Path) -> None:
    import boto3

    env = {**prefect_server, "SKUREEL_CACHE_DIR": str(tmp_path / "cache"), "SKUREEL_S3_ENDPOINT_URL": s3_endpoint,
           "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1"}
    client = boto3.client("s3", endpoint_url=s3_endpoint, aws_access_key_id="test", aws_secret_access_key="test",
                          region_name="us-east-1")
    client.create_bucket(Bucket="videos")
    catalog = write_catalog(tmp_path / "cat.xlsx", sample_rows(tmp_path, ("AUR-MUG-WHT",)))
    result = subprocess.run([sys.executable, "-m", "skureel", "run", str(catalog), "--brand", str(AURORA), "--out",
                             "s3://videos/campaign", "--formats", "1x1,9x16", "--quality", "draft"],
                            capture_output=True, text=True, timeout=600, env={**os.environ, **env})
    assert result.returncode == 0, result.stdout + result.stderr
    manifest = json.loads(client.get_object(Bucket="videos", Key="campaign/manifest.json")["Body"].read())
    assert len(manifest["deliverables"]) == 2
    for row in manifest["deliverables"]:
        assert row["uri"].startswith("s3://videos/campaign/clips/")
        key = row["uri"].removeprefix("s3://videos/")
        body = client.get_object(Bucket="videos", Key=key)["Body"].read()
        assert hashlib.sha256(body).hexdigest() == row["sha256"] and len(body) == row["bytes"]
        for extra in ("poster_uri", "sidecar_uri"):
            client.head_object(Bucket="videos", Key=row[extra].removeprefix("s3://videos/"))
    keys = [o["Key"] for o in client.list_objects_v2(Bucket="videos")["Contents"]]
    assert "campaign/report.html" in keys and "campaign/manifest.csv" in keys
    assert not [k for k in keys if "/.tmp/" in k]
