"""Custom actions for the Rasa dialogue, run by ``python -m rasa_sdk --actions dialogue.actions``.

One module per concept; rasa_sdk imports every submodule and registers the actions it finds. This
package file stays import-free so that loading it never drags in the catalogue or the database.
"""
