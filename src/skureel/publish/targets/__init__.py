"""Publish targets behind one small protocol (base.py), found through a lazy registry (registry.py)."""

from skureel.publish.targets.base import (
    BatchAware,
    ClipRef,
    Deliverable,
    PublishTarget,
    Remote,
    TargetConfigError,
    TargetError,
    TargetProcessingFailed,
    TargetRejected,
    TargetThrottled,
    TargetTransient,
)

__all__ = ["BatchAware", "ClipRef", "Deliverable", "PublishTarget", "Remote", "TargetConfigError", "TargetError",
           "TargetProcessingFailed", "TargetRejected", "TargetThrottled", "TargetTransient"]
