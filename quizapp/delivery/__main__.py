"""`python -m quizapp.delivery` runs a worker, the same as `quizapp worker`."""

from quizapp.delivery.commands import worker

if __name__ == "__main__":
    worker(prog_name="quizapp worker")
