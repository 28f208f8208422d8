"""Definition files (quizzes, calculators): JSON in, validated immutable objects out."""

# `calculator` registers the "calculator" kind with the loader when imported.
from quizapp.definitions import calculator  # noqa: F401
from quizapp.definitions.loader import Catalog, Loaded, load_data, load_file
from quizapp.definitions.model import Quiz
from quizapp.definitions.problems import Problem

__all__ = ["Catalog", "Loaded", "Problem", "Quiz", "load_data", "load_file"]
