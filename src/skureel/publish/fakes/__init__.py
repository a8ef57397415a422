"""Contract-faithful fakes of the publish targets (Shopify, Cloudinary, Bynder) on 127.0.0.1, with faults."""
