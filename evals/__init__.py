"""Evaluation of Passerelle's retrieval and answers (`python -m evals`)."""
