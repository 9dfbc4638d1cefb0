"""Rasa NLU training data (nlu/data), the custom SpacyGazetteer component, the catalogue export
(nlu/generated, written by `banshi nlu export`) and NLU evaluation. Code here also runs inside
.venv-rasa (Python 3.10, Rasa 3.6): this package must not import the rest of banshi at import time."""
