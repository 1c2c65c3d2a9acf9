"""Keras files: .h5 (Keras 1/2 via tf_keras, Keras 3), .keras archives; the config safety scan,
layer replacement, lookup tables. Tracing itself runs in graphsurgeon.tf (the one place importing keras).
"""
