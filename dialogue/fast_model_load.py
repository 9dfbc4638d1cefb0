"""Rasa's TensorFlow models (DIET, TED) loaded for prediction without a training step: most of Rasa's start.

Rasa 3.6 builds a saved model's variables by *training it on one example* (``RasaModel.load`` calls
``model.fit``) and then overwrites them with the saved weights. Tracing that training step, gradients
and optimizer included, took about 40 of the 55 seconds of a Rasa start on a quiet machine (py-spy), and
a restart is an outage for every citizen on that replica.

For prediction only the forward pass's variables are needed, so here they are built by one eager
prediction on Rasa's own example, the saved weights are restored over them, and the prediction graph is
traced once with those weights, as Rasa does after its training step. Training-only state (optimizer
slots) stays in the checkpoint, unread. Fine-tuning (``rasa train --finetune``) keeps Rasa's own load,
and so does any model this way cannot rebuild: the failure is logged and Rasa's load runs instead.

``bench/rasa_start.py`` compares both loads in one run, and checks that both give the same parses.
``BANSHI_RASA_FAST_LOAD=0`` turns this off.
"""

from __future__ import annotations

import logging
import os
from typing import Any

log = logging.getLogger("rasa.banshi")


def _load_for_prediction(cls: Any, model_file_name: str, predict_data_example: Any, *args: Any, **kwargs: Any) -> Any:
    import tensorflow as tf
    from rasa.utils.tensorflow.constants import LEARNING_RATE, RUN_EAGERLY
    from rasa.utils.train_utils import create_data_generators

    config = kwargs.get("config", {})
    model = cls(*args, **kwargs)
    optimizer = tf.keras.optimizers.Adam(config.get(LEARNING_RATE, 0.001))
    model.compile(optimizer=optimizer, run_eagerly=config.get(RUN_EAGERLY))
    generator, _ = create_data_generators(model_data=predict_data_example, batch_sizes=1, epochs=1, shuffle=False)
    model._training = False
    model.prepare_for_predict()  # eager: the label embeddings' layers get built
    model.batch_predict(next(iter(generator))[0])  # eager: every other layer a prediction uses gets built
    model.load_weights(model_file_name).expect_partial()  # the optimizer's slots are not wanted
    model.prepared_for_prediction = False  # the label embeddings above came from random weights
    model.run_inference(predict_data_example)  # Rasa's own last step: trace the prediction graph
    return model


def install() -> None:
    if os.environ.get("BANSHI_RASA_FAST_LOAD", "1") == "0":
        return
    from rasa.utils.tensorflow.models import RasaModel

    rasa_load = RasaModel.load.__func__

    def load(
        cls: Any,
        model_file_name: str,
        model_data_example: Any,
        predict_data_example: Any = None,
        finetune_mode: bool = False,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        if not finetune_mode and predict_data_example:
            try:
                model = _load_for_prediction(cls, model_file_name, predict_data_example, *args, **kwargs)
                log.info("%s loaded for prediction", cls.__name__)
                return model
            except Exception:
                log.exception("%s could not be loaded for prediction only: Rasa's own load runs", cls.__name__)
        return rasa_load(cls, model_file_name, model_data_example, predict_data_example, finetune_mode, *args, **kwargs)

    RasaModel.load = classmethod(load)
