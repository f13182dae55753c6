"""TensorFlow / TFRS models: job encoder, sequence aggregators, training and export.

Never imports pyspark; Keras is ``tf.keras`` only (Keras 2 through ``TF_USE_LEGACY_KERAS=1``).
"""
