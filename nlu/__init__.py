"""Rasa NLU training data, the custom spaCy gazetteer component, and gazetteers generated from the
catalogue. Code here also runs inside .venv-rasa (Python 3.10, Rasa 3.6): it must not import the
rest of banshi. Filled in by the dialogue issue."""
