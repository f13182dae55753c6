"""TensorFlow / TFRS models: job encoder, sequence aggregators, training, export and serving.

:mod:`tf_models.serving` runs an exported model on numpy / Arrow batches (batch inference calls it inside
``mapInArrow``); :mod:`tf_models.known_model` builds a tiny SavedModel with an exact formula for tests and demos.

Never imports pyspark; Keras is ``tf.keras`` only. TensorFlow Recommenders needs Keras 2, so this
package sets ``TF_USE_LEGACY_KERAS=1`` here — the one place — before any of its modules imports
TensorFlow: importing ``tf_models.<anything>`` runs this file first, so a plain ``import tensorflow as tf``
inside the package always gets Keras 2 as ``tf.keras``.
"""

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
if os.environ["TF_USE_LEGACY_KERAS"] != "1":  # pragma: no cover - a misconfigured environment
    raise ImportError("tf_models needs TF_USE_LEGACY_KERAS=1 (TensorFlow Recommenders runs on Keras 2)")
