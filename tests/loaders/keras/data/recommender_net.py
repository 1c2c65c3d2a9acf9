"""RecommenderNet as the corpus's k3_subclassed_recommender was trained with (Hanzamas/Lamogan-Travel-RS,
main3.py at 9c4ca9cb): user and place embeddings plus biases, scored with tensordot over axes=2, which
contracts over the batch axis too, so every row's score depends on the whole batch."""
import keras


class RecommenderNet(keras.Model):
    def __init__(self, num_users, num_place, embedding_size, **kwargs):
        super().__init__(**kwargs)
        self.num_users, self.num_place, self.embedding_size = num_users, num_place, embedding_size
        self.user_embedding = keras.layers.Embedding(num_users, embedding_size, embeddings_initializer="he_normal",
                                                     embeddings_regularizer=keras.regularizers.l2(1e-6))
        self.user_bias = keras.layers.Embedding(num_users, 1)
        self.place_embedding = keras.layers.Embedding(num_place, embedding_size, embeddings_initializer="he_normal",
                                                      embeddings_regularizer=keras.regularizers.l2(1e-6))
        self.place_bias = keras.layers.Embedding(num_place, 1)

    def call(self, inputs):
        user_vector = self.user_embedding(inputs[:, 0])
        user_bias = self.user_bias(inputs[:, 0])
        place_vector = self.place_embedding(inputs[:, 1])
        place_bias = self.place_bias(inputs[:, 1])
        dot_user_place = keras.ops.tensordot(user_vector, place_vector, 2)
        return keras.ops.sigmoid(dot_user_place + user_bias + place_bias)

    def get_config(self):
        return {"num_users": self.num_users, "num_place": self.num_place, "embedding_size": self.embedding_size}
