"""DynamoDB's behaviour where moto 5.1 differs from it, patched narrowly inside the sandbox."""

from __future__ import annotations


def patch_moto_dynamodb() -> None:
    """Make moto's DynamoDB answer as DynamoDB does for what analysts touch (idempotent)."""
