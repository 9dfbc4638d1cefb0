"""Custom actions for the Rasa dialogue, run by rasa-sdk (``python -m dialogue.action_server --actions …``).

One module per concept; rasa_sdk imports every submodule and registers the actions it finds. This
package file stays import-free so that loading it never drags in the catalogue or the database.
"""
