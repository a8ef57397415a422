"""Publishing: storage targets, tags and sidecars, manifests, the HTML report, DAM/CMS webhooks."""
