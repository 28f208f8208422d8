"""Delivery of leads to email platforms and webhooks: outbox, worker, retry policy, adapters."""
