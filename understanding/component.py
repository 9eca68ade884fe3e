"""The Rasa NLU components of this assistant (`config.yml`): the intent classifier and ContentRouter.

`LogisticRegressionIntentClassifier` is Rasa's LogisticRegressionClassifier with its
coefficients kept in the memory order scipy multiplies a sparse message by
(Fortran order): the stock one copies the whole coefficient matrix at every
prediction, which with ~100,000 n-gram features was half the NLU time of a message
(3.1 ms against 1.6 ms, same predictions; docs/nlu.md).

`ContentRouter` puts content before intent.

It runs after the intent classifier and the FallbackClassifier. When the message's
content contradicts the predicted intent (`understanding.routing`), the intent is
replaced and the parse data says why, under `routed`:

    {"intent": {"name": "search_cars", "confidence": 1.0},
     "routed": {"from": "nlu_fallback", "reason": "names a car"}, ...}

The catalog's makes and models come from the database (`catalog_names`), so a car
added by `make catalog` is understood by a running server without retraining.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from understanding.catalog_names import catalog_names
from understanding.routing import route


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class LogisticRegressionIntentClassifier(LogisticRegressionClassifier):
    """Rasa's logistic regression, predicting without copying its coefficients."""

    def _contiguous(self) -> None:
        if hasattr(self.clf, "coef_"):
            self.clf.coef_ = np.asfortranarray(self.clf.coef_)

    def train(self, training_data: TrainingData) -> Resource:
        resource = super().train(training_data)
        self._contiguous()
        return resource

    @classmethod
    def load(cls, *args: Any, **kwargs: Any) -> "LogisticRegressionIntentClassifier":
        component = super().load(*args, **kwargs)
        component._contiguous()
        return component


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class ContentRouter(GraphComponent):
    """Replaces the predicted intent when the message's content asks for another capability."""

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "ContentRouter":
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        vocabulary = catalog_names().vocabulary()
        for message in messages:
            text = message.get(TEXT)
            if not text:
                continue
            intent = message.get(INTENT) or {}
            routed = route(text, intent.get("name"), vocabulary, intent.get("confidence") or 0.0)
            if routed is None:
                continue
            chosen = {"name": routed.intent, "confidence": 1.0}
            ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != routed.intent]
            message.set(INTENT, chosen, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [chosen, *ranking], add_to_output=True)
            message.set("routed", {"from": intent.get("name"), "reason": routed.reason}, add_to_output=True)
        return messages
