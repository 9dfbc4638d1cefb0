"""The Rasa domain, stories, rules, forms and custom actions. Filled in by the dialogue issue."""
