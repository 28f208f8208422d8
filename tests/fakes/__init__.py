"""Local fakes of the email platforms and of webhook receivers, for the delivery tests and the benchmark.
Each enforces the documented rules of its platform, so an adapter that breaks one fails a test."""
