"""What a customer's Spanish message says, in plain Python shared by the Rasa server and the actions.

- `text`: normalising, words, the common Spanish words.
- `amounts`: amounts of money, percentages and bounds ("menos de 300 mil").
- `known_cars`: makes and models customers may name, in stock or not.
- `names`: the makes and models named in a message, typo-tolerant.
- `cues`: what a message asks for (a list number, a car's feature, financing, a visit...).
- `routing`: content before intent: which capability a message belongs to.
- `component`: the Rasa NLU component that applies `routing` (imported by Rasa only).

Nothing here imports Rasa or rasa-sdk except `component`, so the action server and
the Rasa server (each in its own environment) read messages the same way.
"""
